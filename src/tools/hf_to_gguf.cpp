// HF folder (config.json + safetensors) -> GGUF metadata and tensors, for the llama family
// (llama, mistral, smollm, qwen2, qwen3) with llama.cpp's key names, tensor names and, for the
// `llama` GGUF architecture, its Q/K row permutation. The tokenizer and chat template come from
// tokenizer.json / tokenizer_config.json (hf_tokenizer_to_gguf.cpp).
#include <fmt/format.h>

#include <array>
#include <filesystem>

#include "core/error.h"
#include "formats/gguf_writer.h"
#include "formats/weight_source.h"
#include "models/config.h"
#include "models/registry.h"
#include "tools/hf_tokenizer_to_gguf.h"
#include "tools/quantize.h"

namespace wick::tools {
namespace {

// llama.cpp per-layer tensor bases; the HF side of the mapping lives in gguf_to_hf_name.
constexpr std::array<std::string_view, 11> kLayerBases = {
    "attn_norm",   "attn_q",   "attn_k",   "attn_v", "attn_output", "attn_q_norm",
    "attn_k_norm", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"};
constexpr std::array<std::string_view, 3> kGlobalStems = {"token_embd", "output_norm", "output"};

// HF name -> GGUF name ("" when llama.cpp has no such tensor).
std::string hf_to_gguf_name(const std::string& hf) {
  const std::string_view suffix = hf.ends_with(".bias") ? ".bias" : ".weight";
  for (std::string_view stem : kGlobalStems) {
    std::string g = fmt::format("{}{}", stem, suffix);
    if (gguf_to_hf_name(g, false) == hf) return g;
  }
  constexpr std::string_view kPrefix = "model.layers.";
  if (!hf.starts_with(kPrefix)) return {};
  const size_t dot = hf.find('.', kPrefix.size());
  if (dot == std::string::npos) return {};
  const std::string layer = hf.substr(kPrefix.size(), dot - kPrefix.size());
  for (std::string_view base : kLayerBases) {
    std::string g = fmt::format("blk.{}.{}{}", layer, base, suffix);
    if (gguf_to_hf_name(g, false) == hf) return g;
  }
  return {};
}

// The GGUF architecture llama.cpp's converter writes for a registry architecture.
std::string gguf_arch_for(const std::string& registry_name, const std::string& file) {
  if (registry_name == "llama" || registry_name == "mistral") return "llama";
  if (registry_name == "qwen2" || registry_name == "qwen3") return registry_name;
  fail(ErrorKind::kUnsupported,
       "{}: HF -> GGUF conversion supports llama, mistral, qwen2 and qwen3, not {}", file,
       registry_name);
}

void write_metadata(const models::ModelConfig& c, const std::string& arch, const std::string& dir,
                    GgufWriter& w) {
  WICK_CHECK(c.rope.scaling != nn::RopeConfig::Scaling::kDynamic, ErrorKind::kUnsupported,
             "{}: dynamic NTK rope scaling has no llama.cpp GGUF form", c.source);
  w.add_string("general.architecture", arch);
  w.add_string("general.name", std::filesystem::path(dir).filename().string());
  auto key = [&](const char* k) { return arch + "." + k; };
  w.add_u32(key("vocab_size"), static_cast<uint32_t>(c.vocab_size));
  w.add_u32(key("context_length"), static_cast<uint32_t>(c.max_position_embeddings));
  w.add_u32(key("embedding_length"), static_cast<uint32_t>(c.hidden_size));
  w.add_u32(key("block_count"), static_cast<uint32_t>(c.n_layers));
  w.add_u32(key("feed_forward_length"), static_cast<uint32_t>(c.intermediate_size));
  w.add_u32(key("attention.head_count"), static_cast<uint32_t>(c.n_heads));
  w.add_u32(key("attention.head_count_kv"), static_cast<uint32_t>(c.n_kv_heads));
  w.add_u32(key("attention.key_length"), static_cast<uint32_t>(c.head_dim));
  w.add_u32(key("attention.value_length"), static_cast<uint32_t>(c.head_dim));
  w.add_u32(key("rope.dimension_count"), static_cast<uint32_t>(c.rope.rotary_dim));
  w.add_f32(key("rope.freq_base"), static_cast<float>(c.rope.theta));
  w.add_f32(key("attention.layer_norm_rms_epsilon"), c.norm_eps);
  if (c.rope.scaling == nn::RopeConfig::Scaling::kLinear) {
    w.add_string(key("rope.scaling.type"), "linear");
    w.add_f32(key("rope.scaling.factor"), static_cast<float>(c.rope.factor));
  }
  const HfTokenizerWritten tok = write_hf_tokenizer(dir, w);
  if (c.bos_token_id >= 0 && !tok.bos_id)
    w.add_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(c.bos_token_id));
  if (!c.eos_token_ids.empty() && !tok.eos_id)
    w.add_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(c.eos_token_ids[0]));
}

// Llama 3 rope scaling as llama.cpp stores it: per-frequency divisors of the default inverse
// frequencies (rope_freqs.weight, f32, rotary_dim / 2).
std::vector<float> llama3_freq_factors(const nn::RopeConfig& rope) {
  nn::RopeConfig plain = rope;
  plain.scaling = nn::RopeConfig::Scaling::kNone;
  const std::vector<float> base = nn::rope_inv_freq(plain), scaled = nn::rope_inv_freq(rope);
  std::vector<float> factors(base.size());
  for (size_t i = 0; i < base.size(); ++i) factors[i] = base[i] / scaled[i];
  return factors;
}

struct HfKeepalive {
  std::shared_ptr<WeightSource> weights;
  std::vector<float> rope_factors;
};

}  // namespace

