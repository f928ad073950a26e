// Soft sampling stages (see sampler.h): temperature, dynamic temperature, top-k, top-p, min-p,
// typical-p, top-n-sigma, epsilon, eta, XTC, softmax and the draw. Stages that need an order
// sort only as far as they look (a growing sorted prefix), so a 150k vocabulary is never fully
// sorted by top-k, top-p or XTC.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <queue>

#include "core/error.h"
#include "generate/sampler_internal.h"

namespace wick::gen {

Candidates Candidates::from_logits(std::span<const float> logits) {
  Candidates c;
  c.assign_logits(logits);
  return c;
}

void Candidates::assign_logits(std::span<const float> logits) {
  ids.resize(logits.size());
  std::iota(ids.begin(), ids.end(), 0);
  // NaN (a numerically broken model) becomes -inf: every comparison below then stays a strict
  // weak order, which std::sort and the heaps need to stay in bounds.
  values.assign(logits.begin(), logits.end());
  for (float& v : values)
    if (std::isnan(v)) v = -std::numeric_limits<float>::infinity();
  sorted = probs = false;
  by_id = true;
}

namespace detail {

void sort_range(Candidates& c, size_t from, size_t to) {
  const size_t n = c.size();
  to = std::min(to, n);
  if (from >= to) return;
  std::vector<std::pair<float, int32_t>> v(n - from);
  for (size_t i = from; i < n; ++i) v[i - from] = {c.values[i], c.ids[i]};
  auto cmp = [](const auto& a, const auto& b) {
    return better(a.first, a.second, b.first, b.second);
  };
  std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(to - from), v.end(), cmp);
  for (size_t i = from; i < n; ++i) {
    c.values[i] = v[i - from].first;
    c.ids[i] = v[i - from].second;
  }
  c.by_id = false;
  if (to == n) c.sorted = true;
}

void truncate(Candidates& c, size_t n) {
  if (n >= c.size()) return;
  c.ids.resize(n);
  c.values.resize(n);
}

void ensure_probs(Candidates& c) {
  if (!c.probs) {
    sampler_softmax(c);
    return;
  }
  const double sum = sum_values(c.values);
  if (sum <= 0) return;
  const float inv = static_cast<float>(1.0 / sum);
  for (float& v : c.values) v *= inv;
}

void ensure_logits(Candidates& c) {
  if (!c.probs) return;
  for (float& v : c.values) v = std::log(v);  // log 0 = -inf: still excluded
  c.probs = false;
}

float max_value(std::span<const float> v) {
  // 16 independent lanes: vectorises, unlike the serial chain of std::max_element. Starting
  // from -inf with `x > lane` also skips NaN.
  constexpr size_t kLanes = 16;
  const float lowest = -std::numeric_limits<float>::infinity();
  float lanes[kLanes];
  for (float& l : lanes) l = lowest;
  size_t i = 0;
  for (; i + kLanes <= v.size(); i += kLanes)
    for (size_t j = 0; j < kLanes; ++j) lanes[j] = v[i + j] > lanes[j] ? v[i + j] : lanes[j];
  float m = lowest;
  for (size_t j = 0; j < kLanes; ++j) m = lanes[j] > m ? lanes[j] : m;
  for (; i < v.size(); ++i) m = v[i] > m ? v[i] : m;
  return m;
}

double sum_values(std::span<const float> v) {
  double lanes[4] = {0, 0, 0, 0};  // independent adds: no 4-cycle chain per element
  size_t i = 0;
  for (; i + 4 <= v.size(); i += 4)
    for (size_t j = 0; j < 4; ++j) lanes[j] += v[i + j];
  for (; i < v.size(); ++i) lanes[0] += v[i];
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

void select_top_k(const float* v, const int32_t* ids, size_t n, size_t kk, Candidates& out) {
  // A heap of the k best so far. Blocks of 16 are first tested against the heap's worst value
  // with a vectorisable compare, so most of a large vocabulary costs a fraction of a cycle.
  using Item = std::pair<float, int32_t>;
  auto worse_first = [](const Item& a, const Item& b) {
    return better(a.first, a.second, b.first, b.second);
  };
  auto item = [&](size_t at) {  // NaN as -inf keeps the heap's order strict
    const float x = std::isnan(v[at]) ? -std::numeric_limits<float>::infinity() : v[at];
    return Item{x, ids ? ids[at] : static_cast<int32_t>(at)};
  };
  std::priority_queue<Item, std::vector<Item>, decltype(worse_first)> heap(worse_first);
  size_t i = 0;
  for (; i < kk; ++i) heap.push(item(i));
  float floor = heap.top().first;
  auto consider = [&](size_t at) {
    const Item x = item(at);
    if (!better(x.first, x.second, heap.top().first, heap.top().second)) return;
    heap.pop();
    heap.push(x);
    floor = heap.top().first;
  };
  constexpr size_t kBlock = 16;
  for (; i + kBlock <= n; i += kBlock) {
    int any = 0;
    for (size_t j = 0; j < kBlock; ++j) any |= v[i + j] >= floor;
    if (!any) continue;
    for (size_t j = 0; j < kBlock; ++j) consider(i + j);
  }
  for (; i < n; ++i) consider(i);
  out.ids.resize(kk);
  out.values.resize(kk);
  for (size_t r = kk; r-- > 0;) {
    out.values[r] = heap.top().first;
    out.ids[r] = heap.top().second;
    heap.pop();
  }
  out.sorted = true;
  out.by_id = false;
}

size_t draw_index(const Candidates& c, Rng& rng) {
  WICK_CHECK(!c.ids.empty(), ErrorKind::kInvalidArgument, "sampler: no candidates");
  double total = 0;
  for (float v : c.values) total += v;
  double r = rng.uniform() * total;
  for (size_t i = 0; i < c.size(); ++i) {
    r -= c.values[i];
    if (r < 0) return i;
  }
  // Rounding left r >= 0: the last candidate with non-zero mass.
  for (size_t i = c.size(); i-- > 0;)
    if (c.values[i] > 0) return i;
  return c.size() - 1;
}

double entropy(const Candidates& c) {  // c: normalised probabilities
  double h = 0;
  for (float p : c.values)
    if (p > 0) h -= p * std::log(static_cast<double>(p));
  return h;
}

}  // namespace detail

using namespace detail;

namespace {
// Below this a temperature is greedy: logits / t would reach infinity for ordinary logits.
constexpr float kMinTemperature = 1e-6f;
}  // namespace

void sampler_temperature(Candidates& c, float temperature) {
  WICK_CHECK(temperature > 0, ErrorKind::kInvalidArgument, "temperature must be positive, got {}",
             temperature);
  if (temperature < kMinTemperature) return sampler_top_k(c, 1);  // 1 / t would overflow
  ensure_logits(c);
  const float inv = 1.0f / temperature;  // a multiply vectorises; a divide per token is slow
  for (float& v : c.values) v *= inv;
}

void sampler_dynamic_temperature(Candidates& c, float temperature, float range, float exponent) {
  if (range <= 0) return sampler_temperature(c, temperature);
  if (c.size() <= 1) return;
  const double min_t = std::max(0.0f, temperature - range), max_t = temperature + range;
  Candidates p = c;
  ensure_probs(p);
  const double normalized_h = entropy(p) / std::log(static_cast<double>(c.size()));
  const double t = min_t + (max_t - min_t) * std::pow(normalized_h, static_cast<double>(exponent));
  sampler_temperature(c, std::max(static_cast<float>(t), kMinTemperature / 2));  // 0: greedy
}

void sampler_top_k(Candidates& c, int k) {
  const size_t n = c.size();
  if (k <= 0 || static_cast<size_t>(k) >= n) {
    if (!c.sorted) sort_range(c, 0, n);
    return;
  }
  const size_t kk = static_cast<size_t>(k);
  if (kk * 16 > n) {
    sort_range(c, 0, kk);
    truncate(c, kk);
    c.sorted = true;
    return;
  }
  select_top_k(c.values.data(), c.ids.data(), n, kk, c);
}

void sampler_softmax(Candidates& c) {
  if (c.ids.empty()) return;
  if (c.probs) return ensure_probs(c);
  const float m = max_value(c.values);
  if (m == -std::numeric_limits<float>::infinity()) {  // every logit banned: uniform
    for (float& v : c.values) v = 1.0f / static_cast<float>(c.size());
    c.probs = true;
    return;
  }
  for (float& v : c.values) v = std::exp(v - m);
  const float inv = static_cast<float>(1.0 / sum_values(c.values));
  for (float& v : c.values) v *= inv;
  c.probs = true;
}

size_t detail::scan_sorted(Candidates& c, const std::function<bool(size_t, float)>& take) {
  const size_t n = c.size();
  size_t i = 0;
  if (c.sorted) {
    while (i < n && take(i, c.values[i])) ++i;
    return i;
  }
  // One (value, id) array for all rounds; each round sorts the next, 4x longer, stretch.
  std::vector<std::pair<float, int32_t>> v(n);
  for (size_t k = 0; k < n; ++k) v[k] = {c.values[k], c.ids[k]};
  auto cmp = [](const auto& a, const auto& b) {
    return better(a.first, a.second, b.first, b.second);
  };
  size_t sorted_n = 0;
  while (i < n) {
    if (i == sorted_n) {
      size_t next = std::min(n, std::max<size_t>(64, 4 * sorted_n));
      if (next > n / 4) next = n;  // most of it: one full sort is cheaper than more rounds
      std::partial_sort(v.begin() + static_cast<std::ptrdiff_t>(sorted_n),
                        v.begin() + static_cast<std::ptrdiff_t>(next), v.end(), cmp);
      sorted_n = next;
    }
    if (!take(i, v[i].first)) break;
    ++i;
  }
  for (size_t k = 0; k < n; ++k) {
    c.values[k] = v[k].first;
    c.ids[k] = v[k].second;
  }
  c.by_id = false;
  c.sorted = sorted_n == n;
  return i;
}

void sampler_top_p(Candidates& c, float p, size_t min_keep) {
  if (p >= 1.0f || c.ids.empty()) return;
  ensure_probs(c);
  if (!c.sorted && c.size() > 1024) {
    // Tokens below (1 - p) / n hold at most 1 - p of the mass together, so the ones at or above
    // it already reach p and the nucleus ends among them: drop the rest before sorting.
    const float floor = (1.0f - p) / static_cast<float>(c.size());
    size_t above = 0;
    for (float v : c.values) above += v >= floor;
    if (above >= min_keep) {
      size_t w = 0;
      for (size_t i = 0; i < c.size(); ++i)
        if (c.values[i] >= floor) {
          c.ids[w] = c.ids[i];
          c.values[w++] = c.values[i];
        }
      truncate(c, w);
    }
  }
  double mass = 0;
  const size_t n = scan_sorted(c, [&](size_t i, float v) {
    if (mass >= p && i >= min_keep) return false;
    mass += v;
    return true;
  });
  truncate(c, std::max<size_t>(n, 1));
  c.sorted = true;
}

void sampler_min_p(Candidates& c, float min_p, size_t min_keep) {
  if (min_p <= 0.0f || c.ids.empty()) return;
  // On logits: p_i >= min_p * p_max  <=>  l_i >= l_max + log(min_p); no softmax needed.
  const float top = *std::max_element(c.values.begin(), c.values.end());
  const float floor = c.probs ? min_p * top : top + std::log(min_p);
  size_t kept = 0;
  for (float v : c.values) kept += v >= floor;
  if (kept < min_keep) {
    sampler_top_k(c, static_cast<int>(std::min(min_keep, c.size())));
    return;
  }
  size_t w = 0;
  for (size_t i = 0; i < c.size(); ++i)
    if (c.values[i] >= floor) {
      c.ids[w] = c.ids[i];
      c.values[w++] = c.values[i];
    }
  truncate(c, w);
}

void sampler_typical_p(Candidates& c, float p, size_t min_keep) {
  if (p >= 1.0f || c.size() <= 1) return;
  ensure_probs(c);
  const double h = entropy(c);
  std::vector<std::pair<double, size_t>> order(c.size());  // (|-log p - H|, index)
  for (size_t i = 0; i < c.size(); ++i)
    order[i] = {std::abs(-std::log(static_cast<double>(c.values[i])) - h), i};
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    return a.first < b.first || (a.first == b.first && c.ids[a.second] < c.ids[b.second]);
  });
  std::vector<int32_t> ids;
  std::vector<float> values;
  double mass = 0;
  for (const auto& [score, i] : order) {
    if (mass >= p && ids.size() >= min_keep) break;
    ids.push_back(c.ids[i]);
    values.push_back(c.values[i]);
    mass += c.values[i];
  }
  c.ids.assign(ids.begin(), ids.end());  // into c's buffers: they keep a vocabulary's capacity
  c.values.assign(values.begin(), values.end());
  c.sorted = c.by_id = false;
}

