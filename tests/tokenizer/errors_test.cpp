// Bad tokenizer files and bad input give a wick::Error of the right kind whose message names
// the problem; nothing crashes. Truncated real files are covered too.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_files.h"

namespace wick::tok {
namespace {

// A minimal valid byte-level BPE tokenizer to mutate.
nlohmann::json tiny() {
  return nlohmann::json::parse(R"({
    "added_tokens": [{"id": 4, "content": "<s>", "special": true}],
    "normalizer": null,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
    "post_processor": null,
    "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3}, "merges": ["a b"]}
  })");
}

// Runs `f`, expects a wick::Error of `kind` whose message contains `needle`.
template <class F>
void expect_error(F&& f, ErrorKind kind, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

Tokenizer load(const nlohmann::json& j) {
  return Tokenizer::from_json(j.dump(), "test.json");
}

TEST(TokenizerErrors, TinyTokenizerWorks) {
  const Tokenizer t = load(tiny());
  EXPECT_EQ(t.encode("ab<s>a b"), (std::vector<int32_t>{2, 4, 0, 3, 1}));
  EXPECT_EQ(t.decode(std::vector<int32_t>{2, 4, 0, 3, 1}), "ab<s>a b");
  EXPECT_EQ(t.decode(std::vector<int32_t>{2, 4, 99, -1}, true), "ab");  // unknown ids skipped
  EXPECT_EQ(t.token_to_id("<s>"), 4);
  EXPECT_EQ(t.id_to_token(2), "ab");
  EXPECT_FALSE(t.id_to_token(77).has_value());
  EXPECT_TRUE(t.is_special(4));
  EXPECT_EQ(t.id_limit(), 5);
}

TEST(TokenizerErrors, NotJson) {
  expect_error([] { Tokenizer::from_json("{\"model\": ", "cut.json"); }, ErrorKind::kParse,
               "cut.json: not valid JSON");
}

TEST(TokenizerErrors, MissingModel) {
  auto j = tiny();
  j.erase("model");
  expect_error([&] { load(j); }, ErrorKind::kParse, "no field 'model'");
}

TEST(TokenizerErrors, MergeWithUnknownToken) {
  auto j = tiny();
  j["model"]["merges"] = {"a zz"};
  expect_error([&] { load(j); }, ErrorKind::kParse, "merges[0]: 'zz' is not in the vocab");
}

TEST(TokenizerErrors, MalformedMerge) {
  auto j = tiny();
  j["model"]["merges"] = {"abc"};
  expect_error([&] { load(j); }, ErrorKind::kParse, "merges[0]");
  j["model"]["merges"] = {42};
  expect_error([&] { load(j); }, ErrorKind::kParse, "merges[0]");
}

TEST(TokenizerErrors, IdOutOfRange) {
  auto j = tiny();
  j["model"]["vocab"]["c"] = 1 << 30;
  expect_error([&] { load(j); }, ErrorKind::kParse, "out of range");
  j = tiny();
  j["added_tokens"][0]["id"] = -3;
  expect_error([&] { load(j); }, ErrorKind::kParse, "added_tokens[0].id");
}

TEST(TokenizerErrors, WrongFieldType) {
  auto j = tiny();
  j["model"]["vocab"]["a"] = "zero";
  expect_error([&] { load(j); }, ErrorKind::kParse, "model.vocab['a']");
  j = tiny();
  j["added_tokens"][0]["content"] = 5;
  expect_error([&] { load(j); }, ErrorKind::kParse, "added_tokens[0].content");
}

TEST(TokenizerErrors, UnsupportedComponents) {
  auto j = tiny();
  j["normalizer"] = {{"type", "Precompiled"}, {"precompiled_charsmap", "AAAA"}};
  expect_error([&] { load(j); }, ErrorKind::kUnsupported, "normalizer type 'Precompiled'");
  j = tiny();
  j["model"]["type"] = "WordLevel";
  expect_error([&] { load(j); }, ErrorKind::kUnsupported, "model type 'WordLevel'");
  j = tiny();
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Nope"}}}}};
  expect_error([&] { load(j); }, ErrorKind::kUnsupported, "pre_tokenizer.pretokenizers[0]");
}

TEST(TokenizerErrors, BadRegex) {
  auto j = tiny();
  j["pre_tokenizer"] = {
      {"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  expect_error([&] { load(j); }, ErrorKind::kParse, "regex '(unclosed' does not compile");
}

TEST(TokenizerErrors, InvalidUtf8Input) {
  const Tokenizer t = load(tiny());
  expect_error(
      [&] {
        t.encode(
            "ab\xFF"
            "a");
      },
      ErrorKind::kInvalidArgument, "not valid UTF-8 at byte 2");
}

TEST(TokenizerErrors, MissingFile) {
  EXPECT_THROW(Tokenizer::from_file("/nonexistent/tokenizer.json"), Error);
}

TEST(TokenizerErrors, UnigramWithoutUnkOnUnknownText) {
  const auto j = nlohmann::json::parse(
      R"({"model": {"type": "Unigram", "unk_id": null, "vocab": [["a", -1.0], ["b", -2.0]]}})");
  const Tokenizer t = load(j);
  EXPECT_EQ(t.encode("ab"), (std::vector<int32_t>{0, 1}));
  expect_error([&] { t.encode("ac"); }, ErrorKind::kInvalidArgument, "no unk_id");
}

// Every prefix length of a real tokenizer.json either loads or fails with kParse.
TEST(TokenizerErrors, TruncatedRealFileNeverCrashes) {
  const auto json = testing::tokenizer_json("qwen3");
  if (!json) GTEST_SKIP() << "qwen3 tokenizer not found under " << testing::shared_tokenizer_dir();
  for (const size_t len : {size_t{0}, size_t{1}, size_t{100}, json->size() / 3, json->size() - 2}) {
    EXPECT_THROW(Tokenizer::from_json(std::string_view(*json).substr(0, len)), Error) << len;
  }
}

}  // namespace
}  // namespace wick::tok
