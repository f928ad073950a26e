// GGUF vocabulary -> tokenizer.json document -> Tokenizer. The pre-tokenizer patterns are the
// ones the corresponding HF tokenizer.json files use (llama.cpp keys them by tokenizer.ggml.pre).
#include "tokenizer/gguf_vocab.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

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

// SentencePiece merges from scores, as HF's SentencePieceExtractor builds them: every split of
// a token into two vocabulary tokens is a merge; merges are ordered by the merged token's score
// (higher first), ties by the merged token's id, then by the left and right ids.
Json merges_from_scores(const GgufVocab& v) {
  std::unordered_map<std::string_view, int32_t> ids;
  ids.reserve(v.tokens.size());
  // v.tokens here already has spaces mapped to U+2581 (spm_tokens).
  for (size_t i = 0; i < v.tokens.size(); ++i) ids.emplace(v.tokens[i], static_cast<int32_t>(i));
  struct Merge {
    float score;
    int32_t merged, left, right;
    size_t left_len, right_len;
  };
  std::vector<Merge> merges;
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    const std::string_view t = v.tokens[i];
    for (size_t cut = 1; cut < t.size(); ++cut) {
      if ((static_cast<unsigned char>(t[cut]) & 0xC0) == 0x80) continue;  // inside a code point
      const auto l = ids.find(t.substr(0, cut));
      if (l == ids.end()) continue;
      const auto r = ids.find(t.substr(cut));
      if (r == ids.end()) continue;
      merges.push_back(
          {v.scores[i], static_cast<int32_t>(i), l->second, r->second, cut, t.size() - cut});
    }
  }
  std::sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    if (a.score != b.score) return a.score > b.score;
    // Equal scores (user-defined whitespace runs): longer left, then longer right piece first,
    // as in HF's Gemma merges, so runs grow from the left.
    if (a.left_len != b.left_len) return a.left_len > b.left_len;
    if (a.right_len != b.right_len) return a.right_len > b.right_len;
    if (a.merged != b.merged) return a.merged < b.merged;
    if (a.left != b.left) return a.left < b.left;
    return a.right < b.right;
  });
  Json out = Json::array();
  out.get_ref<Json::array_t&>().reserve(merges.size());
  for (const Merge& m : merges) out.push_back(Json::array({v.tokens[m.left], v.tokens[m.right]}));
  return out;
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
Tokenizer spm_tokenizer(const GgufVocab& v, Json vocab, Json added) {
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
  Json merges;
  if (v.merges.empty()) {
    merges = merges_from_scores(v);
  } else {
    merges = v.merges;
  }
  Json root = {
      {"added_tokens", std::move(added)},
      {"normalizer", std::move(normalizer)},
      {"pre_tokenizer", Json()},
      {"decoder", {{"type", "Sequence"}, {"decoders", std::move(decoders)}}},
      {"model",
       {{"type", "BPE"},
        {"vocab", std::move(vocab)},
        {"merges", std::move(merges)},
        {"unk_token", unk ? Json(v.tokens[*unk]) : Json()},
        {"fuse_unk", true},
        {"byte_fallback", true}}},
  };
  root["post_processor"] = v.add_bos || v.add_eos ? post_processor(v) : Json();
  return Tokenizer::from_json_value(root, fmt::format("GGUF vocabulary ({})", v.model));
}

// convert_hf_to_gguf.py writes SentencePiece user-defined pieces with U+2581 turned into spaces
// (Gemma's whitespace runs); HF keeps them as "\u2581\u2581" added tokens (matched in the raw
// text) that are also vocabulary pieces with merges.
bool spm_spaced_user_tokens(const GgufVocab& v) {
  for (size_t id = 0; id < v.token_types.size(); ++id)
    if (static_cast<GgufTokenType>(v.token_types[id]) == GgufTokenType::kUserDefined &&
        v.tokens[id].find(' ') != std::string::npos)
      return true;
  return false;
}

GgufVocab spm_unspace_user_tokens(GgufVocab v) {
  for (size_t id = 0; id < v.token_types.size(); ++id) {
    std::string& t = v.tokens[id];
    if (static_cast<GgufTokenType>(v.token_types[id]) != GgufTokenType::kUserDefined ||
        t.find(' ') == std::string::npos)
      continue;
    std::string out;
    for (const char c : t) out += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
    t = std::move(out);
    // SentencePiece scores user-defined pieces 0 (above every learned piece); the converter
    // writes -1000. Their merges must come first, as in HF.
    if (id < v.scores.size()) v.scores[id] = 0.0f;
  }
  return v;
}

Tokenizer tokenizer_from_gguf_vocab_impl(const GgufVocab& v) {
  const bool spm = v.model == "llama";
  if (v.model != "gpt2" && !spm)
    fail(ErrorKind::kUnsupported,
         "GGUF tokenizer.ggml.model '{}' is not supported (only 'gpt2' and 'llama')", v.model);
  check_consistent(v);
  if (spm && v.merges.empty() && v.scores.size() != v.tokens.size())
    fail(ErrorKind::kParse, "GGUF tokenizer.ggml.scores has {} entries for {} tokens",
         v.scores.size(), v.tokens.size());
  Json vocab = Json::object(), added = Json::array();
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    vocab[v.tokens[id]] = id;
    const auto type = v.token_types.empty() ? GgufTokenType::kNormal
                                            : static_cast<GgufTokenType>(v.token_types[id]);
    // Control tokens are HF special added tokens; user-defined ones are non-special added tokens.
    if (type == GgufTokenType::kControl || type == GgufTokenType::kUserDefined ||
        (spm && type == GgufTokenType::kUnknown)) {
      const bool special = type != GgufTokenType::kUserDefined;
      added.push_back({{"id", id},
                       {"content", v.tokens[id]},
                       {"special", special},
                       {"normalized", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"single_word", false}});
    }
  }
  if (spm) return spm_tokenizer(v, std::move(vocab), std::move(added));
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

}  // namespace

Tokenizer tokenizer_from_gguf_vocab(const GgufVocab& v) {
  if (v.model == "llama" && spm_spaced_user_tokens(v))
    return tokenizer_from_gguf_vocab_impl(spm_unspace_user_tokens(v));
  return tokenizer_from_gguf_vocab_impl(v);
}

}  // namespace wick::tok