void sampler_top_n_sigma(Candidates& c, float n) {
  if (n <= 0 || c.size() <= 1) return;
  ensure_logits(c);
  double sum = 0, sq = 0, count = 0;
  float top = -std::numeric_limits<float>::infinity();
  for (float v : c.values) {
    if (!std::isfinite(v)) continue;
    sum += v;
    sq += static_cast<double>(v) * v;
    ++count;
    top = std::max(top, v);
  }
  if (count == 0) return;
  const double mean = sum / count;
  const double sd = std::sqrt(std::max(0.0, sq / count - mean * mean));
  const double floor = top - n * sd;
  size_t w = 0;
  for (size_t i = 0; i < c.size(); ++i)
    if (c.values[i] >= floor) {
      c.ids[w] = c.ids[i];
      c.values[w++] = c.values[i];
    }
  truncate(c, w);
}

namespace {

// Drops probabilities below `floor` but keeps the min_keep most likely (HF's warpers).
void drop_below(Candidates& c, double floor, size_t min_keep) {
  if (min_keep > 0 && !c.sorted) sort_range(c, 0, min_keep);
  size_t w = 0;
  for (size_t i = 0; i < c.size(); ++i)
    if (i < min_keep || c.values[i] >= floor) {
      c.ids[w] = c.ids[i];
      c.values[w++] = c.values[i];
    }
  truncate(c, w);
}

}  // namespace

