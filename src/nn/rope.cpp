// RoPE inverse frequencies, following transformers' modeling_rope_utils (computed in double and
// rounded once; HF computes in f32, a difference far below the test tolerance).
#include "nn/rope.h"

#include <cmath>
#include <numbers>

#include "backend/ops.h"
#include "nn/weights.h"

namespace wick::nn {

RopeConfig::Scaling rope_scaling_from_name(const std::string& name, const std::string& field,
                                           const std::string& file) {
  using S = RopeConfig::Scaling;
  if (name.empty() || name == "default" || name == "none") return S::kNone;
  if (name == "linear") return S::kLinear;
  if (name == "dynamic") return S::kDynamic;
  if (name == "llama3") return S::kLlama3;
  fail(ErrorKind::kUnsupported,
       "{}: {} = \"{}\" is not supported (default, linear, dynamic, llama3)", file, field, name);
}

namespace {

std::vector<double> default_inv_freq(double theta, int64_t dim) {
  std::vector<double> inv(static_cast<size_t>(dim / 2));
  for (int64_t i = 0; i < dim / 2; ++i)
    inv[static_cast<size_t>(i)] = 1.0 / std::pow(theta, static_cast<double>(2 * i) / dim);
  return inv;
}

// Llama 3.1: keep high frequencies, divide low ones by `factor`, interpolate in between.
void apply_llama3(const RopeConfig& cfg, std::vector<double>& inv) {
  const double orig = static_cast<double>(cfg.original_max_position);
  const double low_wavelen = orig / cfg.low_freq_factor;
  const double high_wavelen = orig / cfg.high_freq_factor;
  for (double& f : inv) {
    const double wavelen = 2.0 * std::numbers::pi / f;
    if (wavelen < high_wavelen) continue;
    if (wavelen > low_wavelen) {
      f /= cfg.factor;
      continue;
    }
    const double smooth =
        (orig / wavelen - cfg.low_freq_factor) / (cfg.high_freq_factor - cfg.low_freq_factor);
    f = (1.0 - smooth) * f / cfg.factor + smooth * f;
  }
}

}  // namespace

std::vector<float> rope_inv_freq(const RopeConfig& cfg, int64_t seq_len) {
  const int64_t dim = cfg.rotary_dim;
  WICK_CHECK(dim > 0 && dim % 2 == 0, ErrorKind::kInvalidArgument,
             "rope: rotary dimension {} must be positive and even", dim);
  double theta = cfg.theta;
  if (cfg.scaling == RopeConfig::Scaling::kDynamic && seq_len > cfg.max_position) {
    const double ratio =
        cfg.factor * static_cast<double>(seq_len) / cfg.max_position - (cfg.factor - 1);
    theta *= std::pow(ratio, static_cast<double>(dim) / static_cast<double>(dim - 2));
  }
  std::vector<double> inv = default_inv_freq(theta, dim);
  if (cfg.scaling == RopeConfig::Scaling::kLinear)
    for (double& f : inv) f /= cfg.factor;
  if (cfg.scaling == RopeConfig::Scaling::kLlama3) apply_llama3(cfg, inv);
  if (!cfg.freq_factors.empty()) {
    WICK_CHECK(cfg.freq_factors.size() == inv.size(), ErrorKind::kInvalidArgument,
               "rope: {} frequency factors (rope_freqs.weight) for {} rotated pairs",
               cfg.freq_factors.size(), inv.size());
    for (size_t i = 0; i < inv.size(); ++i) {
      WICK_CHECK(cfg.freq_factors[i] > 0.0f && std::isfinite(cfg.freq_factors[i]),
                 ErrorKind::kInvalidArgument, "rope: frequency factor {} is {}, must be > 0", i,
                 cfg.freq_factors[i]);
      inv[i] /= cfg.freq_factors[i];
    }
  }
  return std::vector<float>(inv.begin(), inv.end());
}

Rope::Rope(const RopeConfig& cfg) : cfg_(cfg) {
  std::vector<float> inv = rope_inv_freq(cfg);
  inv_freq_ = Tensor::from_floats(Shape{static_cast<int64_t>(inv.size())}, inv);
  if (load_device() != Device::cpu()) inv_freq_ = to_device(inv_freq_, load_device());
}

Tensor Rope::operator()(const Tensor& x, const Tensor& positions, int64_t max_position) const {
  if (cfg_.scaling == RopeConfig::Scaling::kDynamic && max_position + 1 > cfg_.max_position) {
    std::vector<float> inv = rope_inv_freq(cfg_, max_position + 1);
    Tensor f = Tensor::from_floats(Shape{static_cast<int64_t>(inv.size())}, inv);
    return rope(x, positions, x.device().is_cpu() ? f : to_device(f, x.device()), true);
  }
  return rope(x, positions, inv_freq_, true);
}

}  // namespace wick::nn
