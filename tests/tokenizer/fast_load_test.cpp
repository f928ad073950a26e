// The fast loading paths against the plain ones they replace: the Vocab hash table against a
// std::map model, tokenizer.json through the table scanner (Tokenizer::from_json) against the
// nlohmann DOM (from_json_value of a parsed document), and SentencePiece merges ranked lazily
// from scores against the explicit merge list HF's converter would write (derived here the
// slow way: every split of every token, sorted).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <random>

#include "core/error.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/json_tables.h"
#include "tokenizer/vocab.h"
#include "tokenizer_files.h"

namespace wick::tok {
namespace {

TEST(Vocab, MatchesAMapModelUnderGrowthDuplicatesAndGaps) {
  Vocab vocab;
  std::map<std::string, int32_t> to_id;
  std::map<int32_t, std::string> to_token;
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string token(1 + rng() % 12, '\0');
    for (char& c : token) c = static_cast<char>('a' + rng() % 4);  // many duplicates
    const auto id = static_cast<int32_t>(rng() % 30000);           // gaps and reused ids
    vocab.add(token, id, "test");
    to_id[token] = id;
    to_token[id] = token;
  }
  EXPECT_EQ(vocab.size(), to_id.size());
  EXPECT_EQ(vocab.id_limit(), to_token.rbegin()->first + 1);
  std::vector<std::string_view> keys;
  for (const auto& [token, id] : to_id) {
    ASSERT_EQ(vocab.find(token), id) << token;
    keys.push_back(token);
  }
  keys.push_back("zz");
  keys.push_back("");
  std::vector<int32_t> ids(keys.size());
  vocab.find_many(keys, ids);
  for (size_t k = 0; k < keys.size(); ++k)
    EXPECT_EQ(ids[k], vocab.find(keys[k]).value_or(-1)) << keys[k];
  EXPECT_EQ(ids[ids.size() - 2], -1);
  for (int32_t id = 0; id < vocab.id_limit(); ++id) {
    const auto it = to_token.find(id);
    if (it == to_token.end())
      EXPECT_FALSE(vocab.token(id).has_value()) << id;
    else
      EXPECT_EQ(vocab.token(id), it->second) << id;
  }
  EXPECT_FALSE(vocab.token(-1).has_value());
  EXPECT_THROW(vocab.add("x", -1, "test"), Error);
  EXPECT_THROW(vocab.add("x", static_cast<int32_t>(kMaxTokenId + 1), "test"), Error);
}

TEST(Vocab, AddManyEqualsAddInOrder) {
  const std::vector<std::pair<std::string_view, int32_t>> tokens = {
      {"a", 0}, {"b", 1}, {"a", 2}, {"", 3}, {"\xE2\x96\x81", 5}, {"b", 1}};
  Vocab one, many;
  for (const auto& [t, id] : tokens) one.add(t, id, "test");
  many.add_many(tokens, "test");
  ASSERT_EQ(one.size(), many.size());
  ASSERT_EQ(one.id_limit(), many.id_limit());
  for (int32_t id = 0; id < one.id_limit(); ++id) EXPECT_EQ(one.token(id), many.token(id));
  for (const auto& [t, id] : tokens) EXPECT_EQ(one.find(t), many.find(t));
  EXPECT_EQ(many.find("a"), 2);
  EXPECT_EQ(many.token(0), "a");  // the first string keeps its id -> token entry
}

// Both loaders give the same tokenizer: same tokens for every id, same ids for `texts`.
void expect_same(const Tokenizer& fast, const Tokenizer& dom,
                 const std::vector<std::string>& texts) {
  ASSERT_EQ(fast.id_limit(), dom.id_limit());
  ASSERT_EQ(fast.vocab_size(), dom.vocab_size());
  for (int32_t id = 0; id < dom.id_limit(); ++id)
    ASSERT_EQ(fast.id_to_token(id), dom.id_to_token(id)) << id;
  for (const std::string& text : texts) {
    EXPECT_EQ(fast.encode(text, false), dom.encode(text, false)) << text;
    EXPECT_EQ(fast.encode(text, true), dom.encode(text, true)) << text;
  }
}

Tokenizer dom_load(std::string_view json) {
  return Tokenizer::from_json_value(nlohmann::json::parse(json), "dom.json");
}

class SharedTokenizer : public ::testing::TestWithParam<const char*> {};

TEST_P(SharedTokenizer, ScannerLoadsWhatTheDomLoads) {
  const auto json = testing::tokenizer_json(GetParam());
  if (!json) GTEST_SKIP() << GetParam() << " not found under " << testing::shared_tokenizer_dir();
  const auto spliced = splice_model_tables(*json);
  ASSERT_TRUE(spliced.has_value()) << "the scanner gave up on a real file";
  ASSERT_TRUE(spliced->tables.vocab.has_value());
  ASSERT_TRUE(spliced->tables.merges.has_value());
  EXPECT_LT(spliced->rest.size(), json->size() / 4);  // the big tables were cut out
  const auto golden = nlohmann::json::parse(*testing::read_file(
      testing::test_data_dir() + "/golden_" + std::string(GetParam()) + ".json"));
  std::vector<std::string> texts;
  for (const auto& c : golden["cases"]) texts.push_back(c["text"]);
  expect_same(Tokenizer::from_json(*json, GetParam()), dom_load(*json), texts);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, SharedTokenizer,
                         ::testing::Values("llama2", "llama3", "qwen3", "gemma3", "deepseek_v3",
                                           "gptoss", "gpt2"));

// Small documents that stress the scanner: escapes, both merge spellings, a BOM, key order.
TEST(ScannerLoad, EdgeCasesLoadLikeTheDom) {
  const std::string vocab =
      R"({"a": 0, "b": 1, "ab": 2, "\u00e9": 3, "a\u00e9": 4, "\n": 5, "\"q\\": 6,)"
      R"( "\ud83d\ude00": 7, "x\/y": 8, "\t\r\b\f": 9, "\u0000": 10, "é\n": 11, "c": 12})";
  const std::vector<std::string> texts = {"ab", "aé",  "é\n", "\"q\\",
                                          "😀",  "x/y", "ca",  std::string("\0", 1)};
  const std::vector<std::string> docs = {
      R"({"model": {"type": "BPE", "vocab": )" + vocab + R"(, "merges": ["a b", "a \u00e9"]}})",
      R"({"model": {"merges": [["a", "b"], ["a", "é"], ["é", "\n"]], "vocab": )" + vocab +
          R"(, "type": "BPE"}, "decoder": null})",
      "\xEF\xBB\xBF"
      R"( { "normalizer" : {"type": "Lowercase"}, "model" :{"vocab":)" +
          vocab + R"(,"merges":[ ],"type":"BPE","x":[{"vocab":{}}, "]}"]}} )",
      R"({"added_tokens": [{"id": 12, "content": "c", "special": true}], "model": {"type":
          "BPE", "vocab": {}, "merges": []}, "model2": {"vocab": 1}})",
  };
  for (const std::string& doc : docs) {
    SCOPED_TRACE(doc);
    ASSERT_TRUE(splice_model_tables(doc).has_value());
    expect_same(Tokenizer::from_json(doc, "fast.json"), dom_load(doc), texts);
  }
}

