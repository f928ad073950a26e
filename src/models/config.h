// ModelConfig: the hyper-parameters a decoder needs, read from a Hugging Face config.json
// (transformers 4.x keys like rope_theta / rope_scaling / sliding_window_pattern, and 5.x keys
// like rope_parameters / layer_types) or from GGUF metadata (`<arch>.block_count`, ...). Each
// architecture file fills it with the shared readers below plus its own keys; a missing or bad
// value throws naming the field and the file.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/rope.h"

namespace wick {
class GgufFile;
}

namespace wick::models {

struct ModelConfig {
  std::string architecture;  // the registry name it was loaded as: "LlamaForCausalLM", "llama"
  std::string source;        // config.json or .gguf path, for messages

  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 2048;
  float norm_eps = 1e-5f;
  std::string hidden_act = "silu";
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v biases are required (an o_proj bias is used if present)
  bool mlp_bias = false;

  nn::RopeConfig rope;        // full-attention layers
  nn::RopeConfig rope_local;  // sliding-window layers (Gemma 3 uses its own base)
  int64_t sliding_window = 0;
  std::vector<bool> layer_sliding;  // n_layers entries

  float attn_scale = 0;     // q.k multiplier; 0 means 1/sqrt(head_dim)
  float attn_softcap = 0;   // 0 = off
  float final_softcap = 0;  // 0 = off

  // Mixture of experts (n_experts == 0: dense).
  int64_t n_experts = 0;
  int64_t n_experts_used = 0;
  int64_t moe_intermediate_size = 0;
  bool norm_topk_prob = false;
  std::vector<bool> layer_moe;  // n_layers entries

  int32_t bos_token_id = -1;
  std::vector<int32_t> eos_token_ids;

  bool is_sliding(int64_t layer) const {
    return !layer_sliding.empty() && layer_sliding[static_cast<size_t>(layer)];
  }
  // Throws naming the first inconsistent field (heads not dividing, non-positive sizes...).
  void validate() const;
};

// Typed access to config.json fields; errors name the key and the file.
class HfConfig {
 public:
  HfConfig(nlohmann::json json, std::string file);
  static HfConfig load(const std::string& path);  // a config.json or a folder holding one

  const std::string& file() const { return file_; }
  const nlohmann::json& raw() const { return json_; }
  bool has(const char* key) const;  // present and not null
  int64_t integer(const char* key) const;
  int64_t integer_or(const char* key, int64_t fallback) const;
  double number(const char* key) const;
  double number_or(const char* key, double fallback) const;
  bool boolean_or(const char* key, bool fallback) const;
  std::string string_or(const char* key, const std::string& fallback) const;
  std::vector<std::string> strings(const char* key) const;  // array of strings (empty if absent)
  HfConfig sub(const char* key) const;                      // a nested object (e.g. text_config)
  std::string architecture() const;                         // architectures[0], else model_type

 private:
  const nlohmann::json* find(const char* key) const;
  nlohmann::json json_;
  std::string file_;
};

// Typed access to `<arch>.<key>` GGUF metadata; errors name the key and the file.
class GgufConfig {
 public:
  GgufConfig(std::shared_ptr<const GgufFile> file, std::string arch);
  const GgufFile& file() const { return *file_; }
  const std::string& arch() const { return arch_; }
  std::string key(const char* suffix) const { return arch_ + "." + suffix; }
  bool has(const char* suffix) const;
  int64_t integer(const char* suffix) const;
  int64_t integer_or(const char* suffix, int64_t fallback) const;
  double number_or(const char* suffix, double fallback) const;
  std::string string_or(const char* suffix, const std::string& fallback) const;

 private:
  std::shared_ptr<const GgufFile> file_;
  std::string arch_;
};

// The fields every decoder shares, under their usual names. `tie_default` is the architecture's
// default for tie_word_embeddings (transformers' defaults differ per model).
ModelConfig parse_hf_common(const HfConfig& hf, bool tie_default);
// rope_theta + rope_scaling (4.x) or rope_parameters (5.x; for per-layer-type dicts pass the
// layer type, e.g. "full_attention"). Returns the config for `rotary_dim` dims.
nn::RopeConfig parse_hf_rope(const HfConfig& hf, int64_t rotary_dim,
                             const char* layer_type = nullptr, double default_theta = 10000.0);
// layer_types (5.x) -> per-layer sliding flags; empty when the key is absent.
std::vector<bool> parse_hf_layer_types(const HfConfig& hf, int64_t n_layers);

// Qwen2/3 style: when use_sliding_window, layers >= max_window_layers slide (unless
// layer_types already said which); otherwise no layer slides.
void apply_hf_max_window_layers(const HfConfig& hf, ModelConfig& c);

ModelConfig parse_gguf_common(const GgufConfig& gg);

}  // namespace wick::models
