// Op descriptors: what a kernel is asked to do. The op API (ops.h) checks shapes and dtypes,
// allocates outputs, and hands an OpCall to the kernel found in the kernel table; kernels trust
// the call (shapes already validated) and write the preallocated outputs.
#pragma once

#include <cstdint>
#include <span>

#include "core/tensor.h"

namespace wick {

enum class Op : uint8_t {
  // layout and conversion
  kCopy,  // out = in (same dtype, any input strides, contiguous out)
  kCast,  // out = in converted to out's dtype (plain <-> plain, quantized -> float, float -> quantized)
  kFill,  // out = attrs.scalar
  // binary elementwise with broadcasting (inputs already broadcast to out's shape)
  kAdd, kSub, kMul, kDiv, kMaximum, kMinimum,
  // unary elementwise
  kNeg, kExp, kLog, kSqrt, kRsqrt, kTanh, kSigmoid, kSilu, kGeluErf, kGeluTanh, kRelu, kAbs, kSqr,
  // reductions along attrs.dim (out keeps a size-1 dim; the frontend squeezes when !keepdim)
  kSum, kMean, kMax, kMin, kArgmax,
  // normalisation and activation families
  kSoftmax, kLogSoftmax,  // along the last dim
  kRmsNorm,               // in: x (.., D), weight (D) or undefined; attrs.eps; attrs.weight_offset
  kLayerNorm,             // in: x (.., D), weight (D), bias (D) or undefined; attrs.eps
  kRope,                  // in: x (.., H, D), positions (..), inv_freq (R/2); attrs.rope_neox
  // linear algebra
  kMatmul,  // in: a (.., M, K), b (.., K, N) broadcast batch dims; out (.., M, N)
  kLinear,  // in: x (.., K) float, w (N, K) any dtype incl. quantized, bias (N) or undefined
  // indexing
  kIndexSelect,  // in: x, indices (n) i32/i64; attrs.dim
  kGather,       // in: x, index (same rank) i32/i64; attrs.dim
  kConcat,       // in: n tensors; attrs.dim
  kWhere,        // in: cond (bool/u8), a, b (broadcast to out)
  kAttentionMask,  // out (Tq, Tk) f32: 0 where visible, -inf elsewhere; attrs.mask_*
  kTopk,           // in: x; out: values, indices (i64) along last dim; attrs.k
  kCumsum,         // along attrs.dim
  // attention over a KV pool (see ops.h: attention, store_rows)
  kAttention,  // in: q (N,H,D) f32, k_pool, v_pool (S,KVH,D), block_table (B,M) i32, seqs (B,3) i32
  kStoreRows,  // in: rows (N, ...) f32, index (N) i32; out: pool (S, ...) written in place
  // fused
  kGatedAct,  // in: gate, up (same shape); out = attrs.act(gate) * up (f32 math, one rounding)
  kAddRmsNorm,  // in: x, h (.., D) contiguous, weight (D) or undefined; out: sum = x + h,
                // normed = rms_norm(sum) (attrs.eps, attrs.weight_offset)
  kCount,
};

inline constexpr int kOpCount = static_cast<int>(Op::kCount);
const char* op_name(Op op);

struct OpAttrs {
  int dim = 0;             // reductions, index ops, concat, cumsum (resolved, non-negative)
  bool keepdim = false;
  double scalar = 0.0;     // fill value
  float eps = 0.0f;        // norms
  float weight_offset = 0.0f;  // rms_norm: y = x_hat * (weight + offset) (Gemma uses 1)
  int64_t k = 0;           // topk
  bool rope_neox = true;   // true: rotate halves (x[i], x[i + R/2]); false: pairs (x[2i], x[2i+1])
  int64_t mask_query_offset = 0;  // absolute position of query row 0
  int64_t mask_window = 0;        // sliding window in tokens; 0 = unlimited (plain causal)
  float attn_scale = 1.0f;        // attention: multiplies q.k
  float attn_softcap = 0.0f;      // attention: scores = softcap * tanh(scores / softcap) when > 0
  int64_t block_size = 0;         // attention: KV pool rows per block-table entry
  int64_t attn_max_q_len = 0;     // attention: bound on one sequence's q_len (0: N)
  Op act = Op::kSilu;             // gated_act: kSilu, kGeluTanh, kGeluErf or kRelu
};

struct OpCall {
  Op op;
  std::span<const Tensor> inputs;
  std::span<Tensor> outputs;
  const OpAttrs& attrs;
};

using KernelFn = void (*)(const OpCall& call);

}  // namespace wick
