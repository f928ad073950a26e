// GGUF vocabulary -> tokenizer.json document -> Tokenizer. The pre-tokenizer patterns are the
// ones the corresponding HF tokenizer.json files use (llama.cpp keys them by tokenizer.ggml.pre).
#include "tokenizer/gguf_vocab.h"

#include <cmath>
#include <deque>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/model.h"

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
  } else if (pre == "smollm" || pre == "starcoder" || pre == "refact" || pre == "codeshell") {
    // HF: single digits split off, then the byte-level step with its own GPT-2 regex.
    return {
        {"type", "Sequence"},
        {"pretokenizers",
         Json::array({{{"type", "Digits"}, {"individual_digits", true}},
                      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}})}};
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

// The token strings and scores the tokenizer is built from: views into the GgufVocab, except
// respelled user-defined SentencePiece pieces (see respell_user_tokens), which live here.
struct Spelling {
  std::vector<std::string_view> tokens;
  std::vector<float> scores;
  std::deque<std::string> respelled;
};

Json post_processor(const GgufVocab& v, const Spelling& sp) {
  Json single = Json::array(), specials = Json::object();
  const auto add = [&](const std::optional<int32_t>& id, const char* what) {
    if (!id)
      fail(ErrorKind::kParse, "GGUF add_{}_token is set but {}_token_id is missing", what, what);
    const std::string name(sp.tokens[*id]);
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

// Control tokens are HF special added tokens; user-defined ones are non-special added tokens.
std::vector<AddedToken> added_tokens(const GgufVocab& v, const Spelling& sp, bool spm) {
  std::vector<AddedToken> added;
  for (size_t id = 0; id < v.token_types.size(); ++id) {
    const auto type = static_cast<GgufTokenType>(v.token_types[id]);
    if (type == GgufTokenType::kControl || type == GgufTokenType::kUserDefined ||
        (spm && type == GgufTokenType::kUnknown)) {
      AddedToken& t = added.emplace_back();
      t.id = static_cast<int32_t>(id);
      t.content = sp.tokens[id];
      t.special = type != GgufTokenType::kUserDefined;
    }
  }
  return added;
}

// The vocab and merges (or, for "llama" without merges, the scores they derive from) go to the
// model directly; only the small parts of the tokenizer.json document are built as JSON.
ModelTables model_tables(const GgufVocab& v, Spelling& sp, bool spm) {
  ModelTables tables;
  tables.added_tokens = added_tokens(v, sp, spm);
  std::vector<std::pair<std::string_view, int32_t>> tokens(sp.tokens.size());
  for (size_t id = 0; id < sp.tokens.size(); ++id)
    tokens[id] = {sp.tokens[id], static_cast<int32_t>(std::min<size_t>(id, INT32_MAX))};
  tables.vocab.emplace().add_many(tokens, "tokenizer.ggml.tokens");
  if (spm && v.merges.empty()) {
    for (size_t id = 0; id < sp.scores.size(); ++id)
      if (std::isnan(sp.scores[id]))
        fail(ErrorKind::kParse, "GGUF tokenizer.ggml.scores[{}] is NaN", id);
    tables.scores = std::move(sp.scores);
    return tables;
  }
  auto& merges = tables.merges.emplace();
  merges.reserve(v.merges.size());
  for (size_t rank = 0; rank < v.merges.size(); ++rank) {
    const auto m = split_merge(v.merges[rank]);
    if (!m)
      fail(ErrorKind::kParse, "GGUF tokenizer.ggml.merges[{}] '{}' is not two tokens", rank,
           v.merges[rank]);
    merges.push_back(*m);
  }
  return tables;
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

// SentencePiece BPE ("llama"), laid out as HF's converter writes it: spaces become U+2581 (with
// one prepended when add_space_prefix), BPE with byte fallback and fused unknowns.
Tokenizer spm_tokenizer(const GgufVocab& v, Spelling& sp) {
  constexpr const char* kSpace = "\xE2\x96\x81";  // U+2581
  std::optional<int32_t> unk = v.unk_id;
  for (size_t id = 0; !unk && id < v.token_types.size(); ++id)
    if (static_cast<GgufTokenType>(v.token_types[id]) == GgufTokenType::kUnknown)
      unk = static_cast<int32_t>(id);
  if (unk && (*unk < 0 || static_cast<size_t>(*unk) >= v.tokens.size()))
    fail(ErrorKind::kParse, "GGUF tokenizer.ggml.unknown_token_id {} is not a token id", *unk);
  const Json replace = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpace}};
  Json decoders =
      Json::array({{{"type", "Replace"}, {"pattern", {{"String", kSpace}}}, {"content", " "}},
                   {{"type", "ByteFallback"}},
                   {{"type", "Fuse"}}});
  Json normalizer = replace;
  if (v.add_space_prefix) {
    normalizer = {{"type", "Sequence"},
                  {"normalizers", {{{"type", "Prepend"}, {"prepend", kSpace}}, replace}}};
    decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  }
  Json root = {
      {"normalizer", std::move(normalizer)},
      {"pre_tokenizer", Json()},
      {"decoder", {{"type", "Sequence"}, {"decoders", std::move(decoders)}}},
      {"model",
       {{"type", "BPE"},
        {"vocab", Json::object()},
        {"merges", Json::array()},
        {"unk_token", unk ? Json(sp.tokens[*unk]) : Json()},
        {"fuse_unk", true},
        {"byte_fallback", true}}},
  };
  root["post_processor"] = v.add_bos || v.add_eos ? post_processor(v, sp) : Json();
  ModelTables tables = model_tables(v, sp, true);
  return Tokenizer::from_json_value(root, fmt::format("GGUF vocabulary ({})", v.model), &tables);
}

// convert_hf_to_gguf.py writes SentencePiece user-defined pieces with U+2581 turned into spaces
// (Gemma's whitespace runs); HF keeps them as "\u2581\u2581" added tokens (matched in the raw
// text) that are also vocabulary pieces with merges.
void respell_user_tokens(const GgufVocab& v, Spelling& sp) {
  for (size_t id = 0; id < v.token_types.size(); ++id) {
    const std::string_view t = sp.tokens[id];
    if (static_cast<GgufTokenType>(v.token_types[id]) != GgufTokenType::kUserDefined ||
        t.find(' ') == std::string::npos)
      continue;
    std::string& out = sp.respelled.emplace_back();
    for (const char c : t)
      out += c == ' ' ? std::string_view("\xE2\x96\x81") : std::string_view(&c, 1);
    sp.tokens[id] = out;
    // SentencePiece scores user-defined pieces 0 (above every learned piece); the converter
    // writes -1000. Their merges must come first, as in HF.
    if (id < sp.scores.size()) sp.scores[id] = 0.0f;
  }
}

}  // namespace

