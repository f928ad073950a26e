// Config readers for config.json and GGUF metadata (see config.h).
#include "models/config.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "formats/gguf.h"

namespace wick::models {

using Json = nlohmann::json;

// ---- validation ----

void ModelConfig::validate() const {
  auto positive = [&](int64_t v, const char* field) {
    WICK_CHECK(v > 0, ErrorKind::kInvalidArgument, "{}: {} must be positive, got {}", source, field,
               v);
  };
  positive(vocab_size, "vocab_size");
  positive(hidden_size, "hidden_size");
  positive(n_layers, "num_hidden_layers");
  positive(n_heads, "num_attention_heads");
  positive(n_kv_heads, "num_key_value_heads");
  positive(head_dim, "head_dim");
  WICK_CHECK(n_heads % n_kv_heads == 0, ErrorKind::kInvalidArgument,
             "{}: num_attention_heads {} is not a multiple of num_key_value_heads {}", source,
             n_heads, n_kv_heads);
  WICK_CHECK(intermediate_size > 0 || n_experts > 0, ErrorKind::kInvalidArgument,
             "{}: intermediate_size must be positive, got {}", source, intermediate_size);
  WICK_CHECK(norm_eps > 0 && std::isfinite(norm_eps), ErrorKind::kInvalidArgument,
             "{}: rms_norm_eps must be positive, got {}", source, norm_eps);
  WICK_CHECK(layer_sliding.empty() || layer_sliding.size() == static_cast<size_t>(n_layers),
             ErrorKind::kInvalidArgument, "{}: layer_types has {} entries for {} layers", source,
             layer_sliding.size(), n_layers);
  if (n_experts > 0) {
    WICK_CHECK(n_experts_used > 0 && n_experts_used <= n_experts, ErrorKind::kInvalidArgument,
               "{}: num_experts_per_tok {} outside [1, num_experts = {}]", source, n_experts_used,
               n_experts);
    positive(moe_intermediate_size, "moe_intermediate_size");
  }
  for (const nn::RopeConfig* r : {&rope, &rope_local}) {
    if (r->rotary_dim == 0) continue;
    WICK_CHECK(r->rotary_dim % 2 == 0 && r->rotary_dim <= head_dim, ErrorKind::kInvalidArgument,
               "{}: rotary dimension {} must be even and at most head_dim {}", source,
               r->rotary_dim, head_dim);
    WICK_CHECK(r->theta > 0 && r->factor > 0, ErrorKind::kInvalidArgument,
               "{}: rope_theta {} and rope factor {} must be positive", source, r->theta,
               r->factor);
  }
}

// ---- config.json ----

HfConfig::HfConfig(Json j, std::string file) : json_(std::move(j)), file_(std::move(file)) {
  WICK_CHECK(json_.is_object(), ErrorKind::kParse, "{}: not a JSON object", file_);
}

HfConfig HfConfig::load(const std::string& path) {
  std::string file = path;
  std::ifstream probe(file + "/config.json");
  if (probe) file += "/config.json";
  std::ifstream in(file);
  WICK_CHECK(in.good(), ErrorKind::kNotFound, "cannot open {}", file);
  std::stringstream ss;
  ss << in.rdbuf();
  Json j = Json::parse(ss.str(), nullptr, false);
  WICK_CHECK(!j.is_discarded(), ErrorKind::kParse, "{}: invalid JSON", file);
  return HfConfig(std::move(j), file);
}

const Json* HfConfig::find(const char* key) const {
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool HfConfig::has(const char* key) const {
  return find(key) != nullptr;
}

int64_t HfConfig::integer(const char* key) const {
  const Json* v = find(key);
  WICK_CHECK(v, ErrorKind::kNotFound, "{}: missing field {}", file_, key);
  WICK_CHECK(v->is_number_integer(), ErrorKind::kParse, "{}: field {} is not an integer ({})",
             file_, key, v->dump());
  return v->get<int64_t>();
}

int64_t HfConfig::integer_or(const char* key, int64_t fallback) const {
  return has(key) ? integer(key) : fallback;
}

double HfConfig::number(const char* key) const {
  const Json* v = find(key);
  WICK_CHECK(v, ErrorKind::kNotFound, "{}: missing field {}", file_, key);
  WICK_CHECK(v->is_number(), ErrorKind::kParse, "{}: field {} is not a number ({})", file_, key,
             v->dump());
  return v->get<double>();
}

double HfConfig::number_or(const char* key, double fallback) const {
  return has(key) ? number(key) : fallback;
}

bool HfConfig::boolean_or(const char* key, bool fallback) const {
  const Json* v = find(key);
  if (!v) return fallback;
  WICK_CHECK(v->is_boolean(), ErrorKind::kParse, "{}: field {} is not a boolean ({})", file_, key,
             v->dump());
  return v->get<bool>();
}

std::string HfConfig::string_or(const char* key, const std::string& fallback) const {
  const Json* v = find(key);
  if (!v) return fallback;
  WICK_CHECK(v->is_string(), ErrorKind::kParse, "{}: field {} is not a string ({})", file_, key,
             v->dump());
  return v->get<std::string>();
}

std::vector<std::string> HfConfig::strings(const char* key) const {
  const Json* v = find(key);
  if (!v) return {};
  WICK_CHECK(v->is_array(), ErrorKind::kParse, "{}: field {} is not an array", file_, key);
  std::vector<std::string> out;
  for (const Json& e : *v) {
    WICK_CHECK(e.is_string(), ErrorKind::kParse, "{}: field {} holds a non-string ({})", file_, key,
               e.dump());
    out.push_back(e.get<std::string>());
  }
  return out;
}

HfConfig HfConfig::sub(const char* key) const {
  const Json* v = find(key);
  WICK_CHECK(v && v->is_object(), ErrorKind::kParse, "{}: field {} is not an object", file_, key);
  return HfConfig(*v, file_ + ":" + key);
}

std::string HfConfig::architecture() const {
  std::vector<std::string> archs = strings("architectures");
  if (!archs.empty()) return archs[0];
  return string_or("model_type", "");
}

namespace {

std::vector<int32_t> token_ids(const HfConfig& hf, const char* key) {
  if (!hf.has(key)) return {};
  const Json& v = hf.raw()[key];
  std::vector<int32_t> ids;
  if (v.is_number_integer())
    ids.push_back(v.get<int32_t>());
  else if (v.is_array())
    for (const Json& e : v) {
      WICK_CHECK(e.is_number_integer(), ErrorKind::kParse, "{}: field {} holds a non-integer",
                 hf.file(), key);
      ids.push_back(e.get<int32_t>());
    }
  else
    fail(ErrorKind::kParse, "{}: field {} is neither an integer nor a list", hf.file(), key);
  return ids;
}

// Reads one rope parameter dict (rope_scaling in 4.x, rope_parameters in 5.x) into `r`.
void read_rope_dict(const HfConfig& d, nn::RopeConfig& r, int64_t max_position) {
  std::string type = d.string_or("rope_type", d.string_or("type", "default"));
  r.scaling = nn::rope_scaling_from_name(type, "rope_type", d.file());
  r.theta = d.number_or("rope_theta", r.theta);
  r.factor = d.number_or("factor", 1.0);
  r.low_freq_factor = d.number_or("low_freq_factor", 1.0);
  r.high_freq_factor = d.number_or("high_freq_factor", 4.0);
  r.original_max_position = d.integer_or("original_max_position_embeddings", max_position);
  r.max_position = max_position;
}

}  // namespace

nn::RopeConfig parse_hf_rope(const HfConfig& hf, int64_t rotary_dim, const char* layer_type,
                             double default_theta) {
  nn::RopeConfig r;
  r.rotary_dim = rotary_dim;
  r.theta = hf.number_or("rope_theta", default_theta);
  const int64_t max_pos = hf.integer_or("max_position_embeddings", 2048);
  r.max_position = max_pos;
  if (hf.has("rope_parameters")) {  // transformers 5.x
    HfConfig params = hf.sub("rope_parameters");
    if (layer_type && params.has(layer_type)) params = params.sub(layer_type);
    read_rope_dict(params, r, max_pos);
  } else if (hf.has("rope_scaling")) {  // transformers 4.x
    read_rope_dict(hf.sub("rope_scaling"), r, max_pos);
  }
  return r;
}

std::vector<bool> parse_hf_layer_types(const HfConfig& hf, int64_t n_layers) {
  std::vector<std::string> types = hf.strings("layer_types");
  if (types.empty()) return {};
  WICK_CHECK(types.size() == static_cast<size_t>(n_layers), ErrorKind::kInvalidArgument,
             "{}: layer_types has {} entries for num_hidden_layers = {}", hf.file(), types.size(),
             n_layers);
  std::vector<bool> sliding;
  for (const std::string& t : types) {
    WICK_CHECK(t == "full_attention" || t == "sliding_attention", ErrorKind::kUnsupported,
               "{}: layer type \"{}\" is not supported", hf.file(), t);
    sliding.push_back(t == "sliding_attention");
  }
  return sliding;
}

ModelConfig parse_hf_common(const HfConfig& hf, bool tie_default) {
  ModelConfig c;
  c.architecture = hf.architecture();
  c.source = hf.file();
  c.vocab_size = hf.integer("vocab_size");
  c.hidden_size = hf.integer("hidden_size");
  c.intermediate_size = hf.integer_or("intermediate_size", 0);
  c.n_layers = hf.integer("num_hidden_layers");
  c.n_heads = hf.integer("num_attention_heads");
  c.n_kv_heads = hf.integer_or("num_key_value_heads", c.n_heads);
  c.head_dim = hf.integer_or("head_dim", c.n_heads > 0 ? c.hidden_size / c.n_heads : 0);
  c.max_position_embeddings = hf.integer_or("max_position_embeddings", 2048);
  c.norm_eps = static_cast<float>(hf.number_or("rms_norm_eps", 1e-6));
  c.hidden_act = hf.string_or("hidden_act", hf.string_or("hidden_activation", "silu"));
  c.tie_word_embeddings = hf.boolean_or("tie_word_embeddings", tie_default);
  c.attention_bias = hf.boolean_or("attention_bias", false);
  c.mlp_bias = hf.boolean_or("mlp_bias", false);
  double partial = hf.number_or("partial_rotary_factor", 1.0);
  if (!hf.has("partial_rotary_factor") && hf.has("rope_parameters"))
    partial = hf.sub("rope_parameters").number_or("partial_rotary_factor", 1.0);
  const auto rotary_dim = static_cast<int64_t>(static_cast<double>(c.head_dim) * partial);
  c.rope = parse_hf_rope(hf, rotary_dim, "full_attention");
  c.rope_local = c.rope;
  c.layer_sliding = parse_hf_layer_types(hf, c.n_layers);
  std::vector<int32_t> bos = token_ids(hf, "bos_token_id");
  c.bos_token_id = bos.empty() ? -1 : bos[0];
  c.eos_token_ids = token_ids(hf, "eos_token_id");
  return c;
}

void apply_hf_max_window_layers(const HfConfig& hf, ModelConfig& c) {
  if (!hf.boolean_or("use_sliding_window", false)) {
    c.layer_sliding.clear();
    return;
  }
  c.sliding_window = hf.integer_or("sliding_window", 0);
  if (!c.layer_sliding.empty() || c.sliding_window <= 0) return;
  const int64_t first = hf.integer_or("max_window_layers", c.n_layers);
  for (int64_t i = 0; i < c.n_layers; ++i) c.layer_sliding.push_back(i >= first);
}

// ---- GGUF ----

GgufConfig::GgufConfig(std::shared_ptr<const GgufFile> file, std::string arch)
    : file_(std::move(file)), arch_(std::move(arch)) {}

bool GgufConfig::has(const char* suffix) const {
  return file_->find(key(suffix)) != nullptr;
}

int64_t GgufConfig::integer(const char* suffix) const {
  return file_->get_i64(key(suffix));
}

int64_t GgufConfig::integer_or(const char* suffix, int64_t fallback) const {
  return has(suffix) ? integer(suffix) : fallback;
}

double GgufConfig::number_or(const char* suffix, double fallback) const {
  return has(suffix) ? file_->get_f64(key(suffix)) : fallback;
}

std::string GgufConfig::string_or(const char* suffix, const std::string& fallback) const {
  return has(suffix) ? std::string(file_->get_string(key(suffix))) : fallback;
}

ModelConfig parse_gguf_common(const GgufConfig& gg) {
  const GgufFile& f = gg.file();
  ModelConfig c;
  c.architecture = gg.arch();
  c.source = f.path();
  c.hidden_size = gg.integer("embedding_length");
  c.intermediate_size = gg.integer_or("feed_forward_length", 0);
  c.n_layers = gg.integer("block_count");
  c.n_heads = gg.integer("attention.head_count");
  c.n_kv_heads = gg.integer_or("attention.head_count_kv", c.n_heads);
  c.head_dim = gg.integer_or("attention.key_length", c.n_heads > 0 ? c.hidden_size / c.n_heads : 0);
  c.max_position_embeddings = gg.integer_or("context_length", 2048);
  c.norm_eps = static_cast<float>(gg.number_or("attention.layer_norm_rms_epsilon", 1e-5));
  // Vocabulary: the metadata key when present, else the embedding table's rows.
  c.vocab_size = gg.integer_or("vocab_size", 0);
  if (c.vocab_size == 0) {
    if (const GgufTensorInfo* t = f.find_tensor("token_embd.weight"); t && t->shape.size() == 2)
      c.vocab_size = t->shape[0];
  }
  c.tie_word_embeddings = f.find_tensor("output.weight") == nullptr;
  c.rope.rotary_dim = gg.integer_or("rope.dimension_count", c.head_dim);
  c.rope.theta = gg.number_or("rope.freq_base", 10000.0);
  c.rope.max_position = c.max_position_embeddings;
  const std::string scaling = gg.string_or("rope.scaling.type", "none");
  c.rope.scaling = nn::rope_scaling_from_name(scaling, gg.key("rope.scaling.type"), f.path());
  c.rope.factor = gg.number_or("rope.scaling.factor", 1.0);
  c.rope.original_max_position =
      gg.integer_or("rope.scaling.original_context_length", c.max_position_embeddings);
  // llama.cpp writes Llama 3 rope scaling as per-frequency divisors in a tensor.
  if (const GgufTensorInfo* t = f.find_tensor("rope_freqs.weight")) {
    WICK_CHECK(t->dtype == DType::kF32 && t->shape.size() == 1, ErrorKind::kParse,
               "{}: rope_freqs.weight must be a 1-D f32 tensor", f.path());
    const std::span<const uint8_t> bytes = f.tensor_bytes(*t);
    c.rope.freq_factors.resize(static_cast<size_t>(t->shape[0]));
    std::memcpy(c.rope.freq_factors.data(), bytes.data(),
                std::min(bytes.size(), c.rope.freq_factors.size() * sizeof(float)));
  }
  c.rope_local = c.rope;
  c.sliding_window = gg.integer_or("attention.sliding_window", 0);
  c.n_experts = gg.integer_or("expert_count", 0);
  c.n_experts_used = gg.integer_or("expert_used_count", 0);
  c.moe_intermediate_size = gg.integer_or("expert_feed_forward_length", 0);
  if (const GgufValue* v = f.find("tokenizer.ggml.bos_token_id"); v && v->as_i64())
    c.bos_token_id = static_cast<int32_t>(*v->as_i64());
  if (const GgufValue* v = f.find("tokenizer.ggml.eos_token_id"); v && v->as_i64())
    c.eos_token_ids.push_back(static_cast<int32_t>(*v->as_i64()));
  return c;
}

}  // namespace wick::models
