// Routed mixture of experts (see moe.h). Routing and the weighted scatter-add run on the host:
// they touch N * top_k scalars, while the experts' linears do the real work.
#include "nn/moe.h"

#include <cstring>

#include "backend/ops.h"

namespace wick::nn {

Tensor MoeMlp::operator()(const Tensor& x) const {
  const int64_t N = x.dim(0), H = x.dim(1);
  const int64_t E = static_cast<int64_t>(experts.size());
  Tensor probs = softmax(router(x));  // (N, E)
  auto [top_p, top_i] = topk(probs, top_k);
  std::vector<float> weights = top_p.to_float_vector();     // (N, k)
  std::vector<int64_t> index = top_i.to_vector<int64_t>();  // (N, k)
  if (norm_topk_prob) {
    for (int64_t t = 0; t < N; ++t) {
      float s = 0;
      for (int j = 0; j < top_k; ++j) s += weights[static_cast<size_t>(t * top_k + j)];
      for (int j = 0; j < top_k; ++j) weights[static_cast<size_t>(t * top_k + j)] /= s;
    }
  }
  // tokens[e]: rows routed to expert e, with their weights.
  std::vector<std::vector<int32_t>> tokens(static_cast<size_t>(E));
  std::vector<std::vector<float>> gains(static_cast<size_t>(E));
  for (int64_t t = 0; t < N; ++t)
    for (int j = 0; j < top_k; ++j) {
      const size_t at = static_cast<size_t>(t * top_k + j);
      const int64_t e = index[at];
      WICK_CHECK(e >= 0 && e < E, ErrorKind::kInternal, "moe: expert {} out of range", e);
      tokens[static_cast<size_t>(e)].push_back(static_cast<int32_t>(t));
      gains[static_cast<size_t>(e)].push_back(weights[at]);
    }
  Tensor out = zeros(Shape{N, H});
  float* dst = out.data<float>();
  for (int64_t e = 0; e < E; ++e) {
    const auto& rows = tokens[static_cast<size_t>(e)];
    if (rows.empty()) continue;
    const int64_t n = static_cast<int64_t>(rows.size());
    Tensor idx = Tensor::from_vector<int32_t>(Shape{n}, rows);
    Tensor y = contiguous(experts[static_cast<size_t>(e)](index_select(x, 0, idx)));  // (n, H)
    const float* src = y.data<float>();
    const auto& g = gains[static_cast<size_t>(e)];
    for (int64_t r = 0; r < n; ++r) {
      float* o = dst + static_cast<int64_t>(rows[static_cast<size_t>(r)]) * H;
      const float* s = src + r * H;
      for (int64_t c = 0; c < H; ++c) o[c] += g[static_cast<size_t>(r)] * s[c];
    }
  }
  return out;
}

}  // namespace wick::nn
