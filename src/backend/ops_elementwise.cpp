// Op API for elementwise ops: dtype/device checks, broadcasting, output allocation.
#include <initializer_list>

#include "backend/kernel_table.h"
#include "backend/ops.h"

namespace wick {
namespace {

bool is_binary_dtype(DType dt) {
  return dt == DType::kF32 || dt == DType::kF16 || dt == DType::kBF16 || dt == DType::kI32 ||
         dt == DType::kI64;
}

Tensor binary(Op op, const Tensor& a, const Tensor& b) {
  WICK_CHECK(a.dtype() == b.dtype(), ErrorKind::kInvalidArgument,
             "{}: dtypes differ ({} vs {}); convert with to_dtype()", op_name(op),
             dtype_name(a.dtype()), dtype_name(b.dtype()));
  WICK_CHECK(a.device() == b.device(), ErrorKind::kInvalidArgument, "{}: devices differ ({} vs {})",
             op_name(op), a.device().str(), b.device().str());
  WICK_CHECK(is_binary_dtype(a.dtype()), ErrorKind::kInvalidArgument, "{}: unsupported dtype {}",
             op_name(op), dtype_name(a.dtype()));
  const Shape shape = broadcast_shapes(a.shape(), b.shape());
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  const Tensor inputs[2] = {a.broadcast_to(shape), b.broadcast_to(shape)};
  Tensor outputs[1] = {out};
  const OpAttrs attrs;
  run_kernel(op, a.device().type, a.dtype(), OpCall{op, inputs, outputs, attrs});
  return out;
}

Tensor unary(Op op, const Tensor& x) {
  const bool int_ok = op == Op::kNeg || op == Op::kAbs || op == Op::kSqr || op == Op::kRelu;
  WICK_CHECK(dtype_is_float(x.dtype()) ||
                 (int_ok && (x.dtype() == DType::kI32 || x.dtype() == DType::kI64)),
             ErrorKind::kInvalidArgument, "{}: unsupported dtype {}", op_name(op),
             dtype_name(x.dtype()));
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  const Tensor inputs[1] = {x};
  Tensor outputs[1] = {out};
  const OpAttrs attrs;
  run_kernel(op, x.device().type, x.dtype(), OpCall{op, inputs, outputs, attrs});
  return out;
}

}  // namespace

Tensor gated_act(const Tensor& gate, const Tensor& up, Op act) {
  WICK_CHECK(act == Op::kSilu || act == Op::kGeluTanh || act == Op::kGeluErf || act == Op::kRelu,
             ErrorKind::kInvalidArgument,
             "gated_act: activation {} is not silu, gelu_tanh, gelu_erf or relu", op_name(act));
  WICK_CHECK(gate.defined() && up.defined(), ErrorKind::kInvalidArgument,
             "gated_act: an input is undefined");
  WICK_CHECK(gate.dtype() == up.dtype() && dtype_is_float(gate.dtype()),
             ErrorKind::kInvalidArgument,
             "gated_act: gate {} and up {} must share one float dtype (f32/f16/bf16)",
             dtype_name(gate.dtype()), dtype_name(up.dtype()));
  WICK_CHECK(gate.shape() == up.shape(), ErrorKind::kInvalidArgument,
             "gated_act: gate {} and up {} differ in shape", gate.shape().str(), up.shape().str());
  WICK_CHECK(gate.device() == up.device(), ErrorKind::kInvalidArgument,
             "gated_act: devices differ ({} vs {})", gate.device().str(), up.device().str());
  Tensor out = Tensor::empty(gate.shape(), gate.dtype(), gate.device());
  const Tensor inputs[2] = {gate, up};
  Tensor outputs[1] = {out};
  OpAttrs attrs;
  attrs.act = act;
  run_kernel(Op::kGatedAct, gate.device().type, gate.dtype(),
             OpCall{Op::kGatedAct, inputs, outputs, attrs});
  return out;
}

Tensor scalar_like(const Tensor& x, double value) { return full(Shape{}, value, x.dtype(), x.device()); }

Tensor add(const Tensor& a, const Tensor& b) { return binary(Op::kAdd, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(Op::kSub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(Op::kMul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(Op::kDiv, a, b); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary(Op::kMaximum, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary(Op::kMinimum, a, b); }
Tensor add(const Tensor& a, double b) { return binary(Op::kAdd, a, scalar_like(a, b)); }
Tensor sub(const Tensor& a, double b) { return binary(Op::kSub, a, scalar_like(a, b)); }
Tensor mul(const Tensor& a, double b) { return binary(Op::kMul, a, scalar_like(a, b)); }
Tensor div(const Tensor& a, double b) { return binary(Op::kDiv, a, scalar_like(a, b)); }
Tensor maximum(const Tensor& a, double b) { return binary(Op::kMaximum, a, scalar_like(a, b)); }
Tensor minimum(const Tensor& a, double b) { return binary(Op::kMinimum, a, scalar_like(a, b)); }

Tensor neg(const Tensor& x) { return unary(Op::kNeg, x); }
Tensor exp(const Tensor& x) { return unary(Op::kExp, x); }
Tensor log(const Tensor& x) { return unary(Op::kLog, x); }
Tensor sqrt(const Tensor& x) { return unary(Op::kSqrt, x); }
Tensor rsqrt(const Tensor& x) { return unary(Op::kRsqrt, x); }
Tensor tanh(const Tensor& x) { return unary(Op::kTanh, x); }
Tensor sigmoid(const Tensor& x) { return unary(Op::kSigmoid, x); }
Tensor silu(const Tensor& x) { return unary(Op::kSilu, x); }
Tensor gelu_erf(const Tensor& x) { return unary(Op::kGeluErf, x); }
Tensor gelu_tanh(const Tensor& x) { return unary(Op::kGeluTanh, x); }
Tensor relu(const Tensor& x) { return unary(Op::kRelu, x); }
Tensor abs(const Tensor& x) { return unary(Op::kAbs, x); }
Tensor sqr(const Tensor& x) { return unary(Op::kSqr, x); }

}  // namespace wick
