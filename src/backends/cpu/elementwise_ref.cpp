// Reference CPU kernels for elementwise ops: one strided loop, math in f32 for float dtypes.
// These define what the ops mean; fast paths are tested against them.
#include <cmath>

#include "backend/kernel_table.h"
#include "backends/cpu/dispatch.h"
#include "core/strided_loop.h"

namespace wick::cpu {
namespace {

template <class V>
V apply_binary(Op op, V a, V b) {
  switch (op) {
    case Op::kAdd: return a + b;
    case Op::kSub: return a - b;
    case Op::kMul: return a * b;
    case Op::kDiv:
      if constexpr (std::is_integral_v<V>) {
        // Integer division by zero is undefined in C++; define it as 0 rather than crash.
        return b == 0 ? V(0) : a / b;
      } else {
        return a / b;
      }
    case Op::kMaximum: return a > b || a != a ? a : b;  // NaN propagates like torch.maximum
    case Op::kMinimum: return a < b || a != a ? a : b;
    default: fail(ErrorKind::kInternal, "not a binary op: {}", op_name(op));
  }
}

template <class V>
V apply_unary(Op op, V x) {
  if constexpr (std::is_integral_v<V>) {
    switch (op) {
      case Op::kNeg: return -x;
      case Op::kAbs: return x < 0 ? -x : x;
      case Op::kSqr: return x * x;
      case Op::kRelu: return x > 0 ? x : V(0);
      default: fail(ErrorKind::kInternal, "unary {} on an integer", op_name(op));
    }
  } else {
    switch (op) {
      case Op::kNeg: return -x;
      case Op::kExp: return std::exp(x);
      case Op::kLog: return std::log(x);
      case Op::kSqrt: return std::sqrt(x);
      case Op::kRsqrt: return 1.0f / std::sqrt(x);
      case Op::kTanh: return std::tanh(x);
      case Op::kSigmoid: return 1.0f / (1.0f + std::exp(-x));
      case Op::kSilu: return x / (1.0f + std::exp(-x));
      case Op::kGeluErf: return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
      case Op::kGeluTanh: {
        const float inner = 0.79788456080286536f * (x + 0.044715f * x * x * x);
        return 0.5f * x * (1.0f + std::tanh(inner));
      }
      case Op::kRelu: return x > 0 ? x : 0.0f;
      case Op::kAbs: return std::fabs(x);
      case Op::kSqr: return x * x;
      default: fail(ErrorKind::kInternal, "not a unary op: {}", op_name(op));
    }
  }
}

// a, b, out: same shape (inputs broadcast by the op API), any strides.
void binary_ref(const OpCall& call) {
  const Tensor& a = call.inputs[0];
  const Tensor& b = call.inputs[1];
  Tensor& out = call.outputs[0];
  dispatch_arith(out.dtype(), [&]<class T>() {
    const T* pa = typed<T>(a);
    const T* pb = typed<T>(b);
    T* po = typed<T>(out);
    for_each_offsets<3>(out.shape(), {&a.strides(), &b.strides(), &out.strides()},
                        {a.offset(), b.offset(), out.offset()}, [&](const auto& off) {
                          store(po[off[2]], apply_binary(call.op, load(pa[off[0]]), load(pb[off[1]])));
                        });
  });
}

void unary_ref(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  Tensor& out = call.outputs[0];
  dispatch_arith(out.dtype(), [&]<class T>() {
    const T* px = typed<T>(x);
    T* po = typed<T>(out);
    for_each_offsets<2>(out.shape(), {&x.strides(), &out.strides()}, {x.offset(), out.offset()},
                        [&](const auto& off) { store(po[off[1]], apply_unary(call.op, load(px[off[0]]))); });
  });
}

// gate, up, out: same shape, any strides; out = act(gate) * up in f32.
void gated_act_ref(const OpCall& call) {
  const Tensor& g = call.inputs[0];
  const Tensor& u = call.inputs[1];
  Tensor& out = call.outputs[0];
  dispatch_float(out.dtype(), [&]<class T>() {
    const T* pg = typed<T>(g);
    const T* pu = typed<T>(u);
    T* po = typed<T>(out);
    for_each_offsets<3>(out.shape(), {&g.strides(), &u.strides(), &out.strides()},
                        {g.offset(), u.offset(), out.offset()}, [&](const auto& off) {
                          const float a = apply_unary(call.attrs.act, static_cast<float>(load(pg[off[0]])));
                          store(po[off[2]], a * static_cast<float>(load(pu[off[1]])));
                        });
  });
}

const bool kRegistered = [] {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16})
    register_reference_kernel(Op::kGatedAct, DeviceType::kCpu, dt, &gated_act_ref);
  for (Op op : {Op::kAdd, Op::kSub, Op::kMul, Op::kDiv, Op::kMaximum, Op::kMinimum})
    for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kI32, DType::kI64})
      register_reference_kernel(op, DeviceType::kCpu, dt, &binary_ref);
  for (Op op : {Op::kNeg, Op::kExp, Op::kLog, Op::kSqrt, Op::kRsqrt, Op::kTanh, Op::kSigmoid,
                Op::kSilu, Op::kGeluErf, Op::kGeluTanh, Op::kRelu, Op::kAbs, Op::kSqr}) {
    for (DType dt : {DType::kF32, DType::kF16, DType::kBF16})
      register_reference_kernel(op, DeviceType::kCpu, dt, &unary_ref);
    if (op == Op::kNeg || op == Op::kAbs || op == Op::kSqr || op == Op::kRelu)
      for (DType dt : {DType::kI32, DType::kI64})
        register_reference_kernel(op, DeviceType::kCpu, dt, &unary_ref);
  }
  return true;
}();

}  // namespace
}  // namespace wick::cpu
