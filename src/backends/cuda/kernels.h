// The boundary between the CUDA backend's host code (*.cpp, compiled by the C++ compiler, which
// knows Tensor and the kernel table) and its device code (*.cu, compiled by nvcc, which knows
// only this header): plain structs of pointers, extents and strides, and one launch function per
// kernel family. Every launch is asynchronous on the given stream.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#if defined(__CUDACC__)
#define WICK_HOST_DEVICE __host__ __device__
#else
#define WICK_HOST_DEVICE
#endif

namespace wick::cuda {

inline constexpr int kMaxDims = 8;

// Element types as the device code sees them. kU8 also carries bool (one byte, 0 or 1).
enum class Elem : uint8_t { kF32, kF16, kBF16, kI32, kI64, kU8, kBool };

// Extents of the index space a kernel walks, row-major.
struct Dims {
  int rank = 0;
  int64_t shape[kMaxDims] = {};
  WICK_HOST_DEVICE int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= shape[i];
    return n;
  }
};

// One tensor as a kernel sees it: base pointer of the storage, element offset, and strides in
// elements over the kernel's Dims (0 for broadcast dims).
struct View {
  void* base = nullptr;
  int64_t offset = 0;
  int64_t strides[kMaxDims] = {};
};

// Op codes for the elementwise families (mirrors the wick::Op values that the host maps here).
enum class BinaryOp : uint8_t { kAdd, kSub, kMul, kDiv, kMaximum, kMinimum };
enum class UnaryOp : uint8_t {
  kNeg,
  kExp,
  kLog,
  kSqrt,
  kRsqrt,
  kTanh,
  kSigmoid,
  kSilu,
  kGeluErf,
  kGeluTanh,
  kRelu,
  kAbs,
  kSqr
};
enum class ReduceOp : uint8_t { kSum, kMean, kMax, kMin, kArgmax };

// Quantized block formats the device decoders know (the GGUF layouts of core/quant/blocks.h).
enum class QType : uint8_t {
  kQ4_0,
  kQ4_1,
  kQ5_0,
  kQ5_1,
  kQ8_0,
  kQ8_1,
  kQ2_K,
  kQ3_K,
  kQ4_K,
  kQ5_K,
  kQ6_K,
  kQ8_K,
  kIQ4_NL,
  kIQ4_XS
};

// ---- layout (layout.cu) ----
// dst = src element by element (elem_bytes 1, 2, 4 or 8), both through views over dims.
void launch_copy(cudaStream_t s, const Dims& dims, int elem_bytes, const View& src,
                 const View& dst);
void launch_cast(cudaStream_t s, const Dims& dims, Elem from, Elem to, const View& src,
                 const View& dst);
// Every element of dst = the elem_bytes little-endian bytes of `pattern`.
void launch_fill(cudaStream_t s, const Dims& dims, int elem_bytes, uint64_t pattern,
                 const View& dst);
void launch_binary(cudaStream_t s, BinaryOp op, Elem t, const Dims& dims, const View& a,
                   const View& b, const View& out);
void launch_unary(cudaStream_t s, UnaryOp op, Elem t, const Dims& dims, const View& x,
                  const View& out);
// sum = x + h (rounded to t), out = rms_norm(sum) * (w + weight_offset) (w null: no scale), all
// contiguous (rows, n) of float type t.
void launch_add_rms_norm(cudaStream_t s, Elem t, const void* x, const void* h, const void* w,
                         void* sum, void* out, int64_t rows, int64_t n, float weight_offset,
                         float eps);
// out = act(gate) * up (act: kSilu, kGeluTanh, kGeluErf or kRelu), f32 math, float types.
void launch_gated_act(cudaStream_t s, UnaryOp act, Elem t, const Dims& dims, const View& gate,
                      const View& up, const View& out);

// ---- reductions and row ops (reduce.cu); `rows` walks one element per row ----
// x row: n values `step` apart from the row's x offset; out: one value per row.
void launch_reduce(cudaStream_t s, ReduceOp op, Elem t, const Dims& rows, const View& x,
                   const View& out, int64_t n, int64_t step);
