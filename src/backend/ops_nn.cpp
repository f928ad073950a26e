// Op API for the fused row ops of transformer blocks: softmax, log_softmax, rms_norm,
// layer_norm (all over the last dim) and rotary position embedding. Inputs are float
// (f32/f16/bf16); the kernels compute in f32 or better and round once to the input's dtype.
// Weights and biases must share x's dtype (no implicit promotion; convert with to_dtype()).
#include "backend/kernel_table.h"
#include "backend/ops.h"

namespace wick {
namespace {

void check_float_input(Op op, const Tensor& x) {
  WICK_CHECK(x.defined(), ErrorKind::kInvalidArgument, "{}: input is undefined", op_name(op));
  WICK_CHECK(dtype_is_float(x.dtype()), ErrorKind::kInvalidArgument,
             "{}: input dtype {} (shape {}) is not f32/f16/bf16", op_name(op),
             dtype_name(x.dtype()), x.shape().str());
  WICK_CHECK(x.rank() >= 1, ErrorKind::kInvalidArgument, "{}: input is 0-d; need rank >= 1",
             op_name(op));
}

// weight/bias of a norm: undefined, or (D) of x's dtype on x's device.
void check_norm_param(Op op, const char* what, const Tensor& p, const Tensor& x) {
  if (!p.defined()) return;
  WICK_CHECK(p.rank() == 1 && p.shape()[0] == x.shape().back(), ErrorKind::kInvalidArgument,
             "{}: {} has shape {}, expected ({}) for input of shape {}", op_name(op), what,
             p.shape().str(), x.shape().back(), x.shape().str());
  WICK_CHECK(p.dtype() == x.dtype(), ErrorKind::kInvalidArgument,
             "{}: {} dtype {} differs from input dtype {}; convert with to_dtype()", op_name(op),
             what, dtype_name(p.dtype()), dtype_name(x.dtype()));
  WICK_CHECK(p.device() == x.device(), ErrorKind::kInvalidArgument, "{}: {} is on {}, input on {}",
             op_name(op), what, p.device().str(), x.device().str());
}

// True when `from` broadcasts to `to` without changing `to` (NumPy rules, from.rank <= to.rank).
bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.rank() > to.rank()) return false;
  const int lead = to.rank() - from.rank();
  for (int i = 0; i < from.rank(); ++i)
    if (from[i] != 1 && from[i] != to[lead + i]) return false;
  return true;
}

// Runs `op` keyed by x's dtype with one output shaped and typed like x.
Tensor run_like_x(Op op, std::span<const Tensor> inputs, const OpAttrs& attrs) {
  const Tensor& x = inputs[0];
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor outputs[1] = {out};
  run_kernel(op, x.device().type, x.dtype(), OpCall{op, inputs, outputs, attrs});
  return out;
}

Tensor softmax_family(Op op, const Tensor& x) {
  check_float_input(op, x);
  const Tensor inputs[1] = {x};
  return run_like_x(op, inputs, OpAttrs{});
}

}  // namespace

Tensor softmax(const Tensor& x) {
  return softmax_family(Op::kSoftmax, x);
}
Tensor log_softmax(const Tensor& x) {
  return softmax_family(Op::kLogSoftmax, x);
}

// An undefined weight means no scaling at all (weight_offset is then ignored).
Tensor rms_norm(const Tensor& x, const Tensor& weight, float eps, float weight_offset) {
  check_float_input(Op::kRmsNorm, x);
  check_norm_param(Op::kRmsNorm, "weight", weight, x);
  WICK_CHECK(eps >= 0.0f, ErrorKind::kInvalidArgument, "rms_norm: eps {} is negative", eps);
  OpAttrs attrs;
  attrs.eps = eps;
  attrs.weight_offset = weight_offset;
  const Tensor inputs[2] = {x, weight};
  return run_like_x(Op::kRmsNorm, inputs, attrs);
}

