// Helpers shared by the sampler's source files (not part of the sampler API): partial sorting,
// probability/logit conversions, the draw returning an index, entropy, and an id -> position
// lookup over candidates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <unordered_map>

#include "generate/sampler.h"

namespace wick::gen::detail {

// Descending value, ties by ascending id: the one candidate order used everywhere.
inline bool better(float va, int32_t ia, float vb, int32_t ib) {
  return va > vb || (va == vb && ia < ib);
}
// Sorts so that positions [from, to) hold the next best candidates in order, given that
// [0, from) already holds the best ones in order.
void sort_range(Candidates& c, size_t from, size_t to);
void truncate(Candidates& c, size_t n);
void ensure_probs(Candidates& c);   // softmax, or renormalise probabilities
void ensure_logits(Candidates& c);  // log of probabilities (softmax-equivalent logits)
// The kk (< n) best of values v (ids: ids[i], or i when null) into `out`, sorted; out may be the
// candidates v and ids come from.
void select_top_k(const float* v, const int32_t* ids, size_t n, size_t kk, Candidates& out);
size_t draw_index(const Candidates& c, Rng& rng);
float max_value(std::span<const float> v);    // -inf when empty
double sum_values(std::span<const float> v);  // in double, four lanes
double entropy(const Candidates& c);          // c: normalised probabilities, nats
// Walks candidates in descending order, sorting a growing prefix only as far as needed, while
// take(i, value) says so; returns how many were taken.
size_t scan_sorted(Candidates& c, const std::function<bool(size_t, float)>& take);

// Position of a token id among candidates: direct or binary search when ids are ascending
// (the common case before any truncation), else a hash map built once.
class CandidateIndex {
 public:
  explicit CandidateIndex(const Candidates& c);
  ptrdiff_t find(int32_t id) const;  // -1: not a candidate

 private:
  const Candidates& c_;
  std::unordered_map<int32_t, ptrdiff_t> map_;
};

}  // namespace wick::gen::detail