void launch_cumsum(cudaStream_t s, Elem t, const Dims& rows, const View& x, const View& out,
                   int64_t n, int64_t x_step, int64_t out_step);
void launch_softmax(cudaStream_t s, bool log_space, Elem t, const Dims& rows, const View& x,
                    const View& out, int64_t n, int64_t x_step, int64_t out_step);
// weight/bias: `base` null when absent; offset/strides[0] address element i of the (n) vector.
void launch_rms_norm(cudaStream_t s, Elem t, const Dims& rows, const View& x, const View& out,
                     int64_t n, int64_t x_step, int64_t out_step, const View& weight,
                     float weight_offset, float eps);
void launch_layer_norm(cudaStream_t s, Elem t, const Dims& rows, const View& x, const View& out,
                       int64_t n, int64_t x_step, int64_t out_step, const View& weight,
                       const View& bias, float eps);
// dims: x's shape (.., H, D); pos: positions broadcast over (.., H, D) (strides 0 for H, D).
void launch_rope(cudaStream_t s, Elem t, const Dims& dims, const View& x, const View& out,
                 const View& pos, bool pos_i64, const View& inv_freq, int64_t half, bool neox);
// Largest k of each row (n values x_step apart): values (x's type) and i64 indices.
void launch_topk(cudaStream_t s, Elem t, const Dims& rows, const View& x, const View& values,
                 const View& indices, int64_t n, int64_t k, int64_t x_step, int64_t v_step,
                 int64_t i_step);

// ---- indexing (index.cu) ----
// out[c] = x[c with c[dim] replaced by index(c)]; index(c) = idx[c[dim]] (index_1d, idx view
// strides[0]) or idx[c] (gather: idx strides over dims). Out-of-range indices write zeros and
// raise the device error flag (take_device_index_error).
void launch_index(cudaStream_t s, const Dims& dims, int elem_bytes, int dim, int64_t limit,
                  const View& x, const View& idx, bool idx_i64, bool index_1d, const View& out);
void launch_where(cudaStream_t s, const Dims& dims, int elem_bytes, const View& cond, const View& a,
                  const View& b, const View& out);
void launch_attention_mask(cudaStream_t s, int64_t q_len, int64_t kv_len, int64_t query_offset,
                           int64_t window, const View& out);
// Return and clear the flags set by kernels that met an out-of-range index (synchronise).
bool take_device_index_error();       // index.cu
bool take_device_rows_index_error();  // quant.cu

// ---- attention over a paged KV pool (attention.cu) ----
struct AttentionArgs {
  const float* q = nullptr;      // (N, H, D) contiguous
  const void* k_pool = nullptr;  // (pool_rows, KVH, D) contiguous, element type `pool`
  const void* v_pool = nullptr;
  const int32_t* table = nullptr;  // (B, M) block table
  const int32_t* seqs = nullptr;   // (B, 3) rows [q_begin, q_len, past]
  float* out = nullptr;            // (N, H, D)
  Elem pool = Elem::kF32;
  int64_t N = 0, H = 0, KVH = 0, D = 0, B = 0, M = 0, pool_rows = 0, block_size = 0, window = 0;
  int64_t max_q_len = 0;  // bound on one sequence's q_len (0: N); query tiles are planned from it
  float scale = 1.0f, softcap = 0.0f;
};
// How the keys and queries are cut into blocks (attention.cu: plan_attention).
struct AttentionPlan {
  int64_t heads_per_block = 1, head_slices = 1, rows_per_block = 1, q_tiles = 1;
  int queries_per_warp = 1;
  int n_splits = 1;  // > 1: keys split across blocks, partials merged by a second kernel
};
AttentionPlan plan_attention(const AttentionArgs& a, int sm_count);
// The most query rows one sequence of the batch can have: max_q_len when given, else N.
inline int64_t attention_max_rows(const AttentionArgs& a) {
  return a.max_q_len > 0 && a.max_q_len < a.N ? a.max_q_len : a.N;
}
// scratch: n_splits * N * H * (D + 2) floats when plan.n_splits > 1, else unused.
void launch_attention(cudaStream_t s, const AttentionArgs& a, const AttentionPlan& plan,
                      float* scratch);
