// Shared decoder forward and llama-style loading helpers (see decoder.h).
#include "models/decoder.h"

#include <cmath>
#include <unordered_set>

#include "backend/ops.h"
#include "nn/weights.h"

namespace wick::models {

namespace {

struct BatchLayout {
  std::vector<int32_t> ids, positions, logit_rows;
  std::vector<nn::SeqSlice> slices;
  int64_t max_position = 0;
};

BatchLayout layout_batch(std::span<const BatchItem> batch, const nn::KvCache& cache,
                         int64_t vocab) {
  WICK_CHECK(!batch.empty(), ErrorKind::kInvalidArgument, "forward: empty batch");
  BatchLayout b;
  std::unordered_set<int> seen;
  for (const BatchItem& item : batch) {
    WICK_CHECK(seen.insert(item.seq_id).second, ErrorKind::kInvalidArgument,
               "forward: sequence {} appears twice in one batch", item.seq_id);
    WICK_CHECK(!item.tokens.empty(), ErrorKind::kInvalidArgument,
               "forward: sequence {} has no tokens", item.seq_id);
    nn::SeqSlice s;
    s.seq_id = item.seq_id;
    s.begin = static_cast<int64_t>(b.ids.size());
    s.length = static_cast<int64_t>(item.tokens.size());
    s.past = cache.length(item.seq_id);
    for (int64_t i = 0; i < s.length; ++i) {
      const int32_t id = item.tokens[static_cast<size_t>(i)];
      WICK_CHECK(id >= 0 && id < vocab, ErrorKind::kInvalidArgument,
                 "forward: token id {} outside the vocabulary [0, {})", id, vocab);
      b.ids.push_back(id);
      b.positions.push_back(static_cast<int32_t>(s.past + i));
      if (item.all_logits || i == s.length - 1)
        b.logit_rows.push_back(static_cast<int32_t>(s.begin + i));
    }
    b.max_position = std::max(b.max_position, s.past + s.length - 1);
    b.slices.push_back(s);
  }
  return b;
}

}  // namespace

Tensor Decoder::embed_tokens(const Tensor& ids, const Tensor& positions) const {
  Tensor x = embed(ids);  // (N, H)
  if (embed_scale != 1.0f) x = mul(x, static_cast<double>(embed_scale));
  if (pos_embed.defined()) x = add(x, index_select(pos_embed, 0, positions));
  return x;
}

Tensor Decoder::forward(std::span<const BatchItem> batch, nn::KvCache& cache) const {
  const ModelConfig& c = config();
  BatchLayout b = layout_batch(batch, cache, c.vocab_size);
  if (pos_embed.defined())
    WICK_CHECK(b.max_position < pos_embed.dim(0), ErrorKind::kInvalidArgument,
               "forward: position {} beyond the model's {} learned positions", b.max_position,
               pos_embed.dim(0));
  const auto N = static_cast<int64_t>(b.ids.size());
  // Activations live where the weights were loaded; only the logits come back to the host.
  const Device dev = embed.weight.device();
  Tensor ids = to_device(Tensor::from_vector<int32_t>(Shape{N}, b.ids), dev);
  Tensor positions = to_device(Tensor::from_vector<int32_t>(Shape{N}, b.positions), dev);
  Tensor x = embed_tokens(ids, positions);
  const nn::KvBatch kv = cache.prepare(b.slices);
  for (size_t l = 0; l < layers.size(); ++l) {
    const DecoderLayer& layer = layers[l];
    Tensor h = layer.attn(layer.attn_norm(x), positions, b.max_position, kv, cache,
                          static_cast<int>(l));
    if (layer.post_attn_norm.defined()) h = layer.post_attn_norm(h);
    x = add(x, h);
    h = (*layer.ffn)(layer.ffn_norm(x));
    if (layer.post_ffn_norm.defined()) h = layer.post_ffn_norm(h);
    x = add(x, h);
  }
  for (const BatchItem& item : batch) cache.commit(item.seq_id, item.tokens);
  if (static_cast<int64_t>(b.logit_rows.size()) != N) {
    const auto M = static_cast<int64_t>(b.logit_rows.size());
    x = index_select(x, 0, to_device(Tensor::from_vector<int32_t>(Shape{M}, b.logit_rows), dev));
  }
  Tensor logits = lm_head(final_norm(x));
  if (c.final_softcap > 0.0f) {
    const auto cap = static_cast<double>(c.final_softcap);
    logits = mul(tanh(div(logits, cap)), cap);
  }
  return to_device(logits, Device::cpu());
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
