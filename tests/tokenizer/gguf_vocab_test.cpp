// GGUF vocabularies: a GgufVocab filled the way convert_hf_to_gguf.py fills it (tokens by id,
// control / user-defined types from added tokens, "a b" merges) must encode the golden texts
// exactly as the HF tokenizer.json it came from.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer_files.h"

namespace wick::tok {
namespace {

GgufVocab vocab_from_hf(const nlohmann::json& j, const std::string& pre) {
  GgufVocab v;
  v.model = "gpt2";
  v.pre = pre;
  for (const auto& [token, id] : j["model"]["vocab"].items()) {
    const auto i = id.get<size_t>();
    if (v.tokens.size() <= i) v.tokens.resize(i + 1);
    v.tokens[i] = token;
  }
  const auto added = j.value("added_tokens", nlohmann::json::array());
  for (const auto& t : added) {
    const auto i = t["id"].get<size_t>();
    if (v.tokens.size() <= i) v.tokens.resize(i + 1);
    v.tokens[i] = t["content"];
  }
  v.token_types.assign(v.tokens.size(), static_cast<int32_t>(GgufTokenType::kNormal));
  for (const auto& t : added)
    v.token_types[t["id"].get<size_t>()] = static_cast<int32_t>(
        t["special"].get<bool>() ? GgufTokenType::kControl : GgufTokenType::kUserDefined);
  for (const auto& m : j["model"]["merges"])
    v.merges.push_back(m.is_string() ? m.get<std::string>()
                                     : m[0].get<std::string>() + " " + m[1].get<std::string>());
  return v;
}

// SentencePiece ("llama") vocabulary as convert_hf_to_gguf.py writes it: byte tokens typed
// kByte, scores falling with the id (the order SentencePiece stores BPE pieces in), special
// tokens kControl. with_merges: also pass the tokenizer.json merges (otherwise wick derives
// them from the scores, as for GGUF files that carry none, e.g. Gemma 3).
GgufVocab spm_vocab_from_hf(const nlohmann::json& j, bool add_space_prefix, bool with_merges) {
  GgufVocab v = vocab_from_hf(j, "default");
  v.model = "llama";
  v.add_space_prefix = add_space_prefix;
  if (!with_merges) v.merges.clear();
  v.scores.resize(v.tokens.size());
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    const std::string& t = v.tokens[i];
    const bool byte = t.size() == 6 && t.starts_with("<0x") && t.ends_with(">");
    if (byte) v.token_types[i] = static_cast<int32_t>(GgufTokenType::kByte);
    v.scores[i] = v.token_types[i] == static_cast<int32_t>(GgufTokenType::kNormal)
                      ? -static_cast<float>(i)
                      : -1000.0f;
  }
  const auto& post = j["post_processor"];
  if (post.is_object() && post.contains("special_tokens"))
    for (const auto& [name, st] : post["special_tokens"].items()) {
      v.bos_id = st["ids"][0].get<int32_t>();
      v.add_bos = true;
    }
  const auto& unk = j["model"]["unk_token"];
  if (unk.is_string())
    for (size_t i = 0; i < v.tokens.size(); ++i)
      if (v.tokens[i] == unk.get<std::string>()) v.unk_id = static_cast<int32_t>(i);
  return v;
}

struct SpmCase {
  const char* name;
  bool add_space_prefix;
  bool with_merges;
};

class GgufSpmGolden : public ::testing::TestWithParam<SpmCase> {};

TEST_P(GgufSpmGolden, EncodesLikeTheHfTokenizer) {
  const SpmCase c = GetParam();
  const auto json = testing::tokenizer_json(c.name);
  if (!json) GTEST_SKIP() << c.name << " not found under " << testing::shared_tokenizer_dir();
  const auto golden = nlohmann::json::parse(
      *testing::read_file(testing::test_data_dir() + "/golden_" + c.name + ".json"));
  const Tokenizer tok = tokenizer_from_gguf_vocab(
      spm_vocab_from_hf(nlohmann::json::parse(*json), c.add_space_prefix, c.with_merges));
  int failures = 0;
  for (const auto& k : golden["cases"]) {
    const std::string text = k["text"];
    const auto want = k["ids_no_special"].get<std::vector<int32_t>>();
    const auto want_special = k["ids"].get<std::vector<int32_t>>();
    const auto got = tok.encode(text, false);
    EXPECT_EQ(got, want) << nlohmann::json(text).dump();
    EXPECT_EQ(tok.encode(text, true), want_special) << nlohmann::json(text).dump();
    EXPECT_EQ(tok.decode(want_special), k["decode"].get<std::string>())
        << nlohmann::json(text).dump();
    if (got != want && ++failures > 3) break;
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, GgufSpmGolden,
                         ::testing::Values(SpmCase{"llama2", true, true},
                                           SpmCase{"gemma3", false, true}),
                         [](const auto& test_info) {
                           return std::string(test_info.param.name) +
                                  (test_info.param.with_merges ? "_merges" : "_scores");
                         });

struct Case {
  const char* name;
  const char* pre;
};

class GgufVocabGolden : public ::testing::TestWithParam<Case> {};

TEST_P(GgufVocabGolden, EncodesLikeTheHfTokenizer) {
  const Case c = GetParam();
  const auto json = testing::tokenizer_json(c.name);
  if (!json) GTEST_SKIP() << c.name << " not found under " << testing::shared_tokenizer_dir();
  const auto golden = nlohmann::json::parse(
      *testing::read_file(testing::test_data_dir() + "/golden_" + c.name + ".json"));
  const Tokenizer tok =
      tokenizer_from_gguf_vocab(vocab_from_hf(nlohmann::json::parse(*json), c.pre));
  int failures = 0;
  for (const auto& k : golden["cases"]) {
    const std::string text = k["text"];
    const auto want = k["ids_no_special"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok.encode(text, false), want) << nlohmann::json(text).dump();
    EXPECT_EQ(tok.decode(want), k["decode"].get<std::string>()) << nlohmann::json(text).dump();
    if (tok.encode(text, false) != want && ++failures > 3) break;
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, GgufVocabGolden,
                         ::testing::Values(Case{"llama3", "llama-bpe"}, Case{"qwen3", "qwen2"},
                                           Case{"deepseek_v3", "deepseek-v3"},
                                           Case{"gptoss", "gpt-4o"}, Case{"gpt2", "gpt2"}),
                         [](const auto& test_info) { return std::string(test_info.param.name); });

GgufVocab tiny() {
  GgufVocab v;
  v.model = "gpt2";
  v.tokens = {"a", "b", "ab", "<s>", "</s>"};
  v.token_types = {1, 1, 1, 3, 3};
  v.merges = {"a b"};
  v.bos_id = 3;
  v.eos_id = 4;
  return v;
}

TEST(GgufVocab, AddsBosAndEosWhenAsked) {
  GgufVocab v = tiny();
  EXPECT_EQ(tokenizer_from_gguf_vocab(v).encode("ab"), (std::vector<int32_t>{2}));
  v.add_bos = true;
  EXPECT_EQ(tokenizer_from_gguf_vocab(v).encode("ab"), (std::vector<int32_t>{3, 2}));
  v.add_eos = true;
  const Tokenizer t = tokenizer_from_gguf_vocab(v);
  EXPECT_EQ(t.encode("ab<s>"), (std::vector<int32_t>{3, 2, 3, 4}));
  EXPECT_EQ(t.encode("ab", false), (std::vector<int32_t>{2}));
  EXPECT_EQ(t.decode(std::vector<int32_t>{3, 2, 4}, true), "ab");
}

TEST(GgufVocab, RejectsWhatItCannotBuild) {
  GgufVocab v = tiny();
  v.model = "bert";
  EXPECT_THROW(tokenizer_from_gguf_vocab(v), Error);
  v = tiny();
  v.pre = "no-such-pre";
  try {
    tokenizer_from_gguf_vocab(v);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("no-such-pre"), std::string::npos);
  }
  v = tiny();
  v.token_types.pop_back();
  EXPECT_THROW(tokenizer_from_gguf_vocab(v), Error);
  v = tiny();
  v.bos_id = 99;
  v.add_bos = true;
  EXPECT_THROW(tokenizer_from_gguf_vocab(v), Error);
  v = tiny();
  v.merges = {"a zz"};
  EXPECT_THROW(tokenizer_from_gguf_vocab(v), Error);
}

}  // namespace
}  // namespace wick::tok
