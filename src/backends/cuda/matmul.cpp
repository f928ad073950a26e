// CUDA matmul and linear. matmul: cuBLAS strided-batched GEMM (f32/f16/bf16 in, f32 compute; no
// TF32), taking transposed or row-padded operands as they are and copying only views cuBLAS
// cannot express (broadcast matrices, non-uniform batch strides). linear with float weights:
// the same GEMM against w^T. linear with GGUF block weights: for <= kGemvMaxRows rows a GEMV
// that streams the weight once (decode; Q4_0/Q8_0 up to qgemv_q8_batch_rows() rows, 16 by
// default); for more rows the weight is dequantized to bf16 and multiplied by cuBLAS (prefill). A bias, or an output dtype other than f32, goes through an f32
// accumulator and one epilogue kernel (acc + bias, rounded once).
#include <algorithm>

#include "backend/kernel_table.h"
#include "backend/ops.h"
#include "backends/cuda/context.h"

namespace wick::cuda {
namespace {

cudaDataType_t cuda_type(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return CUDA_R_32F;
    case DType::kF16:
      return CUDA_R_16F;
    case DType::kBF16:
      return CUDA_R_16BF;
    default:
      fail(ErrorKind::kUnsupported, "cuda gemm: dtype {}", dtype_name(dtype));
  }
}

// A logical row-major (rows, cols) matrix as cuBLAS sees it: column-major with leading dim ld,
// transposed or not. False when the strides fit neither layout.
struct Operand {
  const void* ptr = nullptr;
  bool col_major = false;  // memory is column-major (logical transpose of the row-major view)
  int64_t ld = 0;
  int64_t batch_stride = 0;
};

bool matrix_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, Operand& op) {
  if ((cs == 1 || cols == 1) && (rows == 1 || rs >= std::max<int64_t>(cols, 1))) {
    op.col_major = false;
    op.ld = rows == 1 ? std::max<int64_t>(cols, 1) : rs;
    return true;
  }
  if ((rs == 1 || rows == 1) && (cols == 1 || cs >= std::max<int64_t>(rows, 1))) {
    op.col_major = true;
    op.ld = cols == 1 ? std::max<int64_t>(rows, 1) : cs;
    return true;
  }
  return false;
}

// One stride that steps through every batch matrix in row-major batch order (0 when all batch
// dims are broadcast or size 1); false when there is none.
bool batch_stride(const Tensor& t, int64_t& stride) {
  const int nb = t.rank() - 2;
  stride = 0;
  int64_t expect = -1;  // the stride the next (outer) non-1 dim must have
  bool all_zero = true;
  for (int d = nb - 1; d >= 0; --d) {
    if (t.shape()[d] == 1) continue;
    all_zero = all_zero && t.strides()[d] == 0;
    if (expect < 0) {
      stride = t.strides()[d];
    } else if (t.strides()[d] != expect) {
      return false;
    }
    expect = t.strides()[d] * t.shape()[d];
  }
  if (all_zero) stride = 0;
  return all_zero || stride != 0;
}

// The operand view of t (.., rows, cols), copying to a contiguous tensor when needed (`keep`
// holds the copy alive).
Operand operand_of(const Tensor& t, Tensor& keep) {
  const int r = t.rank();
  Operand op;
  int64_t bs = 0;
  if (matrix_layout(t.shape()[r - 2], t.shape()[r - 1], t.strides()[r - 2], t.strides()[r - 1],
                    op) &&
      batch_stride(t, bs)) {
    op.ptr = t.raw_data();
    op.batch_stride = bs;
    return op;
  }
  keep = copy(t);
  matrix_layout(t.shape()[r - 2], t.shape()[r - 1], keep.strides()[r - 2], keep.strides()[r - 1],
                op);
  batch_stride(keep, bs);
  op.ptr = keep.raw_data();
  op.batch_stride = bs;
  return op;
}

