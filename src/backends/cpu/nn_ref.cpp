// Reference CPU kernels for softmax, log_softmax, rms_norm, layer_norm and rope. Each works on
// rows along the last dim of strided inputs, computes in double and rounds once to the output
// dtype, so the reference is as exact as the formula. Rope is the exception by design: its angle
// is the f32 product position * inv_freq, as HF transformers computes it, so long positions
// round the same way they do there (cos/sin of that f32 angle are then taken in double).
#include <cmath>
#include <vector>

#include "backend/kernel_table.h"
#include "backends/cpu/dispatch.h"
#include "core/strided_loop.h"

namespace wick::cpu {
namespace {

// The shape of the row index space: x's shape with the last dim collapsed to 1.
Shape row_space(const Shape& shape) {
  Shape rows = shape;
  rows[rows.rank() - 1] = 1;
  return rows;
}

// Reads the row of n values starting at element offset `off`, `step` apart, as doubles.
template <class T>
void load_row(const T* base, int64_t off, int64_t n, int64_t step, std::vector<double>& row) {
  row.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) row[static_cast<size_t>(i)] = load(base[off + i * step]);
}

// Optional per-column parameter (norm weight/bias) as doubles; `fallback` when undefined.
template <class T>
std::vector<double> load_param(const Tensor& p, int64_t n, double fallback) {
  std::vector<double> values(static_cast<size_t>(n), fallback);
  if (!p.defined()) return values;
  const T* pp = typed<T>(p);
  load_row(pp, p.offset(), n, p.strides()[0], values);
  return values;
}

// x, out: (.., D)
void softmax_ref(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  Tensor& out = call.outputs[0];
  const int64_t n = x.shape().back();
  const int64_t xs = x.strides()[x.rank() - 1];
  const int64_t os = out.strides()[out.rank() - 1];
  const bool log_space = call.op == Op::kLogSoftmax;
  dispatch_float(x.dtype(), [&]<class T>() {
    const T* px = typed<T>(x);
    T* po = typed<T>(out);
    std::vector<double> row;
    for_each_offsets<2>(row_space(x.shape()), {&x.strides(), &out.strides()},
                        {x.offset(), out.offset()}, [&](const auto& off) {
                          load_row(px, off[0], n, xs, row);
                          double max = -INFINITY;
                          for (double v : row) max = std::fmax(max, v);
                          double sum = 0.0;
                          for (double v : row) sum += std::exp(v - max);
                          const double log_sum = std::log(sum);
                          for (int64_t i = 0; i < n; ++i) {
                            const double shifted = row[static_cast<size_t>(i)] - max;
                            store(po[off[1] + i * os],
                                  log_space ? shifted - log_sum : std::exp(shifted) / sum);
                          }
                        });
  });
}

// x, out: (.., D); weight: (D) or undefined. y = x / sqrt(mean(x^2) + eps) * (w + offset).
void rms_norm_ref(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  Tensor& out = call.outputs[0];
  const int64_t n = x.shape().back();
  const int64_t xs = x.strides()[x.rank() - 1];
  const int64_t os = out.strides()[out.rank() - 1];
  dispatch_float(x.dtype(), [&]<class T>() {
    std::vector<double> scale = load_param<T>(call.inputs[1], n, 1.0);
    if (call.inputs[1].defined())
      for (double& s : scale) s += static_cast<double>(call.attrs.weight_offset);
    const T* px = typed<T>(x);
    T* po = typed<T>(out);
    std::vector<double> row;
    for_each_offsets<2>(row_space(x.shape()), {&x.strides(), &out.strides()},
                        {x.offset(), out.offset()}, [&](const auto& off) {
                          load_row(px, off[0], n, xs, row);
                          double sum_sq = 0.0;
                          for (double v : row) sum_sq += v * v;
                          const double inv_rms =
                              1.0 / std::sqrt(sum_sq / static_cast<double>(n) + call.attrs.eps);
                          for (int64_t i = 0; i < n; ++i) {
                            const auto k = static_cast<size_t>(i);
                            store(po[off[1] + i * os], row[k] * inv_rms * scale[k]);
                          }
                        });
  });
}

// x, h, sum, out: contiguous (.., D). sum = x + h rounded to the dtype; out = rms_norm(sum).
void add_rms_norm_ref(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  const Tensor& h = call.inputs[1];
  Tensor& sum = call.outputs[0];
  Tensor& out = call.outputs[1];
  const int64_t n = x.shape().back();
  const int64_t rows = n == 0 ? 0 : x.numel() / n;
  dispatch_float(x.dtype(), [&]<class T>() {
    std::vector<double> scale = load_param<T>(call.inputs[2], n, 1.0);
    if (call.inputs[2].defined())
      for (double& s : scale) s += static_cast<double>(call.attrs.weight_offset);
    const T* px = typed<T>(x) + x.offset();
    const T* ph = typed<T>(h) + h.offset();
    T* ps = typed<T>(sum) + sum.offset();
    T* po = typed<T>(out) + out.offset();
    for (int64_t r = 0; r < rows; ++r) {
      double sum_sq = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        store(ps[r * n + i], static_cast<float>(load(px[r * n + i])) +
                                 static_cast<float>(load(ph[r * n + i])));
        const double v = load(ps[r * n + i]);
        sum_sq += v * v;
      }
      const double inv_rms = 1.0 / std::sqrt(sum_sq / static_cast<double>(n) + call.attrs.eps);
      for (int64_t i = 0; i < n; ++i)
        store(po[r * n + i], static_cast<double>(load(ps[r * n + i])) * inv_rms *
                                 scale[static_cast<size_t>(i)]);
    }
  });
}

