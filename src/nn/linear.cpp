// Linear / Embedding forward and loading.
#include "nn/linear.h"

#include "backend/ops.h"
#include "nn/weights.h"

namespace wick::nn {

Tensor Linear::operator()(const Tensor& x) const {
  return linear(x, weight, bias);
}

Linear Linear::load(const WeightSource& ws, const std::string& prefix, int64_t out, int64_t in,
                    bool bias) {
  Linear l;
  // Repacked for the device's linear kernels where it has a faster layout (ops.h).
  l.weight = prepare_linear_weight(load_weight(ws, prefix + ".weight", {out, in}));
  l.bias =
      bias ? load_f32(ws, prefix + ".bias", {out}) : load_f32_optional(ws, prefix + ".bias", {out});
  return l;
}

Linear Linear::rows(int64_t start, int64_t n) const {
  Linear l;
  l.weight = weight.narrow(0, start, n);
  if (bias.defined()) l.bias = bias.narrow(0, start, n);
  return l;
}

Tensor Embedding::operator()(const Tensor& ids) const {
  Tensor x = embedding(weight, ids);
  return x.dtype() == DType::kF32 ? x : to_dtype(x, DType::kF32);
}

}  // namespace wick::nn
