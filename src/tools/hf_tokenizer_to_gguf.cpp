// HF tokenizer.json (+ tokenizer_config.json) -> tokenizer.ggml.* metadata, as llama.cpp's
// converter writes it, so a converted model carries its vocabulary and chat template:
// - byte-level BPE (GPT-2, Llama 3, Qwen, SmolLM): model "gpt2", tokens, token types, merges,
//   and the pre-tokenizer name, found the way llama.cpp does it: tokenize probe texts with each
//   known name and keep the one that matches the tokenizer.json exactly;
// - SentencePiece-style BPE (Llama 2, Gemma: U+2581 spaces, <0xXX> byte fallback): model
//   "llama", tokens, scores (-rank of the merge that makes the token, the order SentencePiece's
//   BPE follows), token types, merges, add_space_prefix.
// Unigram and WordPiece vocabularies are not converted (a warning; the GGUF gets no vocabulary).
#include "tools/hf_tokenizer_to_gguf.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/tokenizer.h"

namespace wick::tools {
namespace {

using Json = nlohmann::json;

std::optional<Json> read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  try {
    return Json::parse(s.str());
  } catch (const Json::exception& e) {
    fail(ErrorKind::kParse, "{}: not valid JSON: {}", path, e.what());
  }
}

// True when `node` (a pre-tokenizer, normalizer or decoder, possibly a Sequence) contains a
// component of `type`; `pred` may inspect it further.
template <class Pred>
bool contains(const Json& node, std::string_view type, Pred pred) {
  if (!node.is_object()) return false;
  const std::string t = node.value("type", "");
  if (t == type && pred(node)) return true;
  for (const char* list : {"pretokenizers", "normalizers", "decoders", "processors"})
    if (auto it = node.find(list); it != node.end() && it->is_array())
      for (const Json& child : *it)
        if (contains(child, type, pred)) return true;
  return false;
}
bool contains(const Json& node, std::string_view type) {
  return contains(node, type, [](const Json&) { return true; });
}

std::string merge_string(const Json& m, const std::string& file) {
  if (m.is_string()) return m.get<std::string>();
  WICK_CHECK(m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string(),
             ErrorKind::kParse, "{}: model.merges entry {} is neither \"a b\" nor [a, b]", file,
             m.dump());
  return m[0].get<std::string>() + " " + m[1].get<std::string>();
}

// A special token in tokenizer_config.json: "text" or {"content": "text", ...}.
std::optional<std::string> config_token(const Json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  return std::nullopt;
}

struct Vocabulary {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<std::string> merges;
  std::unordered_map<std::string, int32_t> ids;
};

Vocabulary read_vocabulary(const Json& tj, const std::string& file, bool byte_level) {
  const Json& model = tj.at("model");
  Vocabulary v;
  std::map<int64_t, std::string> by_id;
  for (const auto& [token, id] : model.at("vocab").items()) {
    WICK_CHECK(id.is_number_integer() && id.get<int64_t>() >= 0, ErrorKind::kParse,
               "{}: vocab id of '{}' is not a non-negative integer", file, token);
    by_id[id.get<int64_t>()] = token;
  }
  std::map<int64_t, std::pair<std::string, bool>> added;
  if (auto it = tj.find("added_tokens"); it != tj.end() && it->is_array())
    for (const Json& a : *it) {
      const int64_t id = a.at("id").get<int64_t>();
      added[id] = {a.at("content").get<std::string>(), a.value("special", false)};
      by_id[id] = added[id].first;
    }
  const int64_t n = by_id.empty() ? 0 : by_id.rbegin()->first + 1;
  v.tokens.resize(static_cast<size_t>(n));
  v.types.assign(static_cast<size_t>(n), static_cast<int32_t>(tok::GgufTokenType::kNormal));
  for (int64_t id = 0; id < n; ++id) {
    auto it = by_id.find(id);
    if (it == by_id.end()) {  // a hole in the ids: llama.cpp fills it with an unused token
      v.tokens[static_cast<size_t>(id)] = fmt::format("[PAD{}]", id);
      v.types[static_cast<size_t>(id)] = static_cast<int32_t>(tok::GgufTokenType::kUnused);
      continue;
    }
    const std::string& t = it->second;
    v.tokens[static_cast<size_t>(id)] = t;
    v.ids.emplace(t, static_cast<int32_t>(id));
    auto& type = v.types[static_cast<size_t>(id)];
    if (auto a = added.find(id); a != added.end()) {
      type = static_cast<int32_t>(a->second.second ? tok::GgufTokenType::kControl
                                                   : tok::GgufTokenType::kUserDefined);
    } else if (!byte_level && t.size() == 6 && t.starts_with("<0x") && t.back() == '>') {
      type = static_cast<int32_t>(tok::GgufTokenType::kByte);
    }
  }
  if (auto unk = model.find("unk_token"); unk != model.end() && unk->is_string()) {
    if (auto it = v.ids.find(unk->get<std::string>()); it != v.ids.end())
      v.types[static_cast<size_t>(it->second)] = static_cast<int32_t>(tok::GgufTokenType::kUnknown);
  }
  if (auto it = model.find("merges"); it != model.end() && it->is_array())
    for (const Json& m : *it) v.merges.push_back(merge_string(m, file));
  return v;
}

// -rank of the first merge producing each token (SentencePiece merges the pair whose result
// scores highest); tokens no merge produces score below every merge result.
std::vector<float> spm_scores(const Vocabulary& v) {
  std::vector<float> scores(v.tokens.size(), -1e9f);
  for (size_t r = 0; r < v.merges.size(); ++r) {
    const std::string& m = v.merges[r];
    const size_t sp = m.find(' ');
    if (sp == std::string::npos) continue;
    const std::string merged = m.substr(0, sp) + m.substr(sp + 1);
    auto it = v.ids.find(merged);
    if (it == v.ids.end()) continue;
    float& s = scores[static_cast<size_t>(it->second)];
    s = std::max(s, -static_cast<float>(r));
  }
  return scores;
}

// Texts whose pre-tokenization tells llama.cpp's pre-tokenizer variants apart (digit runs,
// contractions, letters after punctuation, newlines, non-Latin scripts, mixed case).
constexpr std::string_view kProbes[] = {
    "Hello world! It's 12345 o'clock; I'm HERE'S you've   spaces\t\ttabs\n\n\nnewlines",
    "3333333 22 1 and 1234567890 ,.;:!? ¿Qué? ñandú Ärger über ÉCOLE",
    "中文字符 日本語のテキスト 한국어 العربية русский текст "
    "🚀🙂 "
    "emoji",
    "def f(x):\n    return x**2  # comment\r\n\tif(a&&b){c+=1;}",
    "abc123def 456ghi $$$ ... --- ___ ''' \"\"\" aaaa      bbbb",
    "1 12 123 1234 12345 e\u0301 A\u030a \u212b \uff21\uff22 \u2160",  // digits, NFC forms
    "नमस्ते दुनिया สวัสดีชาวโลก ქართული Ελληνικά עִבְרִית",  // combining marks
    "漢字かなカナ混じり文123、。「」 (x)y.z/w:v-u_t'S 'll 'VE",
};

std::string detect_pre(const tok::GgufVocab& base, const tok::Tokenizer& reference,
                       const std::string& file) {
  std::string why;
  for (const char* pre : {"gpt2", "llama-bpe", "qwen2", "smollm", "deepseek-v3", "gpt-4o"}) {
    tok::GgufVocab v = base;
    v.pre = pre;
    try {
      const tok::Tokenizer candidate = tok::tokenizer_from_gguf_vocab(v);
      bool same = true;
      for (std::string_view probe : kProbes)
        same = same && candidate.encode(probe, false) == reference.encode(probe, false);
      if (same) return pre;
      why += fmt::format("; {}: different ids", pre);
    } catch (const Error& e) {
      why += fmt::format("; {}: {}", pre, e.what());
    }
  }
  fail(ErrorKind::kUnsupported,
       "{}: the byte-level pre-tokenizer matches none of the names wick knows (gpt2, llama-bpe, "
       "qwen2, smollm, deepseek-v3, gpt-4o); cannot name it in tokenizer.ggml.pre{}",
       file, why);
}

}  // namespace