// x, out: (.., D); weight, bias: (D) or undefined. Biased variance, as torch.
void layer_norm_ref(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  Tensor& out = call.outputs[0];
  const int64_t n = x.shape().back();
  const int64_t xs = x.strides()[x.rank() - 1];
  const int64_t os = out.strides()[out.rank() - 1];
  dispatch_float(x.dtype(), [&]<class T>() {
    const std::vector<double> weight = load_param<T>(call.inputs[1], n, 1.0);
    const std::vector<double> bias = load_param<T>(call.inputs[2], n, 0.0);
    const T* px = typed<T>(x);
    T* po = typed<T>(out);
    std::vector<double> row;
    for_each_offsets<2>(row_space(x.shape()), {&x.strides(), &out.strides()},
                        {x.offset(), out.offset()}, [&](const auto& off) {
                          load_row(px, off[0], n, xs, row);
                          double mean = 0.0;
                          for (double v : row) mean += v;
                          mean /= static_cast<double>(n);
                          double var = 0.0;
                          for (double v : row) var += (v - mean) * (v - mean);
                          var /= static_cast<double>(n);
                          const double inv_std = 1.0 / std::sqrt(var + call.attrs.eps);
                          for (int64_t i = 0; i < n; ++i) {
                            const auto k = static_cast<size_t>(i);
                            store(po[off[1] + i * os],
                                  (row[k] - mean) * inv_std * weight[k] + bias[k]);
                          }
                        });
  });
}

int64_t load_position(const Tensor& positions, int64_t off) {
  if (positions.dtype() == DType::kI32) return typed<int32_t>(positions)[off];
  return typed<int64_t>(positions)[off];
}

// x, out: (.., H, D); positions: x.shape[:-2] (any strides, broadcast views allowed);
// inv_freq: (R/2) f32. Dims [R, D) of each head pass through unchanged.
void rope_ref(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  const Tensor& positions = call.inputs[1];
  const Tensor& inv_freq = call.inputs[2];
  Tensor& out = call.outputs[0];
  const int64_t d = x.shape().back();
  const int64_t half = inv_freq.shape()[0];
  const int64_t xs = x.strides()[x.rank() - 1];
  const int64_t os = out.strides()[out.rank() - 1];
  Shape pos_strides = positions.strides();  // extended with 0 for the H and D dims
  pos_strides.push_back(0);
  pos_strides.push_back(0);
  std::vector<float> freq(static_cast<size_t>(half));
  const float* pf = typed<float>(inv_freq);
  for (int64_t i = 0; i < half; ++i)
    freq[static_cast<size_t>(i)] = pf[inv_freq.offset() + i * inv_freq.strides()[0]];
  dispatch_float(x.dtype(), [&]<class T>() {
    const T* px = typed<T>(x);
    T* po = typed<T>(out);
    std::vector<double> row;
    for_each_offsets<3>(row_space(x.shape()), {&x.strides(), &out.strides(), &pos_strides},
                        {x.offset(), out.offset(), positions.offset()}, [&](const auto& off) {
                          load_row(px, off[0], d, xs, row);
                          const auto pos = static_cast<float>(load_position(positions, off[2]));
                          for (int64_t i = 0; i < half; ++i) {
                            const float angle = pos * freq[static_cast<size_t>(i)];  // f32, as HF
                            const double c = std::cos(static_cast<double>(angle));
                            const double s = std::sin(static_cast<double>(angle));
                            // neox: pair (i, i + R/2); interleaved (GPT-J): pair (2i, 2i + 1).
                            const int64_t a = call.attrs.rope_neox ? i : 2 * i;
                            const int64_t b = call.attrs.rope_neox ? i + half : 2 * i + 1;
                            const double xa = row[static_cast<size_t>(a)];
                            const double xb = row[static_cast<size_t>(b)];
                            row[static_cast<size_t>(a)] = xa * c - xb * s;
                            row[static_cast<size_t>(b)] = xb * c + xa * s;
                          }
                          for (int64_t i = 0; i < d; ++i)
                            store(po[off[1] + i * os], row[static_cast<size_t>(i)]);
                        });
  });
}

const bool kRegistered = [] {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    register_reference_kernel(Op::kSoftmax, DeviceType::kCpu, dt, &softmax_ref);
    register_reference_kernel(Op::kLogSoftmax, DeviceType::kCpu, dt, &softmax_ref);
    register_reference_kernel(Op::kRmsNorm, DeviceType::kCpu, dt, &rms_norm_ref);
    register_reference_kernel(Op::kAddRmsNorm, DeviceType::kCpu, dt, &add_rms_norm_ref);
    register_reference_kernel(Op::kLayerNorm, DeviceType::kCpu, dt, &layer_norm_ref);
    register_reference_kernel(Op::kRope, DeviceType::kCpu, dt, &rope_ref);
  }
  return true;
}();

}  // namespace
}  // namespace wick::cpu
