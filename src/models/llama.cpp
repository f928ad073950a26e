// Llama 2/3 (and SmolLM2, which is a Llama), Mistral, Qwen2/2.5 and Qwen3: one config-driven
// decoder with llama names. Differences: Qwen2 has q/k/v biases, Qwen3 per-head q/k RMSNorm,
// Mistral a sliding window on every layer, Qwen2/3 optional sliding windows on upper layers.
#include "models/decoder.h"
#include "models/registry.h"

namespace wick::models {

namespace {

std::unique_ptr<Model> build_llama_family(const ModelConfig& c, const WeightSource& ws,
                                          bool qk_norm) {
  auto d = std::make_unique<Decoder>(c);
  load_llama_ends(ws, *d);
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i);
    DecoderLayer layer;
    layer.attn_norm = nn::Norm::rms(ws, p + ".input_layernorm", c.hidden_size, c.norm_eps);
    layer.attn = load_attention(ws, c, p + ".self_attn", i, qk_norm);
    layer.ffn_norm = nn::Norm::rms(ws, p + ".post_attention_layernorm", c.hidden_size, c.norm_eps);
    layer.ffn = load_gated_mlp(ws, c, p + ".mlp", c.intermediate_size);
    d->layers.push_back(std::move(layer));
  }
  return d;
}

std::unique_ptr<Model> build_llama(const ModelConfig& c, const WeightSource& ws) {
  return build_llama_family(c, ws, false);
}
std::unique_ptr<Model> build_qwen3(const ModelConfig& c, const WeightSource& ws) {
  return build_llama_family(c, ws, true);
}

ModelConfig llama_from_hf(const HfConfig& hf) {
  return parse_hf_common(hf, false);
}

ModelConfig mistral_from_hf(const HfConfig& hf) {
  ModelConfig c = parse_hf_common(hf, false);
  c.sliding_window = hf.integer_or("sliding_window", 0);
  if (c.sliding_window > 0 && c.layer_sliding.empty())
    c.layer_sliding.assign(static_cast<size_t>(c.n_layers), true);
  return c;
}

ModelConfig qwen2_from_hf(const HfConfig& hf) {
  ModelConfig c = parse_hf_common(hf, false);
  c.attention_bias = true;
  apply_hf_max_window_layers(hf, c);
  return c;
}

ModelConfig qwen3_from_hf(const HfConfig& hf) {
  ModelConfig c = parse_hf_common(hf, false);
  apply_hf_max_window_layers(hf, c);
  return c;
}

ModelConfig llama_from_gguf(const GgufConfig& gg) {
  return parse_gguf_common(gg);
}

ModelConfig qwen2_from_gguf(const GgufConfig& gg) {
  ModelConfig c = parse_gguf_common(gg);
  c.attention_bias = true;
  return c;
}

}  // namespace

extern const Architecture kLlama{
    "llama", {"LlamaForCausalLM", "llama"}, {"llama"}, llama_from_hf, llama_from_gguf, build_llama};
extern const Architecture kMistral{"mistral",       {"MistralForCausalLM", "mistral"},
                                   {"mistral"},     mistral_from_hf,
                                   llama_from_gguf, build_llama};
extern const Architecture kQwen2{
    "qwen2", {"Qwen2ForCausalLM", "qwen2"}, {"qwen2"}, qwen2_from_hf, qwen2_from_gguf, build_llama};
extern const Architecture kQwen3{
    "qwen3", {"Qwen3ForCausalLM", "qwen3"}, {"qwen3"}, qwen3_from_hf, llama_from_gguf, build_qwen3};

}  // namespace wick::models