// c (batch, m, n) row-major contiguous, type c_type = a (batch, m, k) @ b (batch, k, n).
// Row-major C = A B is column-major C^T = B^T A^T: cuBLAS's first operand is b, its second a.
void gemm(const Tensor& device_ref, const Operand& a, const Operand& b, DType ab_type, void* c,
          DType c_type, int64_t batch, int64_t m, int64_t n, int64_t k) {
  if (batch == 0 || m == 0 || n == 0) return;
  DeviceContext& ctx = context(device_ref.device().index);
  const float alpha = 1.0f, beta = 0.0f;
  // b row-major (k, n) is column-major (n, k) already: no transpose; a likewise.
  const cublasOperation_t op_b = b.col_major ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = a.col_major ? CUBLAS_OP_T : CUBLAS_OP_N;
  check(cublasGemmStridedBatchedEx(
            ctx.cublas, op_b, op_a, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k),
            &alpha, b.ptr, cuda_type(ab_type), static_cast<int>(b.ld), b.batch_stride, a.ptr,
            cuda_type(ab_type), static_cast<int>(a.ld), a.batch_stride, &beta, c, cuda_type(c_type),
            static_cast<int>(n), m * n, static_cast<int>(batch), CUBLAS_COMPUTE_32F,
            CUBLAS_GEMM_DEFAULT),
        "gemm");
}

// a: (B.., M, K), b: (B.., K, N) (batch dims broadcast by the op API); out (B.., M, N) contiguous.
void matmul_kernel(const OpCall& call) {
  const Tensor& a = call.inputs[0];
  const Tensor& b = call.inputs[1];
  Tensor& out = call.outputs[0];
  const int r = out.rank();
  const int64_t m = out.shape()[r - 2], n = out.shape()[r - 1], k = a.shape()[r - 1];
  if (out.numel() == 0) return;
  if (k == 0) {
    Tensor z = zeros(out.shape(), out.dtype(), out.device());
    copy_into(z, out);
    return;
  }
  Tensor keep_a, keep_b;
  const Operand oa = operand_of(a, keep_a), ob = operand_of(b, keep_b);
  gemm(out, oa, ob, a.dtype(), out.raw_data(), out.dtype(), out.numel() / (m * n), m, n, k);
}

// x (R, K) float of any strides as a 2-d tensor whose rows cuBLAS/GEMV can read.
Tensor rows_2d(const Tensor& x) {
  const int64_t k = x.dim(-1);
  if (x.rank() == 2 && (x.strides()[1] == 1 || k == 1)) return x;
  return contiguous(x).reshape(Shape{x.numel() / std::max<int64_t>(k, 1), k});
}

// out (R.., N) = acc (R, N) f32 + bias, rounded to out's dtype.
void epilogue(const Tensor& acc, const Tensor& bias, Tensor& out) {
  const int64_t n = acc.shape()[1];
  launch_bias_epilogue(
      stream_for(out), acc.shape()[0], n, static_cast<const float*>(acc.raw_data()), view_of(bias),
      bias.defined() ? elem_of(bias.dtype()) : Elem::kF32, elem_of(out.dtype()), out.raw_data());
}

// out (R, N) = x2 (R, K) @ w2 (N, K)^T (+ bias), x2 and w2 of one float dtype.
void linear_gemm(const Tensor& x2, const Tensor& w2, const Tensor& bias, Tensor& out) {
  const int64_t rows = x2.shape()[0], n = w2.shape()[0], k = w2.shape()[1];
  Tensor keep_x, keep_w;
  const Operand ox = operand_of(x2, keep_x);
  const Operand ow = operand_of(w2.t(), keep_w);  // (K, N) view of w
  const bool direct = !bias.defined() && out.dtype() == x2.dtype();
  if (direct) {
    gemm(out, ox, ow, x2.dtype(), out.raw_data(), out.dtype(), 1, rows, n, k);
    return;
  }
  Tensor acc = Tensor::empty(Shape{rows, n}, DType::kF32, out.device());
  gemm(out, ox, ow, x2.dtype(), acc.raw_data(), DType::kF32, 1, rows, n, k);
  epilogue(acc, bias, out);
}

