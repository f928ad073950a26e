// Rotary position embedding: inverse frequencies from the config (default, linear, dynamic NTK,
// Llama 3 scaling) and the rotation itself (ops::rope, HF's rotate-half layout). GGUF files whose
// Q/K rows llama.cpp permuted are un-permuted by the WeightSource, so one layout serves both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace wick::nn {

struct RopeConfig {
  enum class Scaling { kNone, kLinear, kDynamic, kLlama3 };
  double theta = 10000.0;
  int64_t rotary_dim = 0;  // dims rotated per head (R <= head_dim); the rest pass through
  Scaling scaling = Scaling::kNone;
  double factor = 1.0;
  // Llama 3
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position = 8192;
  // Dynamic NTK: rescales the base once positions exceed this
  int64_t max_position = 2048;
  // Per-frequency divisors from a GGUF's rope_freqs.weight (llama.cpp stores Llama 3 scaling
  // this way): inv_freq[i] /= freq_factors[i] after the scaling above. Empty: none.
  std::vector<float> freq_factors;
};

// "default", "linear", "dynamic", "llama3" (HF rope_type); nullopt-like failure throws naming
// `field` and `file`.
RopeConfig::Scaling rope_scaling_from_name(const std::string& name, const std::string& field,
                                           const std::string& file);

// (R/2) inverse frequencies; `seq_len` matters only for dynamic scaling.
std::vector<float> rope_inv_freq(const RopeConfig& cfg, int64_t seq_len = 0);

class Rope {
 public:
  Rope() = default;
  explicit Rope(const RopeConfig& cfg);
  bool defined() const { return inv_freq_.defined(); }
  // Dynamic NTK scaling: the frequencies depend on the batch's largest position.
  bool dynamic() const { return cfg_.scaling == RopeConfig::Scaling::kDynamic; }
  // x: (N, H, D) f32, positions: (N) i32 -> rotated x. `max_position` (largest position in the
  // batch) selects dynamic-NTK frequencies.
  Tensor operator()(const Tensor& x, const Tensor& positions, int64_t max_position) const;

 private:
  RopeConfig cfg_;
  Tensor inv_freq_;  // (R/2) f32
};

}  // namespace wick::nn
