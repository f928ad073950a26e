// Op API for matmul and linear: shape/dtype checks, batch broadcasting, output allocation.
// matmul: a (..., M, K) @ b (..., K, N), same float dtype, kernel key = a's dtype.
// linear: x (..., K) float @ w (N, K)^T + bias (N); kernel key = w's dtype (any, incl. GGUF
// blocks).
#include <cstdlib>
#include <cstring>

#include "backend/kernel_table.h"
#include "backend/ops.h"

namespace wick {
namespace {

Shape batch_of(const Shape& s) {
  Shape batch = s;
  batch.resize(s.rank() - 2);
  return batch;
}

Shape with_tail(Shape s, int64_t r, int64_t c) {
  s.push_back(r);
  s.push_back(c);
  return s;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  WICK_CHECK(a.rank() >= 2 && b.rank() >= 2, ErrorKind::kInvalidArgument,
             "matmul: operands need rank >= 2, got a {} and b {}", a.shape().str(),
             b.shape().str());
  WICK_CHECK(a.dtype() == b.dtype(), ErrorKind::kInvalidArgument,
             "matmul: dtypes differ ({} vs {}); convert with to_dtype()", dtype_name(a.dtype()),
             dtype_name(b.dtype()));
  WICK_CHECK(dtype_is_float(a.dtype()), ErrorKind::kInvalidArgument,
             "matmul: unsupported dtype {} (f32, f16, bf16)", dtype_name(a.dtype()));
  WICK_CHECK(a.device() == b.device(), ErrorKind::kInvalidArgument,
             "matmul: devices differ ({} vs {})", a.device().str(), b.device().str());
  const int64_t m = a.dim(-2), k = a.dim(-1), n = b.dim(-1);
  WICK_CHECK(b.dim(-2) == k, ErrorKind::kInvalidArgument,
             "matmul: inner dimensions differ: a {} @ b {} (K {} vs {})", a.shape().str(),
             b.shape().str(), k, b.dim(-2));
  const Shape batch = broadcast_shapes(batch_of(a.shape()), batch_of(b.shape()));
  Tensor out = Tensor::empty(with_tail(batch, m, n), a.dtype(), a.device());
  const Tensor inputs[2] = {a.broadcast_to(with_tail(batch, m, k)),
                            b.broadcast_to(with_tail(batch, k, n))};
  Tensor outputs[1] = {out};
  const OpAttrs attrs;
  run_kernel(Op::kMatmul, a.device().type, a.dtype(), OpCall{Op::kMatmul, inputs, outputs, attrs});
  return out;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  WICK_CHECK(x.rank() >= 1 && dtype_is_float(x.dtype()), ErrorKind::kInvalidArgument,
             "linear: x must be a float tensor of rank >= 1, got {}", x.str());
  WICK_CHECK(w.rank() == 2, ErrorKind::kInvalidArgument, "linear: w must be (N, K), got {}",
             w.shape().str());
  WICK_CHECK(x.device() == w.device(), ErrorKind::kInvalidArgument,
             "linear: devices differ (x {} vs w {})", x.device().str(), w.device().str());
  const int64_t n = w.dim(0), k = w.dim(1);
  WICK_CHECK(x.dim(-1) == k, ErrorKind::kInvalidArgument,
             "linear: x {} has {} features but w {} expects {}", x.shape().str(), x.dim(-1),
             w.shape().str(), k);
  WICK_CHECK(dtype_is_float(w.dtype()) || dtype_is_quantized(w.dtype()),
             ErrorKind::kInvalidArgument, "linear: unsupported weight dtype {}",
             dtype_name(w.dtype()));
  if (dtype_is_quantized(w.dtype())) {
    WICK_CHECK(w.is_contiguous(), ErrorKind::kUnsupported,
               "linear: quantized weight {} must be contiguous (rows of whole blocks)", w.str());
    WICK_CHECK(k % dtype_info(w.dtype()).block_size == 0, ErrorKind::kInvalidArgument,
               "linear: K {} is not a multiple of the {} block size {}", k, dtype_name(w.dtype()),
               dtype_info(w.dtype()).block_size);
  }
  if (bias.defined()) {
    WICK_CHECK(bias.rank() == 1 && bias.dim(0) == n && dtype_is_float(bias.dtype()),
               ErrorKind::kInvalidArgument, "linear: bias must be float ({}), got {}", n,
               bias.str());
    WICK_CHECK(bias.device() == x.device(), ErrorKind::kInvalidArgument,
               "linear: bias on {} but x on {}", bias.device().str(), x.device().str());
  }
  Shape out_shape = x.shape();
  out_shape[out_shape.rank() - 1] = n;
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  const Tensor inputs[3] = {x, w, bias};
  Tensor outputs[1] = {out};
  const OpAttrs attrs;
  run_kernel(Op::kLinear, x.device().type, w.dtype(), OpCall{Op::kLinear, inputs, outputs, attrs});
  return out;
}

Tensor prepare_linear_weight(const Tensor& w) {
  if (!w.defined() || is_packed(w)) return w;
  static const bool disabled = [] {
    const char* env = std::getenv("WICK_NO_REPACK");
    return env != nullptr && env[0] != '\0' && std::strcmp(env, "0") != 0;
  }();
  if (disabled || force_reference_kernels()) return w;
  const WeightPacker* packer = find_weight_packer(w.device().type);
  return packer != nullptr ? packer->pack(w) : w;
}

Tensor unpack_linear_weight(const Tensor& w) {
  if (!is_packed(w)) return w;
  const WeightPacker* packer = find_weight_packer(w.device().type);
  WICK_CHECK(packer != nullptr, ErrorKind::kUnsupported, "packed weight {} without a packer",
             w.str());
  return packer->unpack(w);
}

}  // namespace wick
