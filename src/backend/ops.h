// The op API: eager tensor operations that run on the inputs' device. Each function checks
// shapes and dtypes (throwing wick::Error that names the op and the shapes), allocates the
// output, and dispatches to the kernel table. Inputs of binary ops must share a dtype (no
// implicit promotion, as in candle); use to_dtype(). Float math accumulates in f32.
#pragma once

#include <span>
#include <utility>
#include <vector>

#include "backend/op.h"
#include "core/tensor.h"

namespace wick {

// ---- layout, conversion, creation ----
Tensor contiguous(const Tensor& x);                  // x itself when already contiguous
Tensor copy(const Tensor& x);                        // always a fresh contiguous copy
Tensor to_dtype(const Tensor& x, DType dtype);       // cast; quantized <-> float (de)quantizes rows
Tensor to_device(const Tensor& x, Device device);
Tensor full(const Shape& shape, double value, DType dtype = DType::kF32,
            Device device = Device::cpu());
Tensor zeros(const Shape& shape, DType dtype = DType::kF32, Device device = Device::cpu());
Tensor scalar_like(const Tensor& x, double value);   // 0-d tensor of x's dtype and device
// Writes src into dst (same shape; dst may be a strided view, e.g. a KV cache slot).
void copy_into(const Tensor& src, Tensor& dst);

// ---- elementwise (NumPy broadcasting) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double b);
Tensor sub(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);
Tensor div(const Tensor& a, double b);
Tensor maximum(const Tensor& a, double b);
Tensor minimum(const Tensor& a, double b);

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor silu(const Tensor& x);
Tensor gelu_erf(const Tensor& x);
Tensor gelu_tanh(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sqr(const Tensor& x);
// act(gate) * up in one pass (SwiGLU / GeGLU): gate and up of one float dtype, shape and device;
// act is Op::kSilu, kGeluTanh, kGeluErf or kRelu. The activation and product are f32 and rounded
// once to the dtype.
Tensor gated_act(const Tensor& gate, const Tensor& up, Op act);

// ---- reductions along one dim ----
Tensor sum(const Tensor& x, int dim, bool keepdim = false);
Tensor mean(const Tensor& x, int dim, bool keepdim = false);
Tensor max(const Tensor& x, int dim, bool keepdim = false);
Tensor min(const Tensor& x, int dim, bool keepdim = false);
Tensor argmax(const Tensor& x, int dim, bool keepdim = false);  // i64
Tensor cumsum(const Tensor& x, int dim);

// ---- normalisation and activations over the last dim ----
Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);
// y = x / sqrt(mean(x^2) + eps) * (weight + weight_offset); weight (D) may be undefined.
Tensor rms_norm(const Tensor& x, const Tensor& weight, float eps, float weight_offset = 0.0f);
// The residual add and the next block's RMSNorm in one pass: {x + h, rms_norm(x + h, ...)}; the
// norm reads the sum rounded to x's dtype, exactly what add() then rms_norm() would see.
std::pair<Tensor, Tensor> add_rms_norm(const Tensor& x, const Tensor& h, const Tensor& weight,
                                       float eps, float weight_offset = 0.0f);
// y = (x - mean) / sqrt(var + eps) * weight + bias; weight/bias (D) may be undefined.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps);
// Rotary embedding. x: (..., H, D); positions: x.shape[:-2] i32/i64 (absolute token positions);
// inv_freq: (R/2) f32 with R <= D rotated dims (the rest pass through). neox: rotate halves
// (x[i], x[i + R/2]) as HF does; otherwise interleaved pairs (x[2i], x[2i+1]) as GPT-J.
Tensor rope(const Tensor& x, const Tensor& positions, const Tensor& inv_freq, bool neox);

// ---- linear algebra ----
// a (..., M, K) @ b (..., K, N) -> (..., M, N); batch dims broadcast; either operand may be a
// transposed view (e.g. b = w.t()).
Tensor matmul(const Tensor& a, const Tensor& b);
// x (..., K) @ w^T + bias: w (N, K) of any dtype incl. GGUF block types; x float; out x's dtype.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor());
// The weight (N, K) as linear() reads it fastest on its device: `w` itself, or, where the device's
// backend has a packed layout for the dtype on this machine (the CPU: 4-bit and Q8_0 blocks of 16
// rows interleaved, see backends/cpu/qpack.h), an equivalent tensor (same dtype, shape and values)
// whose storage holds the packed bytes (Storage::packed_layout() != 0). Only linear() and views
// (narrow rows, e.g. Linear::rows) accept packed weights; other ops reject them. The packed copy
// replaces the original: drop `w` afterwards; pages of a file mapping are released at once.
// WICK_NO_REPACK=1 turns packing off (for comparisons).
Tensor prepare_linear_weight(const Tensor& w);
// A packed weight back in its plain (GGUF) layout, as a fresh tensor; other tensors unchanged.
Tensor unpack_linear_weight(const Tensor& w);

// ---- indexing ----
Tensor index_select(const Tensor& x, int dim, const Tensor& indices);  // indices (n)
Tensor embedding(const Tensor& weight, const Tensor& ids);  // weight (V, D) any dtype -> (ids.., D) f32 for quantized weights
Tensor gather(const Tensor& x, int dim, const Tensor& index);
Tensor concat(std::span<const Tensor> xs, int dim);
Tensor concat(std::initializer_list<Tensor> xs, int dim);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// (q_len, kv_len) f32 additive mask: 0 where query i (absolute position query_offset + i) may
// see key j (j <= query_offset + i and, when window > 0, query_offset + i - j < window), -inf else.
Tensor attention_mask(int64_t q_len, int64_t kv_len, int64_t query_offset, int64_t window = 0,
                      Device device = Device::cpu());

// ---- attention over a KV pool ----
// Keys and values live in pools (S, KVH, D) of rows; a sequence's key at position t sits in row
// block_table[b, t / block_size] * block_size + t % block_size (a contiguous cache is one block
// covering the whole pool). Sequence b of the batch owns query rows q[q_begin, q_begin + q_len)
// at absolute positions past + i and sees keys 0..past + i (within `window` when > 0).
struct AttentionParams {
  float scale = 1.0f;      // multiplies q.k
  float softcap = 0.0f;    // scores = softcap * tanh(scores / softcap) when > 0
  int64_t window = 0;      // sliding window in tokens; 0: all earlier keys
  int64_t block_size = 0;  // pool rows per block-table entry (> 0)
  // An upper bound on any one sequence's q_len, known on the host (0: unknown, N). A device
  // kernel plans its query tiles from it instead of from N (a decode batch of 128 sequences
  // would otherwise launch 128 x 128 tiles, all but 128 empty). Checked when seqs is on the CPU.
  int64_t max_q_len = 0;
};
// q: (N, H, D) f32 with H a multiple of KVH (GQA); k_pool, v_pool: (S, KVH, D) f32/f16/bf16;
// block_table: (B, M) i32; seqs: (B, 3) i32 rows [q_begin, q_len, past], whose query ranges
// partition [0, N). Returns (N, H, D) f32. The table values must index blocks inside the pool.
Tensor attention(const Tensor& q, const Tensor& k_pool, const Tensor& v_pool,
                 const Tensor& block_table, const Tensor& seqs, const AttentionParams& params);
// pool[index[i]] = rows[i] (converted to pool's dtype) for every i, in place. rows: (N, ...)
// float; index: (N) i32 of distinct rows of pool; pool: (S, ...) contiguous.
void store_rows(Tensor& pool, const Tensor& rows, const Tensor& index);

// Largest k along the last dim, sorted descending (ties: lower index first). Values, i64 indices.
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k);

}  // namespace wick
