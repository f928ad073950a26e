// Prometheus text rendering of the server's metrics (see metrics.h).
#include "serve/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace wick::serve {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  ++counts_[static_cast<size_t>(it - bounds_.begin())];
  sum_ += v;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, count_);
  out += fmt::format("{}_sum {}\n{}_count {}\n", name, sum_, name, count_);
}

namespace {

std::vector<double> latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1,  0.15, 0.2,
          0.3,   0.5,    0.75,  1.0,  2.5,   5.0,  10.0,  20.0, 40.0, 80.0};
}

void counter(std::string& out, const char* name, const char* help, uint64_t v) {
  out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v);
}

void gauge(std::string& out, const char* name, const char* help, int64_t v) {
  out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name, name, v);
}

}  // namespace

Metrics::Metrics()
    : ttft_(latency_buckets()),
      itl_(latency_buckets()),
      e2e_(latency_buckets()),
      step_forward_(latency_buckets()),
      step_sample_(latency_buckets()) {}

void Metrics::request(const std::string& endpoint, int status) {
  std::lock_guard lock(mu_);
  ++requests_[{endpoint, status}];
}
void Metrics::prompt_tokens(int64_t n) {
  std::lock_guard lock(mu_);
  prompt_tokens_ += static_cast<uint64_t>(n);
}
void Metrics::generated_tokens(int64_t n) {
  std::lock_guard lock(mu_);
  generated_tokens_ += static_cast<uint64_t>(n);
}
void Metrics::ttft(double seconds) {
  std::lock_guard lock(mu_);
  ttft_.observe(seconds);
}
void Metrics::inter_token(double seconds) {
  std::lock_guard lock(mu_);
  itl_.observe(seconds);
}
void Metrics::request_latency(double seconds) {
  std::lock_guard lock(mu_);
  e2e_.observe(seconds);
}

void Metrics::step(double forward_seconds, double sample_seconds, int64_t tokens,
                   int64_t sequences) {
  std::lock_guard lock(mu_);
  step_forward_.observe(forward_seconds);
  step_sample_.observe(sample_seconds);
  step_tokens_ += static_cast<uint64_t>(tokens);
  step_sequences_ += static_cast<uint64_t>(sequences);
}

std::string Metrics::render(const Gauges& g) const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP wick_requests_total HTTP requests by endpoint and status\n";
  out += "# TYPE wick_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += fmt::format("wick_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n", key.first,
                       key.second, n);
  counter(out, "wick_prompt_tokens_total", "prompt tokens of admitted requests", prompt_tokens_);
  counter(out, "wick_generation_tokens_total", "generated tokens", generated_tokens_);
  counter(out, "wick_preemptions_total", "sequences preempted for KV memory (recomputed later)",
          static_cast<uint64_t>(g.preemptions));
  ttft_.render(out, "wick_time_to_first_token_seconds", "from submit to the first token");
  itl_.render(out, "wick_inter_token_latency_seconds", "between consecutive tokens of a sequence");
  e2e_.render(out, "wick_request_duration_seconds", "from submit to the last token");
  step_forward_.render(out, "wick_step_forward_seconds",
                       "one engine step's model forward (all its sequences)");
  step_sample_.render(out, "wick_step_sample_seconds",
                      "one engine step's host work on the logits (sampling, events)");
  counter(out, "wick_step_tokens_total", "tokens run through the model by engine steps",
          step_tokens_);
  counter(out, "wick_step_sequences_total", "sequences in engine steps, summed over steps",
          step_sequences_);
  gauge(out, "wick_queue_depth", "sequences waiting for admission", g.waiting);
  gauge(out, "wick_running_sequences", "sequences in the running batch", g.running);
  gauge(out, "wick_kv_blocks_used", "KV cache blocks held by sequences", g.kv_blocks_used);
  gauge(out, "wick_kv_blocks_total", "KV cache blocks in the pool", g.kv_blocks_total);
  gauge(out, "wick_open_connections", "open HTTP connections", g.connections);
  return out;
}

}  // namespace wick::serve
