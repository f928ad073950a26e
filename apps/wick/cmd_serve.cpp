// `wick serve -m PATH`: the OpenAI-compatible HTTP server (src/serve/) with continuous
// batching. Loads the model bundle, sizes the KV block pool from --kv-memory, serves until
// SIGTERM/SIGINT, then drains (no new requests, running ones finish) and exits 0.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>

#include "backend/backend.h"
#include "command.h"
#include "device_flag.h"
#include "core/thread_pool.h"
#include "generate/bundle.h"
#include "serve/engine.h"
#include "serve/server.h"

namespace wick::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) {
  g_stop = 1;
}

struct ServeFlags {
  std::string model;
  std::string model_name;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  std::string kv_memory;  // bytes, or with KiB/MiB/GiB
  int threads = 0;
  int64_t ctx_size = 0;
  serve::EngineOptions engine;
  serve::HttpLimits limits;
  int max_connections = 512;
  double generation_timeout_s = 600;
  gen::SamplingParams sampling;
  DeviceFlag device;
};

// "512MiB", "2GiB", "1000000" -> bytes.
int64_t parse_bytes(const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    fail(ErrorKind::kInvalidArgument, "--kv-memory: \"{}\" is not a size (e.g. 512MiB)", text);
  }
  const std::string unit = text.substr(used);
  double scale = 1;
  if (unit == "KiB" || unit == "K" || unit == "KB")
    scale = 1024.0;
  else if (unit == "MiB" || unit == "M" || unit == "MB")
    scale = 1024.0 * 1024;
  else if (unit == "GiB" || unit == "G" || unit == "GB")
    scale = 1024.0 * 1024 * 1024;
  else if (!unit.empty() && unit != "B")
    fail(ErrorKind::kInvalidArgument, "--kv-memory: unknown unit \"{}\" (B, KiB, MiB, GiB)", unit);
  WICK_CHECK(v > 0, ErrorKind::kInvalidArgument, "--kv-memory: {} must be > 0", text);
  return static_cast<int64_t>(v * scale);
}

int serve_main(const ServeFlags& f0) {
  ServeFlags f = f0;
  if (f.threads > 0) ThreadPool::set_global_threads(f.threads);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);

  const Device device = f.device.resolve();
  gen::ModelBundle bundle = gen::load_bundle(f.model, true, device);
  const models::ModelConfig& cfg = bundle.model().config();
  const int64_t block_bytes = serve::KvBlocks::bytes_per_block(cfg, f.engine.block_size);
  int64_t kv_bytes = 0;
  size_t dev_free = 0, dev_total = 0;
  Backend* backend = device.is_cpu() ? nullptr : find_backend(device.type);
  if (!f.kv_memory.empty()) {
    kv_bytes = parse_bytes(f.kv_memory);
  } else if (backend != nullptr && backend->memory_info(device, &dev_free, &dev_total)) {
    // default on a GPU: half of the memory the weights left free (activations, graphs and
    // cuBLAS take some of the rest)
    kv_bytes = static_cast<int64_t>(dev_free / 2);
  } else {  // default: a tenth of physical memory, at most 4 GiB
    const auto phys = static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGESIZE);
    kv_bytes = std::min<int64_t>(phys / 10, int64_t{4} << 30);
  }
  f.engine.kv_blocks = std::max<int64_t>(1, kv_bytes / block_bytes);
  f.engine.max_context = f.ctx_size > 0 ? std::min(f.ctx_size, cfg.max_position_embeddings)
                                        : cfg.max_position_embeddings;

  serve::Metrics metrics;
  serve::Engine engine(bundle.model(), bundle.tokenizer.get(), bundle.eos_ids, f.engine, &metrics);
  serve::ServedModel served;
  served.name = f.model_name.empty() ? f.model : f.model_name;
  served.tokenizer = bundle.tokenizer.get();
  served.chat_template = bundle.chat_template.get();
  served.max_context = engine.max_context();
  served.vocab_size = cfg.vocab_size;
  served.eos_ids = bundle.eos_ids;
  served.defaults = f.sampling;
  serve::ServerOptions so;
  so.host = f.host;
  so.port = f.port;
  so.api_key = f.api_key;
  so.limits = f.limits;
  so.max_connections = f.max_connections;
  so.generation_timeout_s = f.generation_timeout_s;
  serve::Server server(engine, served, metrics, so);
  std::fprintf(stderr,
               "wick serve: %s on %s, http://%s:%d (KV pool %lld blocks of %lld tokens = %.0f MiB, "
               "context %lld, max batch %d)\n",
               served.name.c_str(), device.str().c_str(), f.host.c_str(), server.port(),
               static_cast<long long>(f.engine.kv_blocks),
               static_cast<long long>(f.engine.block_size),
               static_cast<double>(f.engine.kv_blocks * block_bytes) / (1 << 20),
               static_cast<long long>(engine.max_context()), f.engine.max_batch);
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!g_stop && !done) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (g_stop) std::fprintf(stderr, "wick serve: draining\n");
    server.request_stop();
  });
  server.run();
  done = true;
  watcher.join();
  std::fprintf(stderr, "wick serve: stopped\n");
  return 0;
}