void sampler_epsilon(Candidates& c, float epsilon, size_t min_keep) {
  if (epsilon <= 0 || c.ids.empty()) return;
  ensure_probs(c);
  drop_below(c, epsilon, min_keep);
}

void sampler_eta(Candidates& c, float eta, size_t min_keep) {
  if (eta <= 0 || c.ids.empty()) return;
  ensure_probs(c);
  const double floor = std::min<double>(eta, std::sqrt(eta) * std::exp(-entropy(c)));
  drop_below(c, floor, min_keep);
}

void sampler_xtc(Candidates& c, float probability, float threshold, size_t min_keep, Rng& rng) {
  if (probability <= 0 || threshold > 0.5f || c.size() < 2) return;
  if (rng.uniform() > probability) return;
  ensure_probs(c);
  const size_t above = scan_sorted(c, [&](size_t, float v) { return v >= threshold; });
  if (above < 2 || c.size() - (above - 1) < min_keep) return;
  c.ids.erase(c.ids.begin(), c.ids.begin() + static_cast<std::ptrdiff_t>(above - 1));
  c.values.erase(c.values.begin(), c.values.begin() + static_cast<std::ptrdiff_t>(above - 1));
}

int32_t sampler_argmax(const Candidates& c) {
  WICK_CHECK(!c.ids.empty(), ErrorKind::kInvalidArgument, "sampler: no candidates");
  size_t best = 0;
  float best_v = c.values[0];
  for (size_t i = 1; i < c.size(); ++i) {
    const float v = c.values[i];
    if (v > best_v || (v == best_v && c.ids[i] < c.ids[best])) {
      best = i;
      best_v = v;
    }
  }
  return c.ids[best];
}

int32_t sampler_argmax(std::span<const float> logits) {
  WICK_CHECK(!logits.empty(), ErrorKind::kInvalidArgument, "sampler: empty logits");
  // The maximum, then its first position: the lowest id among ties.
  const float m = max_value(logits);
  for (size_t k = 0; k < logits.size(); ++k)
    if (logits[k] == m) return static_cast<int32_t>(k);
  return 0;  // every logit NaN: nothing to prefer
}

int32_t sampler_draw(const Candidates& c, Rng& rng) {
  return c.ids[draw_index(c, rng)];
}

}  // namespace wick::gen
