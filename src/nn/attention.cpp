// Attention forward (see attention.h): projections, norms and RoPE over the whole batch, then the
// fused attention op over the paged cache. attend() is the composed reference: broadcasting
// instead of repeating KV heads (q viewed as (n_kv, group, n, D), k as (n_kv, 1, D, T)).
#include "nn/attention.h"

#include <vector>

#include "backend/ops.h"

namespace wick::nn {

Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, int64_t past,
              const AttentionConfig& cfg) {
  const int64_t n = q.dim(0), T = k.dim(0), D = cfg.head_dim;
  const int64_t kvh = cfg.n_kv_heads, group = cfg.n_heads / cfg.n_kv_heads;
  // (n, H, D) -> (n, kvh, group, D) -> (kvh, group, n, D)
  Tensor qg = q.reshape(Shape{n, kvh, group, D}).permute({1, 2, 0, 3});
  Tensor kt = k.permute({1, 2, 0}).unsqueeze(1);                        // (kvh, 1, D, T)
  Tensor vt = v.permute({1, 0, 2}).unsqueeze(1);                        // (kvh, 1, T, D)
  Tensor scores = mul(matmul(qg, kt), static_cast<double>(cfg.scale));  // (kvh, group, n, T)
  if (cfg.softcap > 0.0f)
    scores =
        mul(tanh(div(scores, static_cast<double>(cfg.softcap))), static_cast<double>(cfg.softcap));
  // A single query at the end of the cache sees every key unless the window cuts some off.
  const bool needs_mask = n > 1 || (cfg.window > 0 && T > cfg.window);
  if (needs_mask) scores = add(scores, attention_mask(n, T, past, cfg.window, q.device()));
  Tensor probs = softmax(scores);
  Tensor out = matmul(probs, vt);  // (kvh, group, n, D)
  return contiguous(out.permute({2, 0, 1, 3})).reshape(Shape{n, cfg.n_heads * D});
}

Tensor Attention::operator()(const Tensor& x, const Tensor& positions, int64_t max_position,
                             const KvBatch& batch, KvCache& cache, int layer) const {
  const int64_t N = x.dim(0), D = cfg.head_dim;
  Tensor q = q_proj(x).reshape(Shape{N, cfg.n_heads, D});
  Tensor k = k_proj(x).reshape(Shape{N, cfg.n_kv_heads, D});
  Tensor v = v_proj(x).reshape(Shape{N, cfg.n_kv_heads, D});
  if (q_norm.defined()) q = q_norm(q);
  if (k_norm.defined()) k = k_norm(k);
  if (rope.defined()) {
    q = rope(q, positions, max_position);
    k = rope(k, positions, max_position);
  }
  cache.store(layer, batch, k, v);
  AttentionParams params;
  params.scale = cfg.scale;
  params.softcap = cfg.softcap;
  params.window = cfg.window;
  params.block_size = cache.block_size();
  params.max_q_len = batch.max_q_len;
  Tensor out =
      attention(q, cache.keys(layer), cache.values(layer), batch.block_table, batch.seqs, params);
  return o_proj(out.reshape(Shape{N, cfg.n_heads * D}));
}

}  // namespace wick::nn