CommandRegistration reg(
    "serve", "OpenAI-compatible HTTP server with continuous batching", [](CLI::App& sub) {
      auto f = std::make_shared<ServeFlags>();
      sub.add_option("-m,--model", f->model, "HF folder or .gguf file")->required();
      sub.add_option("--model-name", f->model_name, "the id clients use (default: the path)");
      sub.add_option("--host", f->host, "address to listen on")->capture_default_str();
      sub.add_option("--port", f->port, "TCP port (0: any free port)")->capture_default_str();
      sub.add_option("--api-key", f->api_key, "require Authorization: Bearer KEY");
      sub.add_option("--kv-memory", f->kv_memory,
                     "KV cache pool size: bytes or KiB/MiB/GiB (default: on a GPU half its free memory "
                     "after loading, on the CPU 1/10 of RAM, <= 4 GiB)");
      sub.add_option("--max-batch", f->engine.max_batch, "running sequences per step")
          ->capture_default_str();
      sub.add_option("--step-tokens", f->engine.step_tokens,
                     "tokens per forward (decode + chunked prefill)")
          ->capture_default_str();
      sub.add_option("--max-queue", f->engine.max_queue, "waiting requests before 503")
          ->capture_default_str();
      sub.add_flag("!--no-prefix-caching", f->engine.prefix_caching,
                   "recompute every prompt (no KV block sharing between requests)");
      sub.add_option("-c,--ctx-size", f->ctx_size, "context length (default: the model's)");
      sub.add_option("-t,--threads", f->threads, "CPU threads (default: all cores)");
      sub.add_option("--max-connections", f->max_connections, "open connections before 503")
          ->capture_default_str();
      sub.add_option("--max-body-bytes", f->limits.body_bytes, "largest request body")
          ->capture_default_str();
      sub.add_option("--max-header-bytes", f->limits.header_bytes, "largest request header")
          ->capture_default_str();
      sub.add_option("--idle-timeout", f->limits.idle_timeout_s,
                     "seconds a keep-alive connection idles")
          ->capture_default_str();
      sub.add_option("--request-timeout", f->limits.request_timeout_s,
                     "seconds to receive one request / to write one response")
          ->capture_default_str();
      sub.add_option("--generation-timeout", f->generation_timeout_s,
                     "seconds a generation may run before it is cancelled")
          ->capture_default_str();
      sub.add_option("--temperature,--temp", f->sampling.temperature,
                     "default when a request omits it")
          ->capture_default_str();
      sub.add_option("--top-k", f->sampling.top_k, "default top_k")->capture_default_str();
      sub.add_option("--top-p", f->sampling.top_p, "default top_p")->capture_default_str();
      sub.add_option("--min-p", f->sampling.min_p, "default min_p")->capture_default_str();
      f->device.add(sub);
      return [f] { return serve_main(*f); };
    });

}  // namespace
}  // namespace wick::cli
