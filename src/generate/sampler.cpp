// Sampling stages (see sampler.h).
#include "generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

#include "core/error.h"

namespace wick::gen {

Candidates Candidates::from_logits(std::span<const float> logits) {
  Candidates c;
  c.ids.resize(logits.size());
  std::iota(c.ids.begin(), c.ids.end(), 0);
  c.values.assign(logits.begin(), logits.end());
  return c;
}

namespace {

void sort_descending(Candidates& c, size_t keep) {
  keep = std::min(keep, c.size());
  std::vector<size_t> order(c.size());
  std::iota(order.begin(), order.end(), size_t{0});
  auto by_value = [&](size_t a, size_t b) {
    return c.values[a] > c.values[b] || (c.values[a] == c.values[b] && c.ids[a] < c.ids[b]);
  };
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                    by_value);
  Candidates out;
  for (size_t i = 0; i < keep; ++i) {
    out.ids.push_back(c.ids[order[i]]);
    out.values.push_back(c.values[order[i]]);
  }
  out.sorted = true;
  c = std::move(out);
}

void truncate(Candidates& c, size_t n) {
  c.ids.resize(n);
  c.values.resize(n);
}

}  // namespace

void sampler_repetition_penalty(Candidates& c, std::span<const int32_t> history, float penalty) {
  if (penalty == 1.0f || history.empty()) return;
  std::unordered_set<int32_t> seen(history.begin(), history.end());
  for (size_t i = 0; i < c.size(); ++i) {
    if (!seen.count(c.ids[i])) continue;
    float& v = c.values[i];
    v = v > 0 ? v / penalty : v * penalty;
  }
  c.sorted = false;
}

void sampler_temperature(Candidates& c, float temperature) {
  WICK_CHECK(temperature > 0, ErrorKind::kInvalidArgument, "temperature must be positive, got {}",
             temperature);
  for (float& v : c.values) v /= temperature;
}

void sampler_top_k(Candidates& c, int k) {
  if (k <= 0 || static_cast<size_t>(k) >= c.size()) {
    if (!c.sorted) sort_descending(c, c.size());
    return;
  }
  sort_descending(c, static_cast<size_t>(k));
}

void sampler_softmax(Candidates& c) {
  if (c.ids.empty()) return;
  const float m = *std::max_element(c.values.begin(), c.values.end());
  double sum = 0;
  for (float& v : c.values) {
    v = std::exp(v - m);
    sum += v;
  }
  for (float& v : c.values) v = static_cast<float>(v / sum);
}

void sampler_top_p(Candidates& c, float p) {
  if (p >= 1.0f) return;
  if (!c.sorted) sort_descending(c, c.size());
  double mass = 0;
  size_t n = 0;
  while (n < c.size()) {
    mass += c.values[n++];
    if (mass >= p) break;
  }
  truncate(c, std::max<size_t>(n, 1));
}

void sampler_min_p(Candidates& c, float min_p) {
  if (min_p <= 0.0f || c.ids.empty()) return;
  if (!c.sorted) sort_descending(c, c.size());
  const float floor = min_p * c.values[0];
  size_t n = 1;
  while (n < c.size() && c.values[n] >= floor) ++n;
  truncate(c, n);
}

int32_t sampler_argmax(const Candidates& c) {
  WICK_CHECK(!c.ids.empty(), ErrorKind::kInvalidArgument, "sampler: no candidates");
  size_t best = 0;
  for (size_t i = 1; i < c.size(); ++i)
    if (c.values[i] > c.values[best]) best = i;
  return c.ids[best];
}

int32_t sampler_draw(const Candidates& c, Rng& rng) {
  WICK_CHECK(!c.ids.empty(), ErrorKind::kInvalidArgument, "sampler: no candidates");
  double total = 0;
  for (float v : c.values) total += v;
  double r = rng.uniform() * total;
  for (size_t i = 0; i < c.size(); ++i) {
    r -= c.values[i];
    if (r < 0) return c.ids[i];
  }
  return c.ids.back();
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  Candidates c = Candidates::from_logits(logits);
  if (params_.repeat_last_n > 0 && history.size() > static_cast<size_t>(params_.repeat_last_n))
    history = history.last(static_cast<size_t>(params_.repeat_last_n));
  sampler_repetition_penalty(c, history, params_.repeat_penalty);
  if (params_.temperature <= 0.0f) return sampler_argmax(c);
  sampler_temperature(c, params_.temperature);
  sampler_top_k(c, params_.top_k);
  sampler_softmax(c);
  sampler_top_p(c, params_.top_p);
  sampler_min_p(c, params_.min_p);
  return sampler_draw(c, rng_);
}

}  // namespace wick::gen
