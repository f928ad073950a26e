// Shared decoder forward and llama-style loading helpers (see decoder.h).
#include "models/decoder.h"

#include <cmath>

#include "backend/ops.h"
#include "nn/weights.h"

namespace wick::models {

Tensor Decoder::embed_tokens(const Tensor& ids, const Tensor& positions) const {
  Tensor x = embed(ids);  // (N, H)
  if (embed_scale != 1.0f) x = mul(x, static_cast<double>(embed_scale));
  if (pos_embed.defined()) x = add(x, index_select(pos_embed, 0, positions));
  return x;
}

nn::AttentionConfig attention_config(const ModelConfig& c, int64_t layer) {
  nn::AttentionConfig a;
  a.n_heads = c.n_heads;
  a.n_kv_heads = c.n_kv_heads;
  a.head_dim = c.head_dim;
  a.scale = c.attn_scale > 0 ? c.attn_scale
                             : static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.head_dim)));
  a.softcap = c.attn_softcap;
  a.window = c.is_sliding(layer) ? c.sliding_window : 0;
  return a;
}

nn::Rope rope_for_layer(const ModelConfig& c, int64_t layer) {
  return nn::Rope(c.is_sliding(layer) ? c.rope_local : c.rope);
}

nn::Attention load_attention(const WeightSource& ws, const ModelConfig& c,
                             const std::string& prefix, int64_t layer, bool qk_norm,
                             float norm_offset) {
  nn::Attention a;
  a.cfg = attention_config(c, layer);
  const int64_t H = c.hidden_size, D = c.head_dim;
  a.q_proj = nn::Linear::load(ws, prefix + ".q_proj", c.n_heads * D, H, c.attention_bias);
  a.k_proj = nn::Linear::load(ws, prefix + ".k_proj", c.n_kv_heads * D, H, c.attention_bias);
  a.v_proj = nn::Linear::load(ws, prefix + ".v_proj", c.n_kv_heads * D, H, c.attention_bias);
  a.o_proj = nn::Linear::load(ws, prefix + ".o_proj", H, c.n_heads * D, false);
  if (qk_norm) {
    a.q_norm = nn::Norm::rms(ws, prefix + ".q_norm", D, c.norm_eps, norm_offset);
    a.k_norm = nn::Norm::rms(ws, prefix + ".k_norm", D, c.norm_eps, norm_offset);
  }
  a.rope = rope_for_layer(c, layer);
  return a;
}

std::unique_ptr<nn::GatedMlp> load_gated_mlp(const WeightSource& ws, const ModelConfig& c,
                                             const std::string& prefix, int64_t intermediate) {
  auto m = std::make_unique<nn::GatedMlp>();
  const int64_t H = c.hidden_size;
  m->gate = nn::Linear::load(ws, prefix + ".gate_proj", intermediate, H, c.mlp_bias);
  m->up = nn::Linear::load(ws, prefix + ".up_proj", intermediate, H, c.mlp_bias);
  m->down = nn::Linear::load(ws, prefix + ".down_proj", H, intermediate, c.mlp_bias);
  m->act = nn::activation_from_name(c.hidden_act, c.source);
  return m;
}

void load_llama_ends(const WeightSource& ws, Decoder& d, float norm_offset) {
  const ModelConfig& c = d.config();
  d.embed.weight = nn::load_weight(ws, "model.embed_tokens.weight", {c.vocab_size, c.hidden_size});
  d.final_norm = nn::Norm::rms(ws, "model.norm", c.hidden_size, c.norm_eps, norm_offset);
  // lm_head in the device's fastest linear layout (ops.h prepare_linear_weight). Tied to the
  // embedding, a packed copy is made only from a mapped file: its pages are dropped after packing
  // and the embedding lookups fault back only the rows they read, so memory is not doubled.
  if (!c.tie_word_embeddings) {
    d.lm_head.weight = prepare_linear_weight(
        nn::load_weight(ws, "lm_head.weight", {c.vocab_size, c.hidden_size}));
  } else if (d.embed.weight.storage()->file_mapped()) {
    d.lm_head.weight = prepare_linear_weight(d.embed.weight);
  } else {
    d.lm_head.weight = d.embed.weight;
  }
}

}  // namespace wick::models
