// GGUF vocabularies: a GgufVocab filled the way convert_hf_to_gguf.py fills it (tokens by id,
// control / user-defined types from added tokens, "a b" merges) must encode the golden texts
// exactly as the HF tokenizer.json it came from.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>

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

// Minimal GGUF metadata reader for the tokenizer.ggml.* keys (the test links only the tokenizer).
std::optional<GgufVocab> read_gguf_vocab(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  const auto u32 = [&] {
    uint32_t x = 0;
    f.read(reinterpret_cast<char*>(&x), 4);
    return x;
  };
  const auto u64 = [&] {
    uint64_t x = 0;
    f.read(reinterpret_cast<char*>(&x), 8);
    return x;
  };
  const auto str = [&] {
    std::string s(u64(), '\0');
    f.read(s.data(), static_cast<std::streamsize>(s.size()));
    return s;
  };
  constexpr size_t kSize[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  if (u32() != 0x46554747) return std::nullopt;  // "GGUF"
  u32();
  u64();
  const uint64_t n_kv = u64();
  GgufVocab v;
  for (uint64_t k = 0; k < n_kv && f; ++k) {
    const std::string key = str();
    const uint32_t type = u32();
    const auto scalar = [&](uint32_t t) -> int64_t {
      int64_t x = 0;
      f.read(reinterpret_cast<char*>(&x), static_cast<std::streamsize>(kSize[t]));
      return x;
    };
    if (type == 8) {
      const std::string s = str();
      if (key == "tokenizer.ggml.model") v.model = s;
      if (key == "tokenizer.ggml.pre") v.pre = s;
    } else if (type == 9) {
      const uint32_t et = u32();
      const uint64_t n = u64();
      for (uint64_t i = 0; i < n; ++i) {
        if (et == 8) {
          std::string s = str();
          if (key == "tokenizer.ggml.tokens") v.tokens.push_back(std::move(s));
          if (key == "tokenizer.ggml.merges") v.merges.push_back(std::move(s));
        } else {
          const int64_t x = scalar(et);
          if (key == "tokenizer.ggml.scores") {
            float fl = 0;
            std::memcpy(&fl, &x, 4);
            v.scores.push_back(fl);
          }
          if (key == "tokenizer.ggml.token_type") v.token_types.push_back(static_cast<int32_t>(x));
        }
      }
    } else {
      const int64_t x = scalar(type);
      if (key == "tokenizer.ggml.bos_token_id") v.bos_id = static_cast<int32_t>(x);
      if (key == "tokenizer.ggml.eos_token_id") v.eos_id = static_cast<int32_t>(x);
      if (key == "tokenizer.ggml.unknown_token_id") v.unk_id = static_cast<int32_t>(x);
      if (key == "tokenizer.ggml.add_bos_token") v.add_bos = (x & 0xff) != 0;
      if (key == "tokenizer.ggml.add_eos_token") v.add_eos = (x & 0xff) != 0;
      if (key == "tokenizer.ggml.add_space_prefix") v.add_space_prefix = (x & 0xff) != 0;
    }
  }
  if (!f) return std::nullopt;
  return v;
}

// The real Gemma 3 GGUF (no merges: derived from its scores) against the HF goldens.
TEST(GgufVocab, RealGemma3GgufEncodesLikeHf) {
  const std::string path = std::string(WICK_SOURCE_DIR) + "/models/gemma-3-270m-q4_k_m.gguf";
  const auto v = read_gguf_vocab(path);
  if (!v) GTEST_SKIP() << path << " not present";
  ASSERT_EQ(v->model, "llama");
  ASSERT_TRUE(v->merges.empty());
  const Tokenizer tok = tokenizer_from_gguf_vocab(*v);
  const auto golden =
      nlohmann::json::parse(*testing::read_file(testing::test_data_dir() + "/golden_gemma3.json"));
  int same = 0, total = 0;
  for (const auto& k : golden["cases"]) {
    const std::string text = k["text"];
    ++total;
    const auto got = tok.encode(text, true);
    const bool ok = got == k["ids"].get<std::vector<int32_t>>();
    same += ok;
    if (!ok)
      std::printf("differs: %s: %s, HF %s\n", nlohmann::json(text).dump().c_str(),
                  nlohmann::json(got).dump().c_str(), k["ids"].dump().c_str());
  }
  std::printf("real gemma3 GGUF: %d of %d golden texts encode like HF\n", same, total);
  EXPECT_EQ(same, total);
}

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
