// GPT-2: LayerNorm with bias, learned absolute positions (wpe), a fused c_attn projection,
// biases everywhere, a plain gelu_new MLP and a tied LM head. Its Conv1D layers store weights
// as (in, out); they are transposed once at load into the (out, in) layout Linear expects.
// Checkpoints name tensors with or without the "transformer." prefix.
#include "backend/ops.h"
#include "models/decoder.h"
#include "models/registry.h"
#include "nn/weights.h"

namespace wick::models {

namespace {

ModelConfig gpt2_from_hf(const HfConfig& hf) {
  ModelConfig c;
  c.architecture = hf.architecture();
  c.source = hf.file();
  c.vocab_size = hf.integer("vocab_size");
  c.hidden_size = hf.integer("n_embd");
  c.n_layers = hf.integer("n_layer");
  c.n_heads = hf.integer("n_head");
  c.n_kv_heads = c.n_heads;
  c.head_dim = c.n_heads > 0 ? c.hidden_size / c.n_heads : 0;
  c.intermediate_size = hf.integer_or("n_inner", 4 * c.hidden_size);
  c.max_position_embeddings = hf.integer_or("n_positions", 1024);
  c.norm_eps = static_cast<float>(hf.number_or("layer_norm_epsilon", 1e-5));
  c.hidden_act = hf.string_or("activation_function", "gelu_new");
  c.tie_word_embeddings = true;
  WICK_CHECK(!hf.boolean_or("scale_attn_by_inverse_layer_idx", false), ErrorKind::kUnsupported,
             "{}: scale_attn_by_inverse_layer_idx is not supported", hf.file());
  if (!hf.boolean_or("scale_attn_weights", true)) c.attn_scale = 1.0f;
  if (hf.has("bos_token_id")) c.bos_token_id = static_cast<int32_t>(hf.integer("bos_token_id"));
  if (hf.has("eos_token_id"))
    c.eos_token_ids.push_back(static_cast<int32_t>(hf.integer("eos_token_id")));
  return c;
}

// A Conv1D `<name>.weight` (in, out) as a Linear with weight (out, in) and bias (out).
nn::Linear load_conv1d(const WeightSource& ws, const std::string& name, int64_t in, int64_t out) {
  nn::Linear l;
  Tensor w = nn::load_f32(ws, name + ".weight", {in, out});
  l.weight = contiguous(w.t());
  l.bias = nn::load_f32(ws, name + ".bias", {out});
  return l;
}

std::unique_ptr<Model> build_gpt2(const ModelConfig& c, const WeightSource& ws) {
  const std::string root = ws.contains("transformer.wte.weight") ? "transformer." : "";
  auto d = std::make_unique<Decoder>(c);
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  d->embed.weight = nn::load_weight(ws, root + "wte.weight", {c.vocab_size, H});
  d->pos_embed = nn::load_f32(ws, root + "wpe.weight", {c.max_position_embeddings, H});
  d->final_norm = nn::Norm::layer(ws, root + "ln_f", H, c.norm_eps);
  d->lm_head.weight = d->embed.weight;
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = root + "h." + std::to_string(i);
    DecoderLayer layer;
    layer.attn_norm = nn::Norm::layer(ws, p + ".ln_1", H, c.norm_eps);
    nn::Linear qkv = load_conv1d(ws, p + ".attn.c_attn", H, 3 * H);
    layer.attn.cfg = attention_config(c, i);
    layer.attn.q_proj = qkv.rows(0, H);
    layer.attn.k_proj = qkv.rows(H, H);
    layer.attn.v_proj = qkv.rows(2 * H, H);
    layer.attn.o_proj = load_conv1d(ws, p + ".attn.c_proj", H, H);
    layer.ffn_norm = nn::Norm::layer(ws, p + ".ln_2", H, c.norm_eps);
    auto mlp = std::make_unique<nn::PlainMlp>();
    mlp->fc = load_conv1d(ws, p + ".mlp.c_fc", H, I);
    mlp->proj = load_conv1d(ws, p + ".mlp.c_proj", I, H);
    mlp->act = nn::activation_from_name(c.hidden_act, c.source);
    layer.ffn = std::move(mlp);
    d->layers.push_back(std::move(layer));
  }
  return d;
}

}  // namespace

extern const Architecture kGpt2{"gpt2",    {"GPT2LMHeadModel", "gpt2"}, {}, gpt2_from_hf, nullptr,
                                build_gpt2};

}  // namespace wick::models
