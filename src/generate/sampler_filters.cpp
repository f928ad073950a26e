// Hard filters (constraint mask, allowed ids, bad words, banned ids, logit bias) and the
// history penalties (repetition / presence / frequency, DRY). Filters only remove candidates
// and keep their order, so ids stay ascending until a stage sorts them and the ids of a small
// history are found by direct index or binary search, not a scan of the vocabulary.
#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "generate/sampler_internal.h"

namespace wick::gen {

namespace detail {

CandidateIndex::CandidateIndex(const Candidates& c) : c_(c) {
  if (c.by_id || c.size() <= 64) return;
  map_.reserve(c.size());
  for (size_t i = 0; i < c.size(); ++i) map_.emplace(c.ids[i], static_cast<ptrdiff_t>(i));
}

ptrdiff_t CandidateIndex::find(int32_t id) const {
  const std::vector<int32_t>& ids = c_.ids;
  if (c_.by_id) {
    if (id >= 0 && static_cast<size_t>(id) < ids.size() && ids[static_cast<size_t>(id)] == id)
      return id;
    auto it = std::lower_bound(ids.begin(), ids.end(), id);
    return it != ids.end() && *it == id ? it - ids.begin() : -1;
  }
  if (ids.size() <= 64) {
    auto it = std::find(ids.begin(), ids.end(), id);
    return it != ids.end() ? it - ids.begin() : -1;
  }
  auto it = map_.find(id);
  return it != map_.end() ? it->second : -1;
}

}  // namespace detail

using detail::CandidateIndex;

namespace {

template <class Keep>
void keep_if(Candidates& c, Keep keep) {
  size_t w = 0;
  for (size_t i = 0; i < c.size(); ++i)
    if (keep(c.ids[i], c.values[i])) {
      c.ids[w] = c.ids[i];
      c.values[w++] = c.values[i];
    }
  detail::truncate(c, w);
}

}  // namespace

void sampler_apply_mask(Candidates& c, std::span<const uint64_t> allowed_bits) {
  const size_t limit = allowed_bits.size() * 64;
  keep_if(c, [&](int32_t id, float) {
    const auto u = static_cast<size_t>(id);
    return u < limit && (allowed_bits[u / 64] >> (u % 64) & 1);
  });
  WICK_CHECK(!c.ids.empty(), ErrorKind::kInvalidArgument,
             "sampler: the constraint mask allows no token");
}

void sampler_allowed_ids(Candidates& c, std::span<const int32_t> allowed) {
  if (allowed.empty()) return;
  std::unordered_set<int32_t> ok(allowed.begin(), allowed.end());
  keep_if(c, [&](int32_t id, float) { return ok.count(id) > 0; });
}

void sampler_ban_ids(Candidates& c, std::span<const int32_t> banned) {
  if (banned.empty()) return;
  if (banned.size() == 1) {
    const int32_t b = banned[0];
    keep_if(c, [&](int32_t id, float) { return id != b; });
    return;
  }
  std::unordered_set<int32_t> ban(banned.begin(), banned.end());
  keep_if(c, [&](int32_t id, float) { return ban.count(id) == 0; });
}

void sampler_bad_words(Candidates& c, std::span<const std::vector<int32_t>> words,
                       std::span<const int32_t> history) {
  std::vector<int32_t> banned;
  for (const std::vector<int32_t>& w : words) {
    if (w.empty()) continue;
    const size_t prefix = w.size() - 1;
    if (prefix <= history.size() &&
        std::equal(w.begin(), w.end() - 1, history.end() - static_cast<std::ptrdiff_t>(prefix)))
      banned.push_back(w.back());
  }
  sampler_ban_ids(c, banned);
}

void sampler_logit_bias(Candidates& c, std::span<const std::pair<int32_t, float>> bias,
                        size_t vocab) {
  if (bias.empty()) return;
  bool removed = false;
  CandidateIndex index(c);
  for (const auto& [id, b] : bias) {
    WICK_CHECK(id >= 0 && static_cast<size_t>(id) < vocab, ErrorKind::kInvalidArgument,
               "logit_bias: token id {} is outside the vocabulary (size {})", id, vocab);
    const ptrdiff_t at = index.find(id);
    if (at < 0) continue;
    float& v = c.values[static_cast<size_t>(at)];
    v = c.probs ? v * std::exp(b) : v + b;
    removed |= b == -std::numeric_limits<float>::infinity();
  }
  if (removed) keep_if(c, [&](int32_t, float v) { return c.probs ? v > 0 : v > -HUGE_VALF; });
  c.sorted = false;
}

void sampler_repetition_penalty(Candidates& c, std::span<const int32_t> history, float penalty) {
  sampler_penalties(c, history, penalty, 0.0f, 0.0f);
}

void sampler_penalties(Candidates& c, std::span<const int32_t> history, float repeat,
                       float frequency, float presence) {
  if (history.empty() || (repeat == 1.0f && frequency == 0.0f && presence == 0.0f)) return;
  detail::ensure_logits(c);
  std::unordered_map<int32_t, int> counts;
  for (int32_t id : history) ++counts[id];
  CandidateIndex index(c);
  for (const auto& [id, count] : counts) {
    const ptrdiff_t at = index.find(id);
    if (at < 0) continue;
    float& v = c.values[static_cast<size_t>(at)];
    v = v > 0 ? v / repeat : v * repeat;
    v -= static_cast<float>(count) * frequency + presence;
  }
  c.sorted = false;
}

void sampler_dry(Candidates& c, std::span<const int32_t> history, const DryParams& p,
                 const std::function<bool(int32_t)>& is_breaker) {
  const size_t n = history.size();
  if (p.multiplier <= 0 || n < 2) return;
  auto breaker = [&](int32_t id) { return is_breaker && is_breaker(id); };
  const int32_t last = history[n - 1];
  if (breaker(last)) return;
  // For each earlier occurrence of the last token, the length of the repeat ending there that
  // matches the history's suffix; the token that followed it would extend the repeat.
  std::unordered_map<int32_t, size_t> match;  // next token -> longest matched suffix
  for (size_t at = 0; at + 1 < n; ++at) {
    if (history[at] != last || breaker(history[at + 1])) continue;
    size_t len = 1;
    while (len <= at && history[at - len] == history[n - 1 - len] && !breaker(history[at - len]))
      ++len;
    size_t& best = match[history[at + 1]];
    best = std::max(best, len);
  }
  detail::ensure_logits(c);
  CandidateIndex index(c);
  // Cap the exponent so the penalty stays finite (base^e <= FLT_MAX).
  const double max_exp = p.base > 1 ? std::log(std::numeric_limits<float>::max()) /
                                          std::log(static_cast<double>(p.base))
                                    : std::numeric_limits<double>::infinity();
  for (const auto& [id, len] : match) {
    if (len < static_cast<size_t>(std::max(p.allowed_length, 0))) continue;
    const ptrdiff_t at = index.find(id);
    if (at < 0) continue;
    const double e = std::min(static_cast<double>(len) - p.allowed_length, max_exp);
    const double penalty = p.multiplier * std::pow(static_cast<double>(p.base), e);
    c.values[static_cast<size_t>(at)] -= static_cast<float>(
        std::min(penalty, static_cast<double>(std::numeric_limits<float>::max())));
  }
  c.sorted = false;
}

}  // namespace wick::gen
