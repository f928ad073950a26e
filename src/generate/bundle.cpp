// Loading a model with its tokenizer, chat template and stop ids (see bundle.h).
#include "generate/bundle.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/gguf.h"
#include "generate/gguf_tokenizer.h"

namespace wick::gen {

namespace {

std::optional<nlohmann::json> read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  WICK_CHECK(!j.is_discarded(), ErrorKind::kParse, "{}: invalid JSON", path);
  return j;
}

// tokenizer_config.json writes special tokens as "text" or {"content": "text", ...}.
std::string token_text(const nlohmann::json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  return "";
}

void add_id(std::vector<int32_t>& ids, int32_t id) {
  if (id >= 0 && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
}

void load_hf_extras(const std::string& dir, ModelBundle& b) {
  const std::string tok_path = dir + "/tokenizer.json";
  if (std::filesystem::exists(tok_path))
    b.tokenizer = std::make_unique<tok::Tokenizer>(tok::Tokenizer::from_file(tok_path));
  if (auto cfg = read_json(dir + "/tokenizer_config.json")) {
    b.bos_token = token_text(*cfg, "bos_token");
    b.eos_token = token_text(*cfg, "eos_token");
    std::string tmpl;
    if (auto it = cfg->find("chat_template"); it != cfg->end() && it->is_string())
      tmpl = it->get<std::string>();
    else if (auto jinja = std::ifstream(dir + "/chat_template.jinja")) {
      std::stringstream ss;
      ss << jinja.rdbuf();
      tmpl = ss.str();
    }
    if (!tmpl.empty())
      b.chat_template = std::make_unique<tok::ChatTemplate>(tmpl, b.bos_token, b.eos_token);
  }
  if (auto gen = read_json(dir + "/generation_config.json")) {
    auto it = gen->find("eos_token_id");
    if (it != gen->end() && it->is_number_integer()) add_id(b.eos_ids, it->get<int32_t>());
    if (it != gen->end() && it->is_array())
      for (const auto& e : *it)
        if (e.is_number_integer()) add_id(b.eos_ids, e.get<int32_t>());
  }
  if (b.tokenizer && !b.eos_token.empty())
    if (auto id = b.tokenizer->token_to_id(b.eos_token)) add_id(b.eos_ids, *id);
}

std::string gguf_token(const GgufFile& f, std::span<const std::string_view> tokens,
                       const char* key) {
  const GgufValue* v = f.find(key);
  if (!v || !v->as_i64() || *v->as_i64() < 0 || static_cast<size_t>(*v->as_i64()) >= tokens.size())
    return "";
  return std::string(tokens[static_cast<size_t>(*v->as_i64())]);
}

void load_gguf_extras(const GgufFile& f, ModelBundle& b) {
  if (!f.find("tokenizer.ggml.tokens")) return;
  b.tokenizer = std::make_unique<tok::Tokenizer>(gguf_tokenizer(f));
  std::span<const std::string_view> tokens = f.get_string_array("tokenizer.ggml.tokens");
  b.bos_token = gguf_token(f, tokens, "tokenizer.ggml.bos_token_id");
  b.eos_token = gguf_token(f, tokens, "tokenizer.ggml.eos_token_id");
  // End-of-turn / end-of-message tokens also end a reply.
  for (const char* key : {"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"})
    if (const GgufValue* v = f.find(key); v && v->as_i64())
      add_id(b.eos_ids, static_cast<int32_t>(*v->as_i64()));
  const std::string tmpl(f.get_string_or("tokenizer.chat_template", ""));
  if (!tmpl.empty())
    b.chat_template = std::make_unique<tok::ChatTemplate>(tmpl, b.bos_token, b.eos_token);
}

}  // namespace

ModelBundle load_bundle(const std::string& path, bool with_tokenizer, Device device) {
  ModelBundle b;
  b.loaded = models::load_model(path, device);
  for (int32_t id : b.model().config().eos_token_ids) add_id(b.eos_ids, id);
  if (!with_tokenizer) return b;
  if (!b.loaded.hf_dir.empty()) load_hf_extras(b.loaded.hf_dir, b);
  if (b.loaded.gguf) load_gguf_extras(*b.loaded.gguf, b);
  return b;
}

}  // namespace wick::gen