// Shapes the scanner leaves to the DOM: still loaded, and loaded the same.
TEST(ScannerLoad, GivesUpOnWhatItDoesNotHandle) {
  const std::string vocab = R"({"a": 0, "b": 1, "ab": 2})";
  const std::vector<std::string> docs = {
      R"({"mod\u0065l": {"type": "BPE", "vocab": )" + vocab + R"(, "merges": ["a b"]}})",
      R"({"model": {"type": "BPE", "vocab": {"a": 5}, "vocab": )" + vocab +
          R"(, "merges": ["a b"]}})",
      R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2.0}, "merges": []}})",
      R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": -0, "ab": 2}, "merges": []}})",
      R"({"model": {"type": "BPE", "vocab": )" + vocab + R"(, "merges": [["a", "b", "c"]]}})",
      R"({"model": {"type": "Unigram", "vocab": [["a", -1.0], ["b", -2.0]], "unk_id": 0}})",
  };
  for (const std::string& doc : docs) {
    SCOPED_TRACE(doc);
    bool dom_ok = true, fast_ok = true;
    std::string dom_error, fast_error;
    std::optional<Tokenizer> dom, fast;
    try {
      dom.emplace(dom_load(doc));
    } catch (const Error& e) {
      dom_ok = false;
      dom_error = e.what();
    }
    try {
      fast.emplace(Tokenizer::from_json(doc, "dom.json"));
    } catch (const Error& e) {
      fast_ok = false;
      fast_error = e.what();
    }
    ASSERT_EQ(fast_ok, dom_ok) << fast_error << " / " << dom_error;
    if (dom_ok) {
      expect_same(*fast, *dom, {"ab", "ba", "aab"});
    } else {
      EXPECT_EQ(fast_error, dom_error);
    }
  }
}

