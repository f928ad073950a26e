// Op API for reductions along one dimension (sum, mean, max, min, argmax) and the running sum
// (cumsum). The kernel always writes an output that keeps a size-1 dimension where the input was
// reduced; the frontend squeezes it away unless keepdim. Integer inputs reduce in their own dtype
// (no promotion to i64 as torch does for sum: we keep "no implicit promotion" everywhere).
#include "backend/kernel_table.h"
#include "backend/ops.h"

namespace wick {
namespace {

bool is_reducible_dtype(DType dt) {
  return dtype_is_float(dt) || dt == DType::kI32 || dt == DType::kI64;
}

// Resolves a possibly negative dim against x's rank, naming the op when it is out of range.
int resolve_dim(Op op, const Tensor& x, int dim) {
  const int rank = x.rank();
  const int d = dim < 0 ? dim + rank : dim;
  WICK_CHECK(d >= 0 && d < rank, ErrorKind::kInvalidArgument,
             "{}: dim {} out of range for input of shape {}", op_name(op), dim, x.shape().str());
  return d;
}

void check_input(Op op, const Tensor& x) {
  WICK_CHECK(x.defined(), ErrorKind::kInvalidArgument, "{}: input is undefined", op_name(op));
  WICK_CHECK(is_reducible_dtype(x.dtype()), ErrorKind::kInvalidArgument,
             "{}: unsupported dtype {} (input shape {}); expected f32/f16/bf16/i32/i64",
             op_name(op), dtype_name(x.dtype()), x.shape().str());
}

Tensor reduce(Op op, const Tensor& x, int dim, bool keepdim) {
  check_input(op, x);
  const int d = resolve_dim(op, x, dim);
  WICK_CHECK(op != Op::kMean || dtype_is_float(x.dtype()), ErrorKind::kInvalidArgument,
             "mean: dtype {} is not a float type; convert with to_dtype() first",
             dtype_name(x.dtype()));
  const bool needs_element = op == Op::kMax || op == Op::kMin || op == Op::kArgmax;
  WICK_CHECK(!needs_element || x.shape()[d] > 0, ErrorKind::kInvalidArgument,
             "{}: cannot reduce an empty dimension {} of shape {}", op_name(op), d,
             x.shape().str());
  Shape out_shape = x.shape();
  out_shape[d] = 1;
  const DType out_dtype = op == Op::kArgmax ? DType::kI64 : x.dtype();
  Tensor out = Tensor::empty(out_shape, out_dtype, x.device());
  OpAttrs attrs;
  attrs.dim = d;
  attrs.keepdim = keepdim;
  const Tensor inputs[1] = {x};
  Tensor outputs[1] = {out};
  run_kernel(op, x.device().type, x.dtype(), OpCall{op, inputs, outputs, attrs});
  return keepdim ? out : out.squeeze(d);
}

}  // namespace

Tensor sum(const Tensor& x, int dim, bool keepdim) {
  return reduce(Op::kSum, x, dim, keepdim);
}
Tensor mean(const Tensor& x, int dim, bool keepdim) {
  return reduce(Op::kMean, x, dim, keepdim);
}
Tensor max(const Tensor& x, int dim, bool keepdim) {
  return reduce(Op::kMax, x, dim, keepdim);
}
Tensor min(const Tensor& x, int dim, bool keepdim) {
  return reduce(Op::kMin, x, dim, keepdim);
}
Tensor argmax(const Tensor& x, int dim, bool keepdim) {
  return reduce(Op::kArgmax, x, dim, keepdim);
}

Tensor cumsum(const Tensor& x, int dim) {
  check_input(Op::kCumsum, x);
  OpAttrs attrs;
  attrs.dim = resolve_dim(Op::kCumsum, x, dim);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  const Tensor inputs[1] = {x};
  Tensor outputs[1] = {out};
  run_kernel(Op::kCumsum, x.device().type, x.dtype(), OpCall{Op::kCumsum, inputs, outputs, attrs});
  return out;
}

}  // namespace wick
