// RMSNorm / LayerNorm forward and loading.
#include "nn/norm.h"

#include "backend/ops.h"
#include "nn/weights.h"

namespace wick::nn {

Tensor Norm::operator()(const Tensor& x) const {
  if (kind == Kind::kRms) return rms_norm(x, weight, eps, weight_offset);
  return layer_norm(x, weight, bias, eps);
}

Norm Norm::rms(const WeightSource& ws, const std::string& prefix, int64_t dim, float eps,
               float weight_offset) {
  Norm n;
  n.kind = Kind::kRms;
  n.weight = load_f32(ws, prefix + ".weight", {dim});
  n.eps = eps;
  n.weight_offset = weight_offset;
  return n;
}

Norm Norm::layer(const WeightSource& ws, const std::string& prefix, int64_t dim, float eps) {
  Norm n;
  n.kind = Kind::kLayer;
  n.weight = load_f32(ws, prefix + ".weight", {dim});
  n.bias = load_f32_optional(ws, prefix + ".bias", {dim});
  n.eps = eps;
  return n;
}

}  // namespace wick::nn
