// Metrics: the server's counters and latency histograms, rendered as Prometheus text
// (exposition format 0.0.4) for GET /metrics. The engine records tokens and latencies, the
// HTTP side records requests; gauges (queue depth, running sequences, KV blocks) are sampled
// from the engine when /metrics is read. All methods are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace wick::serve {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // Appends the _bucket/_sum/_count lines of metric `name`.
  void render(std::string& out, const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bound, not cumulative; last: +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

struct Gauges {
  int64_t waiting = 0, running = 0, kv_blocks_used = 0, kv_blocks_total = 0, connections = 0;
  int64_t preemptions = 0;
};

class Metrics {
 public:
  Metrics();
  void request(const std::string& endpoint, int status);
  void prompt_tokens(int64_t n);
  void generated_tokens(int64_t n);
  void ttft(double seconds);
  void inter_token(double seconds);
  void request_latency(double seconds);
  // One engine step: the model forward over `tokens` tokens of `sequences` sequences, then the
  // host work on its logits (sampling, constraints, detokenizing, events).
  void step(double forward_seconds, double sample_seconds, int64_t tokens, int64_t sequences);
  std::string render(const Gauges& g) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  uint64_t prompt_tokens_ = 0, generated_tokens_ = 0;
  uint64_t step_tokens_ = 0, step_sequences_ = 0;
  Histogram ttft_, itl_, e2e_, step_forward_, step_sample_;
};

}  // namespace wick::serve