Tokenizer tokenizer_from_gguf_vocab(const GgufVocab& v) {
  const bool spm = v.model == "llama";
  if (v.model != "gpt2" && !spm)
    fail(ErrorKind::kUnsupported,
         "GGUF tokenizer.ggml.model '{}' is not supported (only 'gpt2' and 'llama')", v.model);
  check_consistent(v);
  if (spm && v.merges.empty() && v.scores.size() != v.tokens.size())
    fail(ErrorKind::kParse, "GGUF tokenizer.ggml.scores has {} entries for {} tokens",
         v.scores.size(), v.tokens.size());
  Spelling sp;
  sp.tokens.assign(v.tokens.begin(), v.tokens.end());
  sp.scores = v.scores;
  if (spm) {
    respell_user_tokens(v, sp);
    return spm_tokenizer(v, sp);
  }
  Json root = {
      // Qwen2/3's tokenizer.json normalizes to NFC; llama.cpp skips it. wick follows HF.
      {"normalizer",
       v.pre == "qwen2" || v.pre == "deepseek-r1-qwen" ? Json{{"type", "NFC"}} : Json()},
      {"pre_tokenizer", byte_level_pre_tokenizer(v.pre)},
      {"decoder", {{"type", "ByteLevel"}}},
      // llama.cpp, like the HF files, lets whole-word vocab hits skip merging for these two.
      {"model",
       {{"type", "BPE"},
        {"vocab", Json::object()},
        {"merges", Json::array()},
        {"ignore_merges",
         v.pre == "llama3" || v.pre == "llama-v3" || v.pre == "llama-bpe" || v.pre == "gpt-4o"}}},
  };
  root["post_processor"] = v.add_bos || v.add_eos ? post_processor(v, sp) : Json();
  ModelTables tables = model_tables(v, sp, false);
  return Tokenizer::from_json_value(
      root, fmt::format("GGUF vocabulary ({}, pre '{}')", v.model, v.pre), &tables);
}

}  // namespace wick::tok