SourceModel open_hf_source(const std::string& dir, GgufWriter& writer) {
  const models::HfConfig hf = models::HfConfig::load(dir);
  const models::Architecture& arch = models::find_hf_architecture(hf);
  const models::ModelConfig c = arch.config_from_hf(hf);
  const std::string gguf_arch = gguf_arch_for(arch.name, hf.file());
  write_metadata(c, gguf_arch, dir, writer);

  std::shared_ptr<WeightSource> ws = open_weight_source(dir);
  SourceModel m;
  m.info = {c.n_layers, c.n_heads, c.n_kv_heads, true};
  for (const std::string& name : ws->names()) {
    if (name.ends_with("rotary_emb.inv_freq")) continue;  // recomputed from the config
    if (name == "lm_head.weight" && c.tie_word_embeddings) continue;
    const std::string g = hf_to_gguf_name(name);
    WICK_CHECK(!g.empty(), ErrorKind::kUnsupported, "{}: no llama.cpp name for tensor '{}'",
               ws->describe(), name);
    const WeightInfo info = ws->info(name);
    int heads = 0;
    if (gguf_arch == "llama" && g.find(".attn_q.") != std::string::npos) heads = int(c.n_heads);
    if (gguf_arch == "llama" && g.find(".attn_k.") != std::string::npos) heads = int(c.n_kv_heads);
    m.tensors.push_back({g, info.dtype, info.shape, ws->bytes(name).data, heads});
  }
  m.info.has_output = !c.tie_word_embeddings;
  auto keep = std::make_shared<HfKeepalive>();
  keep->weights = ws;
  if (c.rope.scaling == nn::RopeConfig::Scaling::kLlama3) {
    keep->rope_factors = llama3_freq_factors(c.rope);
    const auto& f = keep->rope_factors;
    m.tensors.push_back({"rope_freqs.weight",
                         DType::kF32,
                         {static_cast<int64_t>(f.size())},
                         {reinterpret_cast<const uint8_t*>(f.data()), f.size() * sizeof(float)},
                         0});
  }
  m.keepalive = std::shared_ptr<const void>(keep);
  return m;
}

}  // namespace wick::tools
