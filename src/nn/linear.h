// Linear and Embedding: thin wrappers over ops::linear / ops::embedding that remember their
// weights. The weight may be any dtype, GGUF block types included; activations stay f32.
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "formats/weight_source.h"

namespace wick::nn {

struct Linear {
  Tensor weight;  // (out, in), any dtype
  Tensor bias;    // (out) f32, or undefined

  // x: (..., in) f32 -> (..., out) f32
  Tensor operator()(const Tensor& x) const;
  int64_t out_features() const { return weight.dim(0); }
  int64_t in_features() const { return weight.dim(1); }

  // Loads `<prefix>.weight` (out, in) and, if `bias` is true, `<prefix>.bias` (out). When bias is
  // false an existing bias tensor is still used (checkpoints sometimes carry zero biases).
  static Linear load(const WeightSource& ws, const std::string& prefix, int64_t out, int64_t in,
                     bool bias);
  // Rows [start, start + n) of this layer (views, no copy): splits fused qkv / gate_up weights.
  Linear rows(int64_t start, int64_t n) const;
};

struct Embedding {
  Tensor weight;  // (vocab, dim), any dtype

  // ids: (N) i32 -> (N, dim) f32
  Tensor operator()(const Tensor& ids) const;
};

}  // namespace wick::nn
