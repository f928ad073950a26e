// llama-bench's pp/tg tests over wick's Model API, their statistics, table and JSON; the read
// bandwidth probe.
#include "tools/bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <numeric>
#include <random>

#include "core/error.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "formats/weight_source.h"
#include "tools/quant_recipe.h"

namespace wick::tools {
namespace {

double mean(const std::vector<double>& v) {
  return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// Sample standard deviation, as llama-bench (0 for fewer than two samples).
double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

// "135M", "1.2B": llama-bench's parameter count label.
std::string params_label(uint64_t n) {
  const double d = static_cast<double>(n);
  if (d >= 1e9) return fmt::format("{:.1f}B", d / 1e9);
  if (d >= 1e6) return fmt::format("{:.0f}M", d / 1e6);
  return fmt::format("{:.0f}K", d / 1e3);
}

std::string size_label(uint64_t bytes) {
  const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
  return mib >= 1024 ? fmt::format("{:.2f} GiB", mib / 1024) : fmt::format("{:.2f} MiB", mib);
}

std::string quant_label(const std::string& path, const WeightSource& ws) {
  if (const auto* g = dynamic_cast<const GgufWeightSource*>(&ws)) {
    if (const GgufValue* v = g->file().find("general.file_type"); v && v->as_u64()) {
      const std::string name = file_type_name(static_cast<uint32_t>(*v->as_u64()));
      if (!name.empty()) return name;
    }
  }
  for (const std::string& name : ws.names()) {
    const WeightInfo info = ws.info(name);
    if (info.shape.size() >= 2) return fmt::format("{}", dtype_name(info.dtype));
  }
  return "?";
}

double elapsed_ns(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - since).count();
}

// One timed run: a pp test is one forward of n_prompt tokens, a tg test n_gen forwards of one.
double time_once(const models::Model& model, int n_prompt, int n_gen, std::mt19937_64& rng) {
  std::uniform_int_distribution<int32_t> pick(0,
                                              static_cast<int32_t>(model.config().vocab_size) - 1);
  nn::KvCache cache = model.make_cache();
  cache.add_sequence(0);
  std::vector<int32_t> prompt(static_cast<size_t>(n_prompt));
  for (int32_t& t : prompt) t = pick(rng);
  const auto start = std::chrono::steady_clock::now();
  if (n_prompt > 0) {
    const models::BatchItem item{0, prompt, false};
    model.forward({&item, 1}, cache);
  }
  for (int i = 0; i < n_gen; ++i) {
    const int32_t token = pick(rng);
    const models::BatchItem item{0, {&token, 1}, false};
    model.forward({&item, 1}, cache);
  }
  return elapsed_ns(start);
}

double time_batched_decode(const models::Model& model, int n_seqs, int depth, int n_gen,
                           std::mt19937_64& rng) {
  std::uniform_int_distribution<int32_t> pick(0,
                                              static_cast<int32_t>(model.config().vocab_size) - 1);
  nn::KvCacheOptions options;
  options.device = model.device();
  // A fixed pool large enough for the whole run, as a server's: no growth during the timed steps.
  const int64_t per_seq = (depth + n_gen) / options.block_size + 2;
  options.max_blocks = per_seq * n_seqs;
  nn::KvCache cache = model.make_cache(options);
  std::vector<std::vector<int32_t>> prompts(static_cast<size_t>(n_seqs));
  std::vector<models::BatchItem> items;
  for (int s = 0; s < n_seqs; ++s) {
    cache.add_sequence(s);
    auto& p = prompts[static_cast<size_t>(s)];
    p.resize(static_cast<size_t>(std::max(depth, 1)));
    for (int32_t& t : p) t = pick(rng);
    items.push_back({s, p, false});
  }
  model.forward(items, cache);
  std::vector<int32_t> next(static_cast<size_t>(n_seqs));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n_gen; ++i) {
    for (int s = 0; s < n_seqs; ++s) {
      next[static_cast<size_t>(s)] = pick(rng);
      items[static_cast<size_t>(s)] = {s, {&next[static_cast<size_t>(s)], 1}, false};
    }
    // forward returns the logits on the host (a server samples there): the copy is timed.
    const Tensor logits = model.forward(items, cache);
    WICK_CHECK(logits.device().is_cpu() && logits.dim(0) == n_seqs, ErrorKind::kInternal,
               "batched decode: logits {} for {} sequences", logits.str(), n_seqs);
  }
  return elapsed_ns(start);
}

}  // namespace

BenchModelInfo describe_bench_model(const std::string& path) {
  std::unique_ptr<WeightSource> ws = open_weight_source(path);
  BenchModelInfo info;
  info.filename = path;
  const bool tied = !ws->contains("lm_head.weight");
  for (const std::string& name : ws->names()) {
    const WeightInfo w = ws->info(name);
    uint64_t numel = 1;
    for (int64_t d : w.shape) numel *= static_cast<uint64_t>(d);
    info.n_params += numel;
    info.size_bytes += w.n_bytes;
    if (name != "model.embed_tokens.weight" || tied) info.decode_bytes_per_token += w.n_bytes;
  }
  std::string arch = "model";
  if (const auto* g = dynamic_cast<const GgufWeightSource*>(ws.get())) {
    arch = std::string(g->file().architecture());
  } else if (std::filesystem::is_directory(path)) {
    arch = "hf";
  }
  info.type = fmt::format("{} {} {}", arch, params_label(info.n_params), quant_label(path, *ws));
  return info;
}