TEST(ScannerLoad, BadFilesStillGetTheDomError) {
  for (const std::string& doc : {std::string(R"({"model": {"vocab": {"a": 0}, "merges": [)"),
                                 std::string(R"({"model": {"vocab": {"a": 0}}, "x": tru})"),
                                 std::string("{\"model\": {\"vocab\": {\"\xFF\": 0}}}")}) {
    try {
      Tokenizer::from_json(doc, "bad.json");
      ADD_FAILURE() << "no error for " << doc;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kParse);
      EXPECT_NE(std::string(e.what()).find("bad.json: not valid JSON"), std::string::npos)
          << e.what();
    }
  }
  // A merge naming a token the vocab lacks: the model's error, from the fast path too.
  try {
    Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a zz"]}})",
                         "m.json");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.merges[0]: 'zz' is not in the vocab"),
              std::string::npos)
        << e.what();
  }
}

// HF's SentencePiece converter, written out: every split of a token into two tokens at a code
// point boundary is a merge, ordered by the merged token's score (higher first), then longer
// left, longer right piece, then merged, left and right id.
std::vector<std::string> merges_by_sorting(const std::vector<std::string>& tokens,
                                           const std::vector<float>& scores) {
  std::map<std::string_view, int32_t> ids;
  for (size_t i = 0; i < tokens.size(); ++i) ids.emplace(tokens[i], static_cast<int32_t>(i));
  struct Merge {
    float score;
    size_t left_len, right_len;
    int32_t merged, left, right;
  };
  std::vector<Merge> merges;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string_view t = tokens[i];
    for (size_t cut = 1; cut < t.size(); ++cut) {
      if ((static_cast<uint8_t>(t[cut]) & 0xC0) == 0x80) continue;
      const auto l = ids.find(t.substr(0, cut)), r = ids.find(t.substr(cut));
      if (l == ids.end() || r == ids.end()) continue;
      merges.push_back(
          {scores[i], cut, t.size() - cut, static_cast<int32_t>(i), l->second, r->second});
    }
  }
  std::sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    // Descending fields compare b to a, ascending ones a to b.
    return std::tie(b.score, b.left_len, b.right_len, a.merged, a.left, a.right) <
           std::tie(a.score, a.left_len, a.right_len, b.merged, b.left, b.right);
  });
  std::vector<std::string> out;
  for (const Merge& m : merges) out.push_back(tokens[m.left] + " " + tokens[m.right]);
  return out;
}

TEST(ScoreMerges, RankLikeTheSortedMergeList) {
  const auto json = testing::tokenizer_json("llama2");
  if (!json) GTEST_SKIP() << "llama2 not found under " << testing::shared_tokenizer_dir();
  const auto j = nlohmann::json::parse(*json);
  GgufVocab v;
  v.model = "llama";
  for (const auto& [token, id] : j["model"]["vocab"].items()) {
    if (v.tokens.size() <= id.get<size_t>()) v.tokens.resize(id.get<size_t>() + 1);
    v.tokens[id.get<size_t>()] = token;
  }
  v.token_types.assign(v.tokens.size(), static_cast<int32_t>(GgufTokenType::kNormal));
  v.token_types[0] = static_cast<int32_t>(GgufTokenType::kUnknown);
  v.unk_id = 0;
  // Scores with ties (every 7th token shares its neighbour's), so the tie-breaks matter.
  v.scores.resize(v.tokens.size());
  for (size_t i = 0; i < v.tokens.size(); ++i) v.scores[i] = -static_cast<float>(i - i % 7);
  const Tokenizer lazy = tokenizer_from_gguf_vocab(v);
  v.merges = merges_by_sorting(v.tokens, v.scores);
  ASSERT_GT(v.merges.size(), 30000u);
  const Tokenizer listed = tokenizer_from_gguf_vocab(v);
  const auto golden =
      nlohmann::json::parse(*testing::read_file(testing::test_data_dir() + "/golden_llama2.json"));
  int compared = 0;
  for (const auto& c : golden["cases"]) {
    const std::string text = c["text"];
    ASSERT_EQ(lazy.encode(text, false), listed.encode(text, false)) << text;
    ++compared;
  }
  EXPECT_GT(compared, 100);
}

}  // namespace
}  // namespace wick::tok
