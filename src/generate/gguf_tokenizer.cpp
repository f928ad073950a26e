// GGUF vocabulary -> tokenizer.json (see gguf_tokenizer.h).
#include "generate/gguf_tokenizer.h"

#include <algorithm>
#include <string>
#include <unordered_map>

#include "core/error.h"

namespace wick::gen {

namespace {

using Json = nlohmann::json;

// llama.cpp token types.
constexpr int32_t kTypeNormal = 1, kTypeControl = 3, kTypeUserDefined = 4;

Json byte_level(bool use_regex) {
  return {{"type", "ByteLevel"},
          {"add_prefix_space", false},
          {"trim_offsets", true},
          {"use_regex", use_regex}};
}

Json split_regex(const char* pattern) {
  return {{"type", "Split"},
          {"pattern", {{"Regex", pattern}}},
          {"behavior", "Isolated"},
          {"invert", false}};
}

// tokenizer.ggml.pre -> the HF pre-tokenizer llama.cpp's converter took it from.
Json gpt2_pre_tokenizer(const std::string& pre, const std::string& file) {
  if (pre.empty() || pre == "default" || pre == "gpt2") return byte_level(true);
  if (pre == "smollm" || pre == "starcoder" || pre == "refact" || pre == "codeshell")
    return {{"type", "Sequence"},
            {"pretokenizers",
             Json::array({{{"type", "Digits"}, {"individual_digits", true}}, byte_level(true)})}};
  if (pre == "llama-bpe" || pre == "llama3")
    return {{"type", "Sequence"},
            {"pretokenizers",
             Json::array({split_regex("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
                                      "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
                                      "\\s+(?!\\S)|\\s+"),
                          byte_level(false)})}};
  if (pre == "qwen2")
    return {{"type", "Sequence"},
            {"pretokenizers",
             Json::array({split_regex("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
                                      "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
                                      "\\s+(?!\\S)|\\s+"),
                          byte_level(false)})}};
  fail(ErrorKind::kUnsupported, "{}: tokenizer.ggml.pre = \"{}\" is not supported", file, pre);
}

// SentencePiece BPE as HF BPE: every normal piece that splits into two pieces of the vocabulary
// gives a merge, ranked by the piece's score (higher first), as transformers'
// SentencePieceExtractor does.
Json spm_merges(std::span<const std::string_view> tokens, const std::vector<float>& scores,
                const std::vector<int32_t>& types) {
  WICK_CHECK(scores.size() == tokens.size(), ErrorKind::kParse,
             "tokenizer.ggml.scores has {} entries for {} tokens", scores.size(), tokens.size());
  std::unordered_map<std::string_view, int32_t> ids;
  for (size_t i = 0; i < tokens.size(); ++i) ids.emplace(tokens[i], static_cast<int32_t>(i));
  struct Merge {
    float score;
    int32_t left, right;
    size_t split;
    int32_t piece;
  };
  std::vector<Merge> merges;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!types.empty() && types[i] != kTypeNormal) continue;
    const std::string_view s = tokens[i];
    for (size_t cut = 1; cut < s.size(); ++cut) {
      if ((static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) continue;  // inside a character
      auto l = ids.find(s.substr(0, cut)), r = ids.find(s.substr(cut));
      if (l == ids.end() || r == ids.end()) continue;
      merges.push_back({scores[i], l->second, r->second, cut, static_cast<int32_t>(i)});
    }
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.piece != b.piece) return a.piece < b.piece;
    return a.left != b.left ? a.left < b.left : a.right < b.right;
  });
  Json out = Json::array();
  for (const Merge& m : merges)
    out.push_back(Json::array({std::string(tokens[static_cast<size_t>(m.left)]),
                               std::string(tokens[static_cast<size_t>(m.right)])}));
  return out;
}