double BenchResult::avg_ns() const {
  return mean(samples_ns);
}
double BenchResult::stddev_ns() const {
  return stddev(samples_ns);
}
std::vector<double> BenchResult::samples_ts() const {
  std::vector<double> ts;
  for (double ns : samples_ns) ts.push_back(1e9 * n_tokens() / ns);
  return ts;
}
double BenchResult::avg_ts() const {
  return mean(samples_ts());
}
double BenchResult::stddev_ts() const {
  return stddev(samples_ts());
}
std::string BenchResult::test_name() const {
  if (n_seqs > 0) return fmt::format("tg{}x{}", n_gen, n_seqs);
  if (n_prompt > 0 && n_gen > 0) return fmt::format("pp{}+tg{}", n_prompt, n_gen);
  return n_prompt > 0 ? fmt::format("pp{}", n_prompt) : fmt::format("tg{}", n_gen);
}

BenchResult run_bench_test(const models::Model& model, int n_prompt, int n_gen, int reps,
                           uint64_t seed) {
  BenchResult r;
  r.n_threads = ThreadPool::global().size();
  r.n_prompt = n_prompt;
  r.n_gen = n_gen;
  std::mt19937_64 rng(seed);
  time_once(model, n_prompt, n_gen, rng);  // warm-up: page in weights, size caches
  for (int i = 0; i < reps; ++i) r.samples_ns.push_back(time_once(model, n_prompt, n_gen, rng));
  return r;
}

BenchResult run_batched_decode_test(const models::Model& model, int n_seqs, int depth, int n_gen,
                                    int reps, uint64_t seed) {
  WICK_CHECK(n_seqs >= 1 && n_gen >= 1 && depth >= 0, ErrorKind::kInvalidArgument,
             "batched decode: sequences {} and steps {} must be >= 1, depth {} >= 0", n_seqs, n_gen,
             depth);
  BenchResult r;
  r.n_threads = ThreadPool::global().size();
  r.n_gen = n_gen;
  r.n_seqs = n_seqs;
  r.depth = depth;
  std::mt19937_64 rng(seed);
  time_batched_decode(model, n_seqs, depth, n_gen, rng);  // warm-up (and graph recording)
  for (int i = 0; i < reps; ++i)
    r.samples_ns.push_back(time_batched_decode(model, n_seqs, depth, n_gen, rng));
  return r;
}

nlohmann::json bench_result_json(const BenchModelInfo& model, const BenchResult& r) {
  const std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::vector<int64_t> samples_ns;
  for (double ns : r.samples_ns) samples_ns.push_back(static_cast<int64_t>(ns));
  return {{"build_commit", "unknown"},
          {"build_number", 0},
          {"backends", "CPU"},
          {"model_filename", model.filename},
          {"model_type", model.type},
          {"model_size", model.size_bytes},
          {"model_n_params", model.n_params},
          {"n_batch", std::max(r.n_prompt, 1)},
          {"n_threads", r.n_threads},
          {"n_prompt", r.n_prompt},
          {"n_gen", r.n_gen},
          {"n_depth", r.depth},
          {"n_seqs", std::max(r.n_seqs, 1)},
          {"test_time", when},
          {"avg_ns", static_cast<int64_t>(r.avg_ns())},
          {"stddev_ns", static_cast<int64_t>(r.stddev_ns())},
          {"avg_ts", r.avg_ts()},
          {"stddev_ts", r.stddev_ts()},
          {"samples_ns", samples_ns},
          {"samples_ts", r.samples_ts()}};
}

std::string bench_table_header() {
  return "| model | size | params | backend | threads | test | t/s |\n"
         "| --- | ---: | ---: | --- | ---: | ---: | ---: |";
}

std::string bench_table_row(const BenchModelInfo& model, const BenchResult& r) {
  return fmt::format("| {} | {} | {} | CPU | {} | {} | {:.2f} ± {:.2f} |", model.type,
                     size_label(model.size_bytes), params_label(model.n_params), r.n_threads,
                     r.test_name(), r.avg_ts(), r.stddev_ts());
}

double measure_read_bandwidth_gbs(int threads, size_t buffer_bytes, int reps) {
  ThreadPool::set_global_threads(threads);
  const size_t n = buffer_bytes / sizeof(uint64_t);
  std::vector<uint64_t> buf(n, 1);  // written once so every page is resident
  double best = 0;
  for (int rep = 0; rep < reps; ++rep) {
    std::atomic<uint64_t> total{0};
    const auto start = std::chrono::steady_clock::now();
    parallel_for(static_cast<int64_t>(n), 1 << 17, [&](int64_t begin, int64_t end) {
      // Independent accumulators so the loop is bound by loads, not by one add chain; the
      // compiler vectorises it.
      uint64_t acc[8] = {};
      int64_t i = begin;
      for (; i + 8 <= end; i += 8) {
        for (int j = 0; j < 8; ++j) acc[j] += buf[static_cast<size_t>(i + j)];
      }
      uint64_t s = 0;
      for (uint64_t a : acc) s += a;
      for (; i < end; ++i) s += buf[static_cast<size_t>(i)];
      total.fetch_add(s);
    });
    const double seconds = elapsed_ns(start) / 1e9;
    if (total.load() != n) return 0;  // keeps the sum live; cannot happen
    best = std::max(best, static_cast<double>(buffer_bytes) / seconds / 1e9);
  }
  return best;
}

}  // namespace wick::tools