// x: (R.., K) float; w: (N, K) float or GGUF blocks (contiguous); bias (N) or undefined;
// out: (R.., N) contiguous, x's dtype.
void linear_kernel(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  const Tensor& w = call.inputs[1];
  const Tensor& bias = call.inputs[2];
  Tensor& out = call.outputs[0];
  const int64_t n = w.shape()[0], k = w.shape()[1];
  const int64_t rows = k == 0 ? out.numel() / std::max<int64_t>(n, 1) : x.numel() / k;
  if (out.numel() == 0) return;
  if (k == 0) {
    Tensor acc = zeros(Shape{rows, n}, DType::kF32, out.device());
    epilogue(acc, bias, out);
    return;
  }
  cudaStream_t s = stream_for(out);
  if (!dtype_is_quantized(w.dtype())) {
    if (x.dtype() == w.dtype()) {
      linear_gemm(rows_2d(x), w, bias, out);
      return;
    }
    // f32 x, f16/bf16 w. Decode: a GEMV reads w as stored and multiplies in f32 (exact
    // products, as widening would give). Prefill: x = hi + lo, both in w's dtype, as one cuBLAS
    // GEMM of 2R rows with f32 accumulation, halves added: ~16 significant bits of x survive
    // (widening the weight instead would copy it at twice its size on every call).
    const bool narrow_w = x.dtype() == DType::kF32 && w.is_contiguous() &&
                          (w.dtype() == DType::kF16 || w.dtype() == DType::kBF16);
    if (narrow_w && rows <= kGemvMaxRows) {
      Tensor x32 = contiguous(x);
      if (reinterpret_cast<uintptr_t>(x32.raw_data()) % 16 != 0) x32 = copy(x32);
      const bool direct = !bias.defined() && out.dtype() == DType::kF32;
      Tensor acc = direct ? out : Tensor::empty(Shape{rows, n}, DType::kF32, out.device());
      if (launch_gemv_float(s, elem_of(w.dtype()), w.raw_data(), n, k,
                            static_cast<const float*>(x32.raw_data()), rows,
                            static_cast<float*>(acc.raw_data()))) {
        if (!direct) epilogue(acc, bias, out);
        return;
      }
    }
    if (narrow_w && w.dtype() == DType::kF16) {
      // Prefill with f16 weights: x rounded to f16 (11 significant bits, as llama.cpp does) and
      // one cuBLAS GEMM with f32 accumulation, written straight into an f32 output.
      const Tensor xh = rows_2d(to_dtype(x, DType::kF16));
      const bool direct = !bias.defined() && out.dtype() == DType::kF32;
      Tensor acc = direct ? out : Tensor::empty(Shape{rows, n}, DType::kF32, out.device());
      Tensor keep_x, keep_w;
      gemm(out, operand_of(xh, keep_x), operand_of(w.t(), keep_w), DType::kF16, acc.raw_data(),
           DType::kF32, 1, rows, n, k);
      if (!direct) epilogue(acc, bias, out);
      return;
    }
    if (narrow_w) {
      const Tensor xf = rows_2d(x);
      const Tensor hi = to_dtype(xf, w.dtype());
      const Tensor lo = to_dtype(sub(xf, to_dtype(hi, DType::kF32)), w.dtype());
      const Tensor both = concat({hi, lo}, 0);  // (2R, K)
      Tensor acc2 = Tensor::empty(Shape{2 * rows, n}, DType::kF32, out.device());
      Tensor keep_x, keep_w;
      gemm(out, operand_of(both, keep_x), operand_of(w.t(), keep_w), w.dtype(), acc2.raw_data(),
           DType::kF32, 1, 2 * rows, n, k);
      epilogue(add(acc2.narrow(0, 0, rows), acc2.narrow(0, rows, rows)), bias, out);
      return;
    }
    const DType t = DType::kF32;  // other mixes: widen so no input loses precision
    linear_gemm(rows_2d(to_dtype(x, t)), to_dtype(w, t), bias, out);
    return;
  }
  if (rows <= kGemvMaxRows) {
    Tensor x32 = contiguous(to_dtype(x, DType::kF32));
    if (reinterpret_cast<uintptr_t>(x32.raw_data()) % 16 != 0) x32 = copy(x32);
    const bool direct = !bias.defined() && out.dtype() == DType::kF32;
    Tensor acc = direct ? out : Tensor::empty(Shape{rows, n}, DType::kF32, out.device());
    const QType qt = qtype_of(w.dtype());
    const Tensor scratch =
        Tensor::empty(Shape{qgemv_q8_scratch_bytes(rows, k)}, DType::kU8, out.device());
    if (!launch_qgemv_q8(s, qt, w.raw_data(), n, k, static_cast<const float*>(x32.raw_data()), rows,
                         scratch.raw_data(), static_cast<float*>(acc.raw_data())))
      launch_qgemv(s, qt, w.raw_data(), n, k, static_cast<const float*>(x32.raw_data()), rows,
                   static_cast<float*>(acc.raw_data()));
    if (!direct) epilogue(acc, bias, out);
    return;
  }
  if (rows <= qgemv_q8_batch_rows()) {
    // Batched decode (9-16 rows by default): passes of up to 16 rows through the int8 GEMV, each
    // streaming the quantized weight once, instead of a bf16 copy of the whole weight per call.
    Tensor x32 = contiguous(to_dtype(x, DType::kF32));
    if (reinterpret_cast<uintptr_t>(x32.raw_data()) % 16 != 0) x32 = copy(x32);
    const bool direct = !bias.defined() && out.dtype() == DType::kF32;
    Tensor acc = direct ? out : Tensor::empty(Shape{rows, n}, DType::kF32, out.device());
    const QType qt = qtype_of(w.dtype());
    const int64_t pass = std::min<int64_t>(rows, kQgemvQ8MaxRows);
    const Tensor scratch =
        Tensor::empty(Shape{qgemv_q8_scratch_bytes(pass, k)}, DType::kU8, out.device());
    const auto* xp = static_cast<const float*>(x32.raw_data());
    auto* ap = static_cast<float*>(acc.raw_data());
    bool ok = true;
    for (int64_t r0 = 0; ok && r0 < rows; r0 += pass) {
      const int64_t m = std::min(pass, rows - r0);
      // k % 256 == 0 keeps every pass's x rows 16-byte aligned.
      ok = launch_qgemv_q8(s, qt, w.raw_data(), n, k, xp + r0 * k, m, scratch.raw_data(),
                           ap + r0 * n);
    }
    if (ok) {
      if (!direct) epilogue(acc, bias, out);
      return;
    }
    // Not a Q4_0/Q8_0 weight the int8 GEMV takes (refused on the first pass): the GEMM below.
  }
  Tensor wb = Tensor::empty(Shape{n, k}, DType::kBF16, out.device());
  launch_dequantize(s, qtype_of(w.dtype()), w.raw_data(), n, k, Elem::kBF16, wb.raw_data());
  const bool direct = !bias.defined() && out.dtype() == DType::kF32;
  Tensor acc = direct ? out : Tensor::empty(Shape{rows, n}, DType::kF32, out.device());
  Tensor keep_x, keep_w;
  const Tensor xb = rows_2d(to_dtype(x, DType::kBF16));
  gemm(out, operand_of(xb, keep_x), operand_of(wb.t(), keep_w), DType::kBF16, acc.raw_data(),
       DType::kF32, 1, rows, n, k);
  if (!direct) epilogue(acc, bias, out);
}

template <void (*Fn)(const OpCall&)>
void reg(Op op, DType dtype) {
  register_reference_kernel(op, DeviceType::kCuda, dtype,
                            [](const OpCall& call) { guarded(call.op, [&] { Fn(call); }); });
}

const bool kRegistered = [] {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) reg<matmul_kernel>(Op::kMatmul, dt);
  for (int i = 0; i < kDTypeCount; ++i) {
    const auto dt = static_cast<DType>(i);
    if (dtype_is_float(dt) || dtype_is_quantized(dt)) reg<linear_kernel>(Op::kLinear, dt);
  }
  return true;
}();

}  // namespace
}  // namespace wick::cuda