std::pair<Tensor, Tensor> add_rms_norm(const Tensor& x, const Tensor& h, const Tensor& weight,
                                       float eps, float weight_offset) {
  check_float_input(Op::kAddRmsNorm, x);
  check_norm_param(Op::kAddRmsNorm, "weight", weight, x);
  WICK_CHECK(h.defined() && h.shape() == x.shape() && h.dtype() == x.dtype() &&
                 h.device() == x.device(),
             ErrorKind::kInvalidArgument,
             "add_rms_norm: h {} {} on {} must match x {} {} on {}",
             h.defined() ? dtype_name(h.dtype()) : "undefined", h.shape().str(),
             h.device().str(), dtype_name(x.dtype()), x.shape().str(), x.device().str());
  WICK_CHECK(eps >= 0.0f, ErrorKind::kInvalidArgument, "add_rms_norm: eps {} is negative", eps);
  OpAttrs attrs;
  attrs.eps = eps;
  attrs.weight_offset = weight_offset;
  const Tensor inputs[3] = {contiguous(x), contiguous(h), weight.defined() ? contiguous(weight) : weight};
  Tensor outputs[2] = {Tensor::empty(x.shape(), x.dtype(), x.device()),
                       Tensor::empty(x.shape(), x.dtype(), x.device())};
  run_kernel(Op::kAddRmsNorm, x.device().type, x.dtype(),
             OpCall{Op::kAddRmsNorm, inputs, outputs, attrs});
  return {outputs[0], outputs[1]};
}

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  check_float_input(Op::kLayerNorm, x);
  check_norm_param(Op::kLayerNorm, "weight", weight, x);
  check_norm_param(Op::kLayerNorm, "bias", bias, x);
  WICK_CHECK(eps >= 0.0f, ErrorKind::kInvalidArgument, "layer_norm: eps {} is negative", eps);
  OpAttrs attrs;
  attrs.eps = eps;
  const Tensor inputs[3] = {x, weight, bias};
  return run_like_x(Op::kLayerNorm, inputs, attrs);
}

Tensor rope(const Tensor& x, const Tensor& positions, const Tensor& inv_freq, bool neox) {
  check_float_input(Op::kRope, x);
  WICK_CHECK(x.rank() >= 2, ErrorKind::kInvalidArgument,
             "rope: input of shape {} needs rank >= 2 (..., H, D)", x.shape().str());
  WICK_CHECK(positions.defined() && inv_freq.defined(), ErrorKind::kInvalidArgument,
             "rope: positions and inv_freq must be defined");
  WICK_CHECK(positions.dtype() == DType::kI32 || positions.dtype() == DType::kI64,
             ErrorKind::kInvalidArgument, "rope: positions dtype {} is not i32/i64",
             dtype_name(positions.dtype()));
  WICK_CHECK(inv_freq.dtype() == DType::kF32 && inv_freq.rank() == 1, ErrorKind::kInvalidArgument,
             "rope: inv_freq must be a 1-d f32 tensor, got {} {}", dtype_name(inv_freq.dtype()),
             inv_freq.shape().str());
  const int64_t head_dim = x.shape().back();
  WICK_CHECK(2 * inv_freq.shape()[0] <= head_dim, ErrorKind::kInvalidArgument,
             "rope: inv_freq of shape {} rotates {} dims, more than the head dim {} of input {}",
             inv_freq.shape().str(), 2 * inv_freq.shape()[0], head_dim, x.shape().str());
  WICK_CHECK(positions.device() == x.device() && inv_freq.device() == x.device(),
             ErrorKind::kInvalidArgument, "rope: positions/inv_freq not on the input's device {}",
             x.device().str());
  // positions: x.shape[:-2], or anything that broadcasts to it (e.g. (T) for x (B, T, H, D)).
  const Shape lead(std::span<const int64_t>(x.shape().begin(), static_cast<size_t>(x.rank() - 2)));
  WICK_CHECK(broadcasts_to(positions.shape(), lead), ErrorKind::kInvalidArgument,
             "rope: positions of shape {} do not broadcast to {} for input {}",
             positions.shape().str(), lead.str(), x.shape().str());
  OpAttrs attrs;
  attrs.rope_neox = neox;
  const Tensor inputs[3] = {x, positions.broadcast_to(lead), inv_freq};
  return run_like_x(Op::kRope, inputs, attrs);
}

}  // namespace wick
