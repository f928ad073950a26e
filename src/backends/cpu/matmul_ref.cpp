// Reference CPU kernels for matmul and linear: plain loops with f32 accumulation in k order.
// They define what the ops mean; the SIMD paths (matmul_fast.cpp) are tested against them.
#include <vector>

#include "backend/kernel_table.h"
#include "backends/cpu/dispatch.h"
#include "core/quant/quant.h"
#include "core/strided_loop.h"

namespace wick::cpu {
namespace {

Shape leading(const Shape& s, int drop) {
  Shape r = s;
  r.resize(s.rank() - drop);
  return r;
}

// a: (B.., M, K), b: (B.., K, N) (batch dims already broadcast), out: (B.., M, N) contiguous.
void matmul_ref(const OpCall& call) {
  const Tensor& a = call.inputs[0];
  const Tensor& b = call.inputs[1];
  Tensor& out = call.outputs[0];
  const int r = out.rank();
  const int64_t m_dim = out.shape()[r - 2], n_dim = out.shape()[r - 1], k_dim = a.shape()[r - 1];
  const int64_t am = a.strides()[r - 2], ak = a.strides()[r - 1];
  const int64_t bk = b.strides()[r - 2], bn = b.strides()[r - 1];
  const int64_t om = out.strides()[r - 2], on = out.strides()[r - 1];
  const Shape batch = leading(out.shape(), 2);
  const Shape sa = leading(a.strides(), 2), sb = leading(b.strides(), 2),
              so = leading(out.strides(), 2);
  dispatch_float(out.dtype(), [&]<class T>() {
    const T* pa = typed<T>(a);
    const T* pb = typed<T>(b);
    T* po = typed<T>(out);
    for_each_offsets<3>(
        batch, {&sa, &sb, &so}, {a.offset(), b.offset(), out.offset()}, [&](const auto& off) {
          for (int64_t i = 0; i < m_dim; ++i)
            for (int64_t j = 0; j < n_dim; ++j) {
              float acc = 0.0f;
              for (int64_t k = 0; k < k_dim; ++k)
                acc += load(pa[off[0] + i * am + k * ak]) * load(pb[off[1] + k * bk + j * bn]);
              store(po[off[2] + i * om + j * on], acc);
            }
        });
  });
}

// Row n of w (N, K) as f32: float weights through their strides, block types via core/quant.
void weight_row(const Tensor& w, int64_t n, std::vector<float>& row) {
  const int64_t k_dim = w.shape()[1];
  if (dtype_is_quantized(w.dtype())) {
    const auto* base = static_cast<const uint8_t*>(w.raw_data());
    const uint64_t row_bytes = dtype_bytes_for(w.dtype(), static_cast<uint64_t>(k_dim));
    dequantize_row_reference(w.dtype(), base + static_cast<uint64_t>(n) * row_bytes, row.data(),
                             k_dim);
    return;
  }
  dispatch_float(w.dtype(), [&]<class T>() {
    const T* pw = typed<T>(w) + w.offset() + n * w.strides()[0];
    for (int64_t k = 0; k < k_dim; ++k) row[static_cast<size_t>(k)] = load(pw[k * w.strides()[1]]);
  });
}

// x: (R.., K) any strides; w: (N, K); bias: (N) or undefined; out: (R.., N) contiguous.
void linear_ref(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  const Tensor& w = call.inputs[1];
  const Tensor& bias = call.inputs[2];
  Tensor& out = call.outputs[0];
  const int64_t k_dim = w.shape()[1], n_dim = w.shape()[0];
  const int64_t xk = x.strides()[x.rank() - 1];
  // Gather x rows as f32 (R, K).
  const Shape rows_shape = leading(x.shape(), 1), rows_strides = leading(x.strides(), 1);
  std::vector<float> xs;
  xs.reserve(static_cast<size_t>(rows_shape.numel() * k_dim));
  dispatch_float(x.dtype(), [&]<class T>() {
    const T* px = typed<T>(x);
    for_each_offset(rows_shape, rows_strides, x.offset(), [&](int64_t off) {
      for (int64_t k = 0; k < k_dim; ++k) xs.push_back(load(px[off + k * xk]));
    });
  });
  const int64_t n_rows = rows_shape.numel();
  std::vector<float> bias_f(static_cast<size_t>(n_dim), 0.0f);
  if (bias.defined()) bias_f = bias.to_float_vector();
  std::vector<float> acc(static_cast<size_t>(n_rows * n_dim));
  std::vector<float> row(static_cast<size_t>(k_dim));
  for (int64_t n = 0; n < n_dim; ++n) {
    weight_row(w, n, row);
    for (int64_t r = 0; r < n_rows; ++r) {
      const float* xr = xs.data() + r * k_dim;
      float s = 0.0f;
      for (int64_t k = 0; k < k_dim; ++k) s += xr[k] * row[static_cast<size_t>(k)];
      acc[static_cast<size_t>(r * n_dim + n)] = s + bias_f[static_cast<size_t>(n)];
    }
  }
  dispatch_float(out.dtype(), [&]<class T>() {
    T* po = typed<T>(out) + out.offset();
    for (size_t i = 0; i < acc.size(); ++i) store(po[i], acc[i]);
  });
}

const bool kRegistered = [] {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16})
    register_reference_kernel(Op::kMatmul, DeviceType::kCpu, dt, &matmul_ref);
  for (int i = 0; i < kDTypeCount; ++i) {
    const DType dt = static_cast<DType>(i);
    if (dtype_is_float(dt) || dtype_is_quantized(dt))
      register_reference_kernel(Op::kLinear, DeviceType::kCpu, dt, &linear_ref);
  }
  return true;
}();

}  // namespace
}  // namespace wick::cpu
