// Reference CPU kernels for reductions along one dim (sum, mean, max, min, argmax) and cumsum.
// Each output element owns one "row" of the input: the n values along attrs.dim, `step` apart.
// Float sums accumulate in double so the reference is exact up to the final rounding; integer
// sums wrap modulo 2^bits (computed in uint64 to avoid signed-overflow UB). max/min propagate NaN
// and argmax returns the first NaN or the first of equal maxima, like torch.
#include <cmath>
#include <limits>

#include "backend/kernel_table.h"
#include "backends/cpu/dispatch.h"
#include "core/strided_loop.h"

namespace wick::cpu {
namespace {

template <class T>
bool is_nan(const T& v) {
  if constexpr (std::is_integral_v<T>) {
    return false;
  } else {
    return std::isnan(load(v));
  }
}

// Sum of the row as double (floats) or as a wrapped integer.
template <class T>
auto row_sum(const T* row, int64_t n, int64_t step) {
  if constexpr (std::is_integral_v<T>) {
    uint64_t acc = 0;
    for (int64_t i = 0; i < n; ++i) acc += static_cast<uint64_t>(row[i * step]);
    return static_cast<T>(acc);
  } else {
    double acc = 0.0;
    for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(load(row[i * step]));
    return acc;
  }
}

// Index of the first maximum (or minimum) of the row; a NaN wins at once. n >= 1.
template <class T>
int64_t row_arg_extreme(const T* row, int64_t n, int64_t step, bool want_max) {
  int64_t best = 0;
  auto best_value = load(row[0]);
  if (is_nan(row[0])) return 0;
  for (int64_t i = 1; i < n; ++i) {
    const T& v = row[i * step];
    if (is_nan(v)) return i;
    const auto value = load(v);
    if (want_max ? value > best_value : value < best_value) {
      best = i;
      best_value = value;
    }
  }
  return best;
}

// x: (.., n, ..) with n at attrs.dim; out: x's shape with 1 at attrs.dim (any strides).
void reduce_ref(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  Tensor& out = call.outputs[0];
  const int dim = call.attrs.dim;
  const int64_t n = x.shape()[dim];
  const int64_t step = x.strides()[dim];
  dispatch_arith(x.dtype(), [&]<class T>() {
    const T* px = typed<T>(x);
    if (call.op == Op::kArgmax) {
      int64_t* po = typed<int64_t>(out);
      for_each_offsets<2>(out.shape(), {&x.strides(), &out.strides()}, {x.offset(), out.offset()},
                          [&](const auto& off) {
                            po[off[1]] = row_arg_extreme(px + off[0], n, step, /*want_max=*/true);
                          });
      return;
    }
    T* po = typed<T>(out);
    for_each_offsets<2>(out.shape(), {&x.strides(), &out.strides()}, {x.offset(), out.offset()},
                        [&](const auto& off) {
                          const T* row = px + off[0];
                          switch (call.op) {
                            case Op::kSum:
                              store(po[off[1]], row_sum(row, n, step));
                              break;
                            case Op::kMean:
                              store(po[off[1]], static_cast<double>(row_sum(row, n, step)) /
                                                    static_cast<double>(n));
                              break;
                            case Op::kMax:
                            case Op::kMin:
                              po[off[1]] =
                                  row[step * row_arg_extreme(row, n, step, call.op == Op::kMax)];
                              break;
                            default:
                              fail(ErrorKind::kInternal, "reduce_ref: {}", op_name(call.op));
                          }
                        });
  });
}

// x, out: same shape; out[.., i, ..] = sum of x[.., 0..i, ..] along attrs.dim.
void cumsum_ref(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  Tensor& out = call.outputs[0];
  const int dim = call.attrs.dim;
  const int64_t n = x.shape()[dim];
  Shape rows = x.shape();
  rows[dim] = 1;
  const int64_t x_step = x.strides()[dim];
  const int64_t out_step = out.strides()[dim];
  dispatch_arith(x.dtype(), [&]<class T>() {
    const T* px = typed<T>(x);
    T* po = typed<T>(out);
    for_each_offsets<2>(rows, {&x.strides(), &out.strides()}, {x.offset(), out.offset()},
                        [&](const auto& off) {
                          if constexpr (std::is_integral_v<T>) {
                            uint64_t acc = 0;
                            for (int64_t i = 0; i < n; ++i) {
                              acc += static_cast<uint64_t>(px[off[0] + i * x_step]);
                              po[off[1] + i * out_step] = static_cast<T>(acc);
                            }
                          } else {
                            double acc = 0.0;
                            for (int64_t i = 0; i < n; ++i) {
                              acc += static_cast<double>(load(px[off[0] + i * x_step]));
                              store(po[off[1] + i * out_step], acc);
                            }
                          }
                        });
  });
}

const bool kRegistered = [] {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kI32, DType::kI64}) {
    for (Op op : {Op::kSum, Op::kMax, Op::kMin, Op::kArgmax})
      register_reference_kernel(op, DeviceType::kCpu, dt, &reduce_ref);
    register_reference_kernel(Op::kCumsum, DeviceType::kCpu, dt, &cumsum_ref);
  }
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16})
    register_reference_kernel(Op::kMean, DeviceType::kCpu, dt, &reduce_ref);
  return true;
}();

}  // namespace
}  // namespace wick::cpu
