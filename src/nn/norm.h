// Normalisation layers: RMSNorm (optionally with Gemma's `x * (1 + w)` weight offset) and
// LayerNorm, as one value type so a decoder block can hold either without virtual calls.
#pragma once

#include <string>

#include "core/tensor.h"
#include "formats/weight_source.h"

namespace wick::nn {

struct Norm {
  enum class Kind { kRms, kLayer };
  Kind kind = Kind::kRms;
  Tensor weight;  // (D) f32
  Tensor bias;    // (D) f32, LayerNorm only (may be undefined)
  float eps = 1e-6f;
  float weight_offset = 0.0f;  // Gemma: 1.0

  bool defined() const { return weight.defined(); }
  // x: (..., D) f32 -> (..., D) f32
  Tensor operator()(const Tensor& x) const;

  // `<prefix>.weight` (D); for LayerNorm also `<prefix>.bias` when present.
  static Norm rms(const WeightSource& ws, const std::string& prefix, int64_t dim, float eps,
                  float weight_offset = 0.0f);
  static Norm layer(const WeightSource& ws, const std::string& prefix, int64_t dim, float eps);
};

}  // namespace wick::nn
