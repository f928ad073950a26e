// Gemma 3 (text): llama names plus pre/post norms around attention and MLP, RMSNorm with (1 + w)
// weights (q/k norms too), embeddings scaled by sqrt(hidden), a GeGLU-tanh MLP, interleaved
// sliding-window and full-attention layers with their own RoPE bases, query_pre_attn_scalar,
// and optional final logit soft-capping.
#include <cmath>

#include "formats/gguf.h"

#include "models/decoder.h"
#include "models/registry.h"

namespace wick::models {

namespace {

constexpr float kGemmaNormOffset = 1.0f;

// 4.x: layer i slides unless (i + 1) % sliding_window_pattern == 0.
std::vector<bool> sliding_from_pattern(int64_t n_layers, int64_t pattern) {
  std::vector<bool> sliding;
  for (int64_t i = 0; i < n_layers; ++i) sliding.push_back(pattern <= 0 || (i + 1) % pattern != 0);
  return sliding;
}

ModelConfig gemma3_from_hf(const HfConfig& hf) {
  ModelConfig c = parse_hf_common(hf, true);
  c.hidden_act = hf.string_or("hidden_activation", hf.string_or("hidden_act", "gelu_pytorch_tanh"));
  c.norm_eps = static_cast<float>(hf.number_or("rms_norm_eps", 1e-6));
  const double qpas = hf.number_or("query_pre_attn_scalar", static_cast<double>(c.head_dim));
  WICK_CHECK(qpas > 0, ErrorKind::kInvalidArgument, "{}: query_pre_attn_scalar must be positive",
             hf.file());
  c.attn_scale = static_cast<float>(1.0 / std::sqrt(qpas));
  // attn_logit_softcapping is a Gemma 2 feature: transformers' Gemma 3 never applies it (real
  // configs have it null), so neither do we.
  c.attn_softcap = 0.0f;
  c.final_softcap = static_cast<float>(hf.number_or("final_logit_softcapping", 0.0));
  c.sliding_window = hf.integer_or("sliding_window", 4096);
  if (c.layer_sliding.empty())
    c.layer_sliding = sliding_from_pattern(c.n_layers, hf.integer_or("sliding_window_pattern", 6));
  if (hf.has("rope_parameters")) {  // 5.x: one dict per layer type
    c.rope = parse_hf_rope(hf, c.head_dim, "full_attention", 1e6);
    c.rope_local = parse_hf_rope(hf, c.head_dim, "sliding_attention", 1e4);
  } else {  // 4.x: rope_theta (+ rope_scaling) for full layers, rope_local_base_freq for sliding
    c.rope = parse_hf_rope(hf, c.head_dim, nullptr, 1e6);
    c.rope_local = nn::RopeConfig{};
    c.rope_local.rotary_dim = c.head_dim;
    c.rope_local.theta = hf.number_or("rope_local_base_freq", 1e4);
  }
  return c;
}

// llama.cpp's gemma3: sliding window from metadata, pattern 6 and local base 10000 fixed in code,
// attention scale 1/sqrt(head_dim) except the 27B (62 layers), which uses hidden/heads.
ModelConfig gemma3_from_gguf(const GgufConfig& gg) {
  ModelConfig c = parse_gguf_common(gg);
  c.hidden_act = "gelu_pytorch_tanh";
  c.norm_eps = static_cast<float>(gg.number_or("attention.layer_norm_rms_epsilon", 1e-6));
  c.tie_word_embeddings = !gg.file().find_tensor("output.weight");
  const double qpas = c.n_layers == 62 ? static_cast<double>(c.hidden_size) / c.n_heads
                                       : static_cast<double>(c.head_dim);
  c.attn_scale = static_cast<float>(1.0 / std::sqrt(qpas));
  c.layer_sliding = sliding_from_pattern(c.n_layers, 6);
  if (c.sliding_window == 0) c.sliding_window = 512;
  c.rope_local = nn::RopeConfig{};
  c.rope_local.rotary_dim = c.rope.rotary_dim;
  c.rope_local.theta = 10000.0;
  return c;
}

std::unique_ptr<Model> build_gemma3(const ModelConfig& c, const WeightSource& ws) {
  auto d = std::make_unique<Decoder>(c);
  load_llama_ends(ws, *d, kGemmaNormOffset);
  d->embed_scale = static_cast<float>(std::sqrt(static_cast<double>(c.hidden_size)));
  const int64_t H = c.hidden_size;
  const float eps = c.norm_eps, off = kGemmaNormOffset;
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i);
    DecoderLayer layer;
    layer.attn_norm = nn::Norm::rms(ws, p + ".input_layernorm", H, eps, off);
    layer.attn = load_attention(ws, c, p + ".self_attn", i, true, off);
    layer.post_attn_norm = nn::Norm::rms(ws, p + ".post_attention_layernorm", H, eps, off);
    layer.ffn_norm = nn::Norm::rms(ws, p + ".pre_feedforward_layernorm", H, eps, off);
    layer.ffn = load_gated_mlp(ws, c, p + ".mlp", c.intermediate_size);
    layer.post_ffn_norm = nn::Norm::rms(ws, p + ".post_feedforward_layernorm", H, eps, off);
    d->layers.push_back(std::move(layer));
  }
  return d;
}

}  // namespace

extern const Architecture kGemma3{"gemma3",         {"Gemma3ForCausalLM", "gemma3_text"},
                                  {"gemma3"},       gemma3_from_hf,
                                  gemma3_from_gguf, build_gemma3};

}  // namespace wick::models
