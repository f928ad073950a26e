// `wick bench -m PATH [-p 512] [-n 128] [-t 1,2] [-r 5] [--json] [--membw] [--peak]
// [-b 8,32 [-d 128]]`: llama-bench's pp/tg throughput (markdown table or JSON list with
// llama-bench's fields); --membw measures the read bandwidth at 1 and all threads and, with -m,
// the share of it decode's weight reads use; --peak measures the SIMD multiply-add peak (int8
// vpdpbusd, f32 fma) at 1 and all threads; -b adds batched decode tests (tg<n>x<B>: B sequences
// of depth -d decoding together, logits copied to the host each step, as a server with B streams
// runs).
#include <cstdio>
#include <thread>

#include "command.h"
#include "core/error.h"
#include "core/simd_peak.h"
#include "core/thread_pool.h"
#include "device_flag.h"
#include "models/registry.h"
#include "tools/bench.h"

namespace wick::cli {
namespace {

struct BenchFlags {
  std::string model;
  int n_prompt = 512;
  int n_gen = 128;
  std::vector<int> threads;
  int reps = 5;
  bool json = false;
  bool membw = false;
  std::vector<int> batches;  // batched decode tests: sequences per step
  int depth = 128;           // tokens each sequence holds before a batched decode test
  bool peak = false;
  DeviceFlag device;
};

struct Bandwidth {
  int threads;
  double gbs;
};

std::vector<Bandwidth> measure_bandwidth() {
  const int all = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<Bandwidth> out{{1, tools::measure_read_bandwidth_gbs(1)}};
  if (all > 1) out.push_back({all, tools::measure_read_bandwidth_gbs(all)});
  return out;
}

struct Peak {
  int threads;
  double int8_gmacs;
  double f32_gmacs;
};

std::vector<Peak> measure_peaks() {
  const int all = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto at = [](int t) -> Peak {
    return {t, measure_simd_peak_gmacs(SimdPeakKind::kInt8Vnni, t),
            measure_simd_peak_gmacs(SimdPeakKind::kF32Fma, t)};
  };
  std::vector<Peak> out{at(1)};
  if (all > 1) out.push_back(at(all));
  return out;
}

// Decode's implied bandwidth: weight bytes per token x tok/s, and its share of the measured
// bandwidth at the same or the nearest lower thread count.
void print_implied_bandwidth(const tools::BenchModelInfo& info,
                             const std::vector<tools::BenchResult>& results,
                             const std::vector<Bandwidth>& bw) {
  for (const tools::BenchResult& r : results) {
    if (r.n_gen == 0 || r.n_seqs > 1) continue;
    const double gbs = static_cast<double>(info.decode_bytes_per_token) * r.avg_ts() / 1e9;
    std::printf("decode %s, -t %d: %.1f MiB weights/token x %.2f tok/s = %.2f GB/s",
                r.test_name().c_str(), r.n_threads,
                static_cast<double>(info.decode_bytes_per_token) / (1024.0 * 1024.0), r.avg_ts(),
                gbs);
    const Bandwidth* ref = nullptr;
    for (const Bandwidth& b : bw) {
      if (b.threads <= r.n_threads) ref = &b;
    }
    if (ref)
      std::printf(" (%.0f%% of %.2f GB/s measured at %d threads)", 100 * gbs / ref->gbs, ref->gbs,
                  ref->threads);
    std::printf("\n");
  }
}

int run(const BenchFlags& f) {
  WICK_CHECK(!f.model.empty() || f.membw || f.peak, ErrorKind::kInvalidArgument,
             "wick bench needs -m MODEL, --membw or --peak");
  WICK_CHECK(f.n_prompt >= 0 && f.n_gen >= 0 && f.reps >= 1, ErrorKind::kInvalidArgument,
             "-p and -n must be >= 0 and -r >= 1");
  std::vector<Bandwidth> bw;
  if (f.membw) {
    bw = measure_bandwidth();
    if (!f.json) {
      for (const Bandwidth& b : bw)
        std::printf("read bandwidth, %d thread%s: %.2f GB/s\n", b.threads,
                    b.threads == 1 ? "" : "s", b.gbs);
    }
  }
  std::vector<Peak> peaks;
  if (f.peak) {
    peaks = measure_peaks();
    if (!f.json) {
      for (const Peak& p : peaks)
        std::printf(
            "SIMD peak, %d thread%s: int8 (vpdpbusd zmm) %.1f GMAC/s = %.1f GOP/s, f32 "
            "(fma zmm) %.1f GFLOP/s\n",
            p.threads, p.threads == 1 ? "" : "s", p.int8_gmacs, 2 * p.int8_gmacs, 2 * p.f32_gmacs);
    }
  }
  if (f.model.empty()) {
    if (f.json) {
      nlohmann::json out = nlohmann::json::array();
      for (const Bandwidth& b : bw) out.push_back({{"n_threads", b.threads}, {"read_gbs", b.gbs}});
      for (const Peak& p : peaks)
        out.push_back({{"n_threads", p.threads},
                       {"int8_gops", 2 * p.int8_gmacs},
                       {"f32_gflops", 2 * p.f32_gmacs}});
      std::printf("%s\n", out.dump(2).c_str());
    }
    return 0;
  }
  const tools::BenchModelInfo info = tools::describe_bench_model(f.model);
  const Device device = f.device.resolve();
  models::LoadedModel loaded = models::load_model(f.model, device);
  if (!f.json) std::printf("device: %s\n", device.str().c_str());
  std::vector<int> threads = f.threads;
  if (threads.empty()) threads.push_back(ThreadPool::global().size());
  std::vector<tools::BenchResult> results;
  if (!f.json) std::printf("%s\n", tools::bench_table_header().c_str());
  for (int t : threads) {
    WICK_CHECK(t >= 1, ErrorKind::kInvalidArgument, "-t: thread count {} must be >= 1", t);
    ThreadPool::set_global_threads(t);
    for (const auto& [p, n] : {std::pair{f.n_prompt, 0}, std::pair{0, f.n_gen}}) {
      if (p == 0 && n == 0) continue;
      results.push_back(tools::run_bench_test(*loaded.model, p, n, f.reps));
      if (!f.json) {
        std::printf("%s\n", tools::bench_table_row(info, results.back()).c_str());
        std::fflush(stdout);
      }
    }
    for (int b : f.batches) {
      WICK_CHECK(b >= 1, ErrorKind::kInvalidArgument, "-b: batch {} must be >= 1", b);
      if (f.n_gen == 0) break;
      results.push_back(tools::run_batched_decode_test(*loaded.model, b, f.depth, f.n_gen, f.reps));
      if (!f.json) {
        std::printf("%s\n", tools::bench_table_row(info, results.back()).c_str());
        std::fflush(stdout);
      }
    }
  }
  if (f.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const tools::BenchResult& r : results) out.push_back(tools::bench_result_json(info, r));
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("\n");
    print_implied_bandwidth(info, results, bw);
  }
  return 0;
}

CommandRegistration reg(
    "bench", "measure prefill/decode tokens per second (llama-bench style)", [](CLI::App& sub) {
      auto f = std::make_shared<BenchFlags>();
      sub.add_option("-m,--model", f->model, "HF folder or .gguf file");
      sub.add_option("-p,--n-prompt", f->n_prompt, "prompt tokens for the pp test (0: skip)")
          ->capture_default_str();
      sub.add_option("-n,--n-gen", f->n_gen, "generated tokens for the tg test (0: skip)")
          ->capture_default_str();
      sub.add_option("-t,--threads", f->threads, "thread counts, comma-separated (default: all)")
          ->delimiter(',');
      sub.add_option("-r,--repetitions", f->reps, "timed repetitions after one warm-up")
          ->capture_default_str();
      sub.add_flag("--json", f->json, "print a JSON list with llama-bench's fields");
      sub.add_flag("--membw", f->membw, "measure the read bandwidth (1 and all threads)");
      sub.add_option("-b,--batch", f->batches,
                     "batched decode tests: sequences per step, comma-separated (e.g. 8,32,128)")
          ->delimiter(',');
      sub.add_option("-d,--depth", f->depth, "tokens per sequence before a batched decode test")
          ->capture_default_str();
      sub.add_flag("--peak", f->peak,
                   "measure the SIMD int8/f32 multiply-add peak (1 and all threads)");
      f->device.add(sub);
      return [f] { return run(*f); };
    });

}  // namespace
}  // namespace wick::cli
