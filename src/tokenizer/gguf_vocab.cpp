// GGUF vocabulary -> tokenizer.json document -> Tokenizer. The pre-tokenizer patterns are the
// ones the corresponding HF tokenizer.json files use (llama.cpp keys them by tokenizer.ggml.pre).
#include "tokenizer/gguf_vocab.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace wick::tok {
namespace {

using Json = nlohmann::json;

constexpr const char* kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kGpt4oPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kDeepseekV3Patterns[] = {
    R"(\p{N}{1,3})",
    "[\xE4\xB8\x80-\xE9\xBE\xA5\xE3\x81\x80-\xE3\x82\x9F\xE3\x82\xA0-\xE3\x83\xBF]+",  // CJK, kana
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"};

Json split(const char* regex) {
  return {{"type", "Split"},
          {"pattern", {{"Regex", regex}}},
          {"behavior", "Isolated"},
          {"invert", false}};
}

// Regex splits for tokenizer.ggml.pre, followed by the byte-level mapping.
Json byte_level_pre_tokenizer(const std::string& pre) {
  const Json byte_level = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}};
  Json steps = Json::array();
  if (pre.empty() || pre == "default" || pre == "gpt2") {
    return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  } else if (pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe") {
    steps.push_back(split(kLlama3Pattern));
  } else if (pre == "qwen2" || pre == "deepseek-r1-qwen") {
    steps.push_back(split(kQwen2Pattern));
  } else if (pre == "gpt-4o") {
    steps.push_back(split(kGpt4oPattern));
  } else if (pre == "deepseek-v3") {
    for (const char* p : kDeepseekV3Patterns) steps.push_back(split(p));
  } else {
    fail(ErrorKind::kUnsupported, "GGUF tokenizer.ggml.pre '{}' is not supported", pre);
  }
  steps.push_back(byte_level);
  return {{"type", "Sequence"}, {"pretokenizers", steps}};
}

Json post_processor(const GgufVocab& v) {
  Json single = Json::array(), specials = Json::object();
  const auto add = [&](const std::optional<int32_t>& id, const char* what) {
    if (!id)
      fail(ErrorKind::kParse, "GGUF add_{}_token is set but {}_token_id is missing", what, what);
    const std::string name = v.tokens[*id];
    single.push_back({{"SpecialToken", {{"id", name}, {"type_id", 0}}}});
    specials[name] = {{"id", name}, {"ids", {*id}}, {"tokens", {name}}};
  };
  if (v.add_bos) add(v.bos_id, "bos");
  single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  if (v.add_eos) add(v.eos_id, "eos");
  return {{"type", "TemplateProcessing"},
          {"single", single},
          {"pair", single},
          {"special_tokens", specials}};
}

void check_consistent(const GgufVocab& v) {
  if (!v.token_types.empty() && v.token_types.size() != v.tokens.size())
    fail(ErrorKind::kParse, "GGUF tokenizer.ggml.token_type has {} entries for {} tokens",
         v.token_types.size(), v.tokens.size());
  for (const auto& [id, name] : {std::pair{v.bos_id, "bos"}, std::pair{v.eos_id, "eos"}}) {
    if (id && (*id < 0 || static_cast<size_t>(*id) >= v.tokens.size()))
      fail(ErrorKind::kParse, "GGUF tokenizer.ggml.{}_token_id {} is not a token id (vocab of {})",
           name, *id, v.tokens.size());
  }
}

}  // namespace

Tokenizer tokenizer_from_gguf_vocab(const GgufVocab& v) {
  if (v.model != "gpt2")
    fail(ErrorKind::kUnsupported, "GGUF tokenizer.ggml.model '{}' is not supported (only 'gpt2')",
         v.model);
  check_consistent(v);
  Json vocab = Json::object(), added = Json::array();
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    vocab[v.tokens[id]] = id;
    const auto type = v.token_types.empty() ? GgufTokenType::kNormal
                                            : static_cast<GgufTokenType>(v.token_types[id]);
    // Control tokens are HF special added tokens; user-defined ones are non-special added tokens.
    if (type == GgufTokenType::kControl || type == GgufTokenType::kUserDefined) {
      const bool special = type == GgufTokenType::kControl;
      added.push_back({{"id", id},
                       {"content", v.tokens[id]},
                       {"special", special},
                       {"normalized", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"single_word", false}});
    }
  }
  Json root = {
      {"added_tokens", added},
      // Qwen2/3's tokenizer.json normalizes to NFC; llama.cpp skips it. wick follows HF.
      {"normalizer",
       v.pre == "qwen2" || v.pre == "deepseek-r1-qwen" ? Json{{"type", "NFC"}} : Json()},
      {"pre_tokenizer", byte_level_pre_tokenizer(v.pre)},
      {"decoder", {{"type", "ByteLevel"}}},
      // llama.cpp, like the HF files, lets whole-word vocab hits skip merging for these two.
      {"model",
       {{"type", "BPE"},
        {"vocab", vocab},
        {"merges", v.merges},
        {"ignore_merges",
         v.pre == "llama3" || v.pre == "llama-v3" || v.pre == "llama-bpe" || v.pre == "gpt-4o"}}},
  };
  root["post_processor"] = v.add_bos || v.add_eos ? post_processor(v) : Json();
  return Tokenizer::from_json_value(root,
                                    fmt::format("GGUF vocabulary ({}, pre '{}')", v.model, v.pre));
}

}  // namespace wick::tok