HfTokenizerWritten write_hf_tokenizer(const std::string& dir, GgufWriter& w) {
  HfTokenizerWritten written;
  const std::string file = dir + "/tokenizer.json";
  const std::optional<Json> tj = read_json(file);
  if (!tj) return written;
  const Json cfg = read_json(dir + "/tokenizer_config.json").value_or(Json::object());
  const Json& model = tj->at("model");
  const std::string type = model.value("type", "");
  const Json pre = tj->value("pre_tokenizer", Json());
  const Json dec = tj->value("decoder", Json());
  const bool byte_level = contains(pre, "ByteLevel") || contains(dec, "ByteLevel");
  const bool spm = !byte_level && type == "BPE" &&
                   (model.value("byte_fallback", false) || contains(dec, "ByteFallback") ||
                    contains(dec, "Metaspace") || contains(pre, "Metaspace"));
  if (type != "BPE" || (!byte_level && !spm)) {
    std::fprintf(stderr,
                 "warning: %s: %s tokenizer not converted (wick writes byte-level and "
                 "SentencePiece BPE vocabularies); the GGUF has no tokenizer.ggml.* vocabulary\n",
                 file.c_str(), type.c_str());
    return written;
  }
  Vocabulary v = read_vocabulary(*tj, file, byte_level);
  tok::GgufVocab gv;
  gv.model = byte_level ? "gpt2" : "llama";
  gv.tokens = v.tokens;
  gv.token_types = v.types;
  gv.merges = v.merges;
  if (spm) {
    const Json norm = tj->value("normalizer", Json());
    gv.add_space_prefix =
        contains(norm, "Prepend") || contains(pre, "Metaspace", [](const Json& m) {
          return m.value("prepend_scheme", std::string("always")) != "never" &&
                 m.value("add_prefix_space", true);
        });
    gv.scores = spm_scores(v);
  }
  // BOS/EOS as tokenizer.json's post-processor adds them (what the `tokenizers` package and
  // wick's HF path do; tokenizer_config.json's add_bos_token, which transformers' slow-tokenizer
  // classes apply on top, is not, so both wick paths give the same ids).
  const tok::Tokenizer reference = tok::Tokenizer::from_json_value(*tj, file);
  const std::vector<int32_t> plain = reference.encode("a", false);
  const std::vector<int32_t> special = reference.encode("a", true);
  gv.add_bos = special.size() > plain.size() && special.front() != plain.front();
  gv.add_eos = special.size() > plain.size() && special.back() != plain.back();
  const auto id_of = [&](const char* key) -> std::optional<int32_t> {
    const std::optional<std::string> t = config_token(cfg, key);
    if (!t) return std::nullopt;
    auto it = v.ids.find(*t);
    return it == v.ids.end() ? std::nullopt : std::optional<int32_t>(it->second);
  };
  gv.bos_id = id_of("bos_token");
  gv.eos_id = id_of("eos_token");
  if (byte_level) gv.pre = detect_pre(gv, reference, file);

  w.add_string("tokenizer.ggml.model", gv.model);
  if (byte_level) w.add_string("tokenizer.ggml.pre", gv.pre);
  w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(gv.tokens));
  w.add_array("tokenizer.ggml.token_type", std::span<const int32_t>(gv.token_types));
  if (spm) {
    w.add_array("tokenizer.ggml.scores", std::span<const float>(gv.scores));
    w.add_bool("tokenizer.ggml.add_space_prefix", gv.add_space_prefix);
  }
  w.add_array("tokenizer.ggml.merges", std::span<const std::string>(gv.merges));
  if (gv.bos_id) {
    w.add_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(*gv.bos_id));
    written.bos_id = true;
  }
  if (gv.eos_id) {
    w.add_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(*gv.eos_id));
    written.eos_id = true;
  }
  if (auto id = id_of("unk_token"))
    w.add_u32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(*id));
  if (auto id = id_of("pad_token"))
    w.add_u32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(*id));
  w.add_bool("tokenizer.ggml.add_bos_token", gv.add_bos);
  w.add_bool("tokenizer.ggml.add_eos_token", gv.add_eos);
  if (auto it = cfg.find("chat_template"); it != cfg.end() && it->is_string()) {
    w.add_string("tokenizer.chat_template", it->get<std::string>());
  } else if (std::ifstream jinja(dir + "/chat_template.jinja"); jinja) {
    std::stringstream s;
    s << jinja.rdbuf();
    w.add_string("tokenizer.chat_template", s.str());
  }
  written.vocabulary = true;
  return written;
}

}  // namespace wick::tools
