// Phi-3: a llama-style decoder whose checkpoints fuse q/k/v into one qkv_proj ([q; k; v] rows)
// and gate/up into one gate_up_proj ([gate; up] rows). The fused weights are split at load into
// row views (no copies), so the forward is the shared decoder's. partial_rotary_factor < 1
// rotates only the first head dims; a sliding window, when configured, covers every layer.
#include "models/decoder.h"
#include "models/registry.h"

namespace wick::models {

namespace {

ModelConfig phi3_from_hf(const HfConfig& hf) {
  ModelConfig c = parse_hf_common(hf, false);
  c.norm_eps = static_cast<float>(hf.number_or("rms_norm_eps", 1e-5));
  c.sliding_window = hf.integer_or("sliding_window", 0);
  if (c.sliding_window > 0 && c.layer_sliding.empty())
    c.layer_sliding.assign(static_cast<size_t>(c.n_layers), true);
  return c;
}

ModelConfig phi3_from_gguf(const GgufConfig& gg) {
  ModelConfig c = parse_gguf_common(gg);
  if (c.sliding_window > 0) c.layer_sliding.assign(static_cast<size_t>(c.n_layers), true);
  return c;
}

std::unique_ptr<Model> build_phi3(const ModelConfig& c, const WeightSource& ws) {
  auto d = std::make_unique<Decoder>(c);
  load_llama_ends(ws, *d);
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  const int64_t q_rows = c.n_heads * c.head_dim, kv_rows = c.n_kv_heads * c.head_dim;
  // GGUF phi3 keeps the fused up weight under ffn_up (HF name mlp.up_proj).
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i);
    DecoderLayer layer;
    layer.attn_norm = nn::Norm::rms(ws, p + ".input_layernorm", H, c.norm_eps);
    nn::Linear qkv =
        nn::Linear::load(ws, p + ".self_attn.qkv_proj", q_rows + 2 * kv_rows, H, c.attention_bias);
    layer.attn.cfg = attention_config(c, i);
    layer.attn.q_proj = qkv.rows(0, q_rows);
    layer.attn.k_proj = qkv.rows(q_rows, kv_rows);
    layer.attn.v_proj = qkv.rows(q_rows + kv_rows, kv_rows);
    layer.attn.o_proj = nn::Linear::load(ws, p + ".self_attn.o_proj", H, q_rows, false);
    layer.attn.rope = rope_for_layer(c, i);
    layer.ffn_norm = nn::Norm::rms(ws, p + ".post_attention_layernorm", H, c.norm_eps);
    const std::string fused =
        ws.contains(p + ".mlp.gate_up_proj.weight") ? p + ".mlp.gate_up_proj" : p + ".mlp.up_proj";
    nn::Linear gate_up = nn::Linear::load(ws, fused, 2 * I, H, c.mlp_bias);
    auto mlp = std::make_unique<nn::GatedMlp>();
    mlp->gate = gate_up.rows(0, I);
    mlp->up = gate_up.rows(I, I);
    mlp->down = nn::Linear::load(ws, p + ".mlp.down_proj", H, I, c.mlp_bias);
    mlp->act = nn::activation_from_name(c.hidden_act, c.source);
    layer.ffn = std::move(mlp);
    d->layers.push_back(std::move(layer));
  }
  return d;
}

}  // namespace

extern const Architecture kPhi3{
    "phi3", {"Phi3ForCausalLM", "phi3"}, {"phi3"}, phi3_from_hf, phi3_from_gguf, build_phi3};

}  // namespace wick::models
