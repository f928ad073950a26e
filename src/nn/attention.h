// Multi-head attention with grouped KV heads (GQA/MQA), optional per-head Q/K RMSNorm (Qwen3,
// Gemma 3), RoPE, causal or sliding-window masking, optional tanh soft-capping of scores, and a
// per-sequence KV cache. The projections run once over all N tokens of a batch; the attention
// itself runs per sequence against that sequence's cached keys.
#pragma once

#include <cstdint>
#include <span>

#include "core/tensor.h"
#include "nn/kv_cache.h"
#include "nn/linear.h"
#include "nn/norm.h"
#include "nn/rope.h"

namespace wick::nn {

struct AttentionConfig {
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  float scale = 1.0f;    // multiplies q.k (1/sqrt(head_dim), or query_pre_attn_scalar^-0.5)
  float softcap = 0.0f;  // scores = softcap * tanh(scores / softcap) when > 0
  int64_t window = 0;    // sliding window in tokens (query i sees keys i - window < j <= i); 0: all
};

// Scaled dot-product attention of one sequence composed from plain ops (matmul, mask, softmax):
// the readable reference the fused attention op is checked against in tests.
// q: (n, n_heads, D) for positions past..past+n-1; k, v: (T, n_kv_heads, D) for positions
// 0..T-1 (T = past + n). Returns (n, n_heads * D).
Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, int64_t past,
              const AttentionConfig& cfg);

struct Attention {
  AttentionConfig cfg;
  Linear q_proj, k_proj, v_proj, o_proj;
  Norm q_norm, k_norm;  // per-head RMSNorm over D, applied before RoPE; may be undefined
  Rope rope;            // undefined for models with learned positions (GPT-2)

  // x: (N, hidden) f32; positions: (N) i32; `batch` (from cache.prepare) maps the N rows to
  // sequences and cache slots. Stores this layer's keys/values in `cache`, attends with the fused
  // attention op over each sequence's cached keys; returns (N, hidden_out).
  Tensor operator()(const Tensor& x, const Tensor& positions, int64_t max_position,
                    const KvBatch& batch, KvCache& cache, int layer) const;
};

}  // namespace wick::nn