Json post_processor(const GgufFile& f, std::span<const std::string_view> tokens, bool bos_default) {
  const GgufValue* bos_id = f.find("tokenizer.ggml.bos_token_id");
  if (!f.get_bool_or("tokenizer.ggml.add_bos_token", bos_default) || !bos_id || !bos_id->as_i64())
    return nullptr;
  const auto id = *bos_id->as_i64();
  WICK_CHECK(id >= 0 && static_cast<size_t>(id) < tokens.size(), ErrorKind::kParse,
             "{}: tokenizer.ggml.bos_token_id {} outside the vocabulary", f.path(), id);
  const std::string bos(tokens[static_cast<size_t>(id)]);
  return {{"type", "TemplateProcessing"},
          {"single", Json::array({{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}},
                                  {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
          {"pair", Json::array({{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}},
                                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                                {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}})},
          {"special_tokens", {{bos, {{"id", bos}, {"ids", {id}}, {"tokens", {bos}}}}}}};
}

}  // namespace

Json gguf_tokenizer_json(const GgufFile& f) {
  const std::string model(f.get_string_or("tokenizer.ggml.model", ""));
  std::span<const std::string_view> tokens = f.get_string_array("tokenizer.ggml.tokens");
  std::vector<int32_t> types;
  if (f.find("tokenizer.ggml.token_type")) types = f.get_i32_array("tokenizer.ggml.token_type");
  WICK_CHECK(types.empty() || types.size() == tokens.size(), ErrorKind::kParse,
             "{}: tokenizer.ggml.token_type has {} entries for {} tokens", f.path(), types.size(),
             tokens.size());
  Json vocab = Json::object();
  Json added = Json::array();
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string tok(tokens[i]);
    vocab[tok] = i;
    const int32_t type = types.empty() ? kTypeNormal : types[i];
    if (type == kTypeControl || type == kTypeUserDefined)
      added.push_back({{"id", i},
                       {"content", tok},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"normalized", false},
                       {"special", type == kTypeControl}});
  }
  Json j = {{"version", "1.0"},         {"added_tokens", added},     {"normalizer", nullptr},
            {"pre_tokenizer", nullptr}, {"post_processor", nullptr}, {"decoder", nullptr}};
  Json bpe = {{"type", "BPE"},
              {"dropout", nullptr},
              {"continuing_subword_prefix", nullptr},
              {"end_of_word_suffix", nullptr},
              {"ignore_merges", false},
              {"vocab", vocab}};
  if (model == "gpt2") {
    const std::string pre(f.get_string_or("tokenizer.ggml.pre", "default"));
    j["pre_tokenizer"] = gpt2_pre_tokenizer(pre, f.path());
    j["decoder"] = byte_level(true);
    j["post_processor"] = post_processor(f, tokens, false);
    bpe["unk_token"] = nullptr;
    bpe["fuse_unk"] = false;
    bpe["byte_fallback"] = false;
    Json merges = Json::array();
    for (std::string_view m : f.get_string_array("tokenizer.ggml.merges")) merges.push_back(m);
    bpe["merges"] = std::move(merges);
  } else if (model == "llama") {
    const bool prefix = f.get_bool_or("tokenizer.ggml.add_space_prefix", true);
    Json replace = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}};
    j["normalizer"] =
        prefix ? Json{{"type", "Sequence"},
                      {"normalizers",
                       Json::array({{{"type", "Prepend"}, {"prepend", "\u2581"}}, replace})}}
               : replace;
    Json decoders =
        Json::array({{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                     {{"type", "ByteFallback"}},
                     {{"type", "Fuse"}}});
    if (prefix)
      decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    j["decoder"] = {{"type", "Sequence"}, {"decoders", decoders}};
    j["post_processor"] = post_processor(f, tokens, true);
    const GgufValue* unk = f.find("tokenizer.ggml.unknown_token_id");
    bpe["unk_token"] = unk && unk->as_i64() && *unk->as_i64() >= 0 &&
                               static_cast<size_t>(*unk->as_i64()) < tokens.size()
                           ? Json(std::string(tokens[static_cast<size_t>(*unk->as_i64())]))
                           : Json(nullptr);
    bpe["fuse_unk"] = true;
    bpe["byte_fallback"] = true;
    bpe["merges"] = spm_merges(tokens, f.get_f32_array("tokenizer.ggml.scores"), types);
  } else {
    fail(ErrorKind::kUnsupported,
         "{}: tokenizer.ggml.model = \"{}\" is not supported (gpt2, llama)", f.path(), model);
  }
  j["model"] = std::move(bpe);
  return j;
}

tok::Tokenizer gguf_tokenizer(const GgufFile& file) {
  return tok::Tokenizer::from_json(gguf_tokenizer_json(file).dump(), file.path());
}

}  // namespace wick::gen