// Tensor-core flash attention for prefill (attention_tc.cu): head_dim 64 or 128, many query
// rows (not decode); f16 operands, f32 accumulation. The plan uses heads_per_block, head_slices,
// rows_per_block and q_tiles.
bool attention_tc_supports(const AttentionArgs& a);
AttentionPlan plan_attention_tc(const AttentionArgs& a);
void launch_attention_tc(cudaStream_t s, const AttentionArgs& a, const AttentionPlan& plan);
bool take_device_attention_tc_index_error();
// pool[index[i]] = rows[i] for rows (n, width) f32; pool (pool_rows, width) of type pool_t.
void launch_store_rows(cudaStream_t s, Elem pool_t, void* pool, const float* rows,
                       const int32_t* index, int64_t n, int64_t width, int64_t pool_rows);
// Out-of-range block-table or store index seen by a kernel (returns and clears the flag).
bool take_device_attention_index_error();

// ---- quantized blocks (quant.cu) ----
// rows x d values of contiguous blocks -> contiguous out of type t (f32/f16/bf16).
void launch_dequantize(cudaStream_t s, QType q, const void* blocks, int64_t rows, int64_t d, Elem t,
                       void* out);
// out (n, d) f32 = dequantized rows idx[j] of a (limit, d) block matrix.
void launch_dequantize_rows(cudaStream_t s, QType q, const void* blocks, int64_t d, int64_t limit,
                            const View& idx, bool idx_i64, int64_t n, float* out);
// acc (m, n) f32 = x (m, k) f32 contiguous @ w (n, k)^T, w blocks; m <= kGemvMaxRows. Streams w
// once: one warp per output column.
inline constexpr int kGemvMaxRows = 8;
void launch_qgemv(cudaStream_t s, QType q, const void* w, int64_t n, int64_t k, const float* x,
                  int64_t m, float* acc);
// Q4_0 / Q8_0 on int8 activations (qgemv.cu): the same product with x quantized per call to
// int8 blocks in `scratch` (qgemv_q8_scratch_bytes, 16-byte aligned). Returns false when it
// cannot (other types, k % 256, unaligned pointers); launch_qgemv then does it. Takes up to
// kQgemvQ8MaxRows rows (one pass over w); batches of 9+ rows use it through linear when
// qgemv_q8_batch_rows() allows (several passes of 16 rows, each streaming w once).
inline constexpr int kQgemvQ8MaxRows = 16;
// The most rows linear sends through launch_qgemv_q8 (in passes of 16) instead of dequantizing
// the weight to bf16 for cuBLAS: env WICK_CUDA_QGEMV_ROWS (read once), default 16 (one pass;
// measured in docs/cuda.md).
int qgemv_q8_batch_rows();
int64_t qgemv_q8_scratch_bytes(int64_t m, int64_t k);
bool launch_qgemv_q8(cudaStream_t s, QType q, const void* w, int64_t n, int64_t k, const float* x,
                     int64_t m, void* scratch, float* acc);
// launch_dequantize at copy speed for Q4_0 / Q8_0 with d % 256 == 0 and 16-byte aligned
// pointers (qgemv.cu); false otherwise. Same bits as launch_dequantize.
bool launch_dequantize_chunks(cudaStream_t s, QType q, const void* blocks, int64_t rows, int64_t d,
                              Elem t, void* out);
// acc (m, n) f32 = x (m, k) f32 @ w (n, k)^T for f16/bf16 w of type t, m <= kGemvMaxRows
// (gemv_decode.cu). Returns false when it cannot (other types, k % 8, unaligned pointers).
bool launch_gemv_float(cudaStream_t s, Elem t, const void* w, int64_t n, int64_t k, const float* x,
                       int64_t m, float* acc);
// out (m, n) of type t = acc (m, n) f32 + bias (n) (bias.base null when absent; elem bias_t).
void launch_bias_epilogue(cudaStream_t s, int64_t m, int64_t n, const float* acc, const View& bias,
                          Elem bias_t, Elem t, void* out);

}  // namespace wick::cuda
