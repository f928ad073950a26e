// Token masks over a real vocabulary (Qwen3, 151k tokens): token bytes round-trip the
// tokenizer's own encoding, and at every step of a JSON document the trie-walk mask equals a
// brute-force check of every token's bytes, contains the token the tokenizer actually chose,
// and allows EOS exactly where the document may end.
#include <gtest/gtest.h>

#include "../tokenizer/tokenizer_files.h"
#include "constrain/automaton.h"
#include "constrain/constraint.h"

namespace wick::constrain {
namespace {

const tok::Tokenizer* qwen3() {
  static std::unique_ptr<tok::Tokenizer> t = [] {
    std::unique_ptr<tok::Tokenizer> out;
    if (auto json = tok::testing::tokenizer_json("qwen3"))
      out = std::make_unique<tok::Tokenizer>(tok::Tokenizer::from_json(*json));
    return out;
  }();
  return t.get();
}

bool bit(const std::vector<uint64_t>& bits, int32_t id) {
  return (bits[id / 64] >> (id % 64)) & 1;
}

TEST(TokenMask, Qwen3BytesRoundTrip) {
  const tok::Tokenizer* t = qwen3();
  if (!t)
    GTEST_SKIP() << "qwen3 tokenizer not found under " << tok::testing::shared_tokenizer_dir();
  const int32_t eos = *t->token_to_id("<|im_end|>");
  const TokenVocab v = vocab_from_tokenizer(*t, std::vector<int32_t>{eos});
  EXPECT_FALSE(v.usable[static_cast<size_t>(eos)]);
  EXPECT_FALSE(v.usable[static_cast<size_t>(*t->token_to_id("<|im_start|>"))]);
  const std::string text =
      "{\"caf\xC3\xA9\": [1, 2.5e3], \"emoji\": \"\xF0\x9F\x98\x80 \xE4\xB8\xAD\xE6\x96\x87\"}\n";
  std::string joined;
  for (int32_t id : t->encode(text, false)) {
    ASSERT_TRUE(v.usable[static_cast<size_t>(id)]) << id;
    joined += v.bytes[static_cast<size_t>(id)];
  }
  EXPECT_EQ(joined, text);
}

// Walks `doc` token by token under `spec`; at every `every`-th step (and the last) the mask must
// equal a brute-force check of every token's bytes against a separate automaton.
void check_walk_against_brute_force(const Spec& spec, const std::string& doc, size_t every) {
  const tok::Tokenizer* t = qwen3();
  ASSERT_NE(t, nullptr);
  const int32_t eos = *t->token_to_id("<|im_end|>");
  const auto c = compile(spec, *t, std::vector<int32_t>{eos});
  const std::vector<int32_t> ids = t->encode(doc, false);
  Matcher m(c);
  Automaton reference(c->grammar());
  int32_t ref_state = reference.initial();
  std::vector<uint64_t> bits(c->mask_words());
  const TokenVocab& v = c->vocab();
  for (size_t step = 0; step <= ids.size(); ++step) {
    m.allowed_tokens(bits);
    if (step % every == 0 || step == ids.size()) {  // brute force: every token's bytes from here
      for (int32_t id = 0; id < v.size(); ++id) {
        bool ok = false;
        if (v.usable[static_cast<size_t>(id)]) {
          int32_t s = ref_state;
          for (char ch : v.bytes[static_cast<size_t>(id)]) {
            s = reference.step(s, static_cast<uint8_t>(ch));
            if (s == Automaton::kDead) break;
          }
          ok = s != Automaton::kDead;
        } else if (id == eos) {
          ok = reference.accepting(ref_state);
        }
        ASSERT_EQ(bit(bits, id), ok) << "step " << step << " token " << id;
      }
    }
    if (step == ids.size()) break;
    const int32_t id = ids[step];
    ASSERT_TRUE(bit(bits, id)) << "step " << step;
    EXPECT_FALSE(bit(bits, eos));
    ASSERT_TRUE(m.accept_token(id));
    for (char ch : v.bytes[static_cast<size_t>(id)])
      ref_state = reference.step(ref_state, static_cast<uint8_t>(ch));
  }
  EXPECT_TRUE(bit(bits, eos));
  EXPECT_TRUE(m.is_accepting());
  EXPECT_FALSE(m.accept_token(*t->token_to_id("<|im_start|>")));
  EXPECT_TRUE(m.accept_token(eos));
  EXPECT_TRUE(m.is_finished());
}

TEST(TokenMask, Qwen3MaskMatchesBruteForceOnAJsonWalk) {
  if (!qwen3())
    GTEST_SKIP() << "qwen3 tokenizer not found under " << tok::testing::shared_tokenizer_dir();
  check_walk_against_brute_force(
      {SpecKind::kJsonSchema,
       R"({"type":"object","properties":{
      "name":{"type":"string","maxLength":20},"age":{"type":"integer","minimum":0,"maximum":150},
      "tags":{"type":"array","items":{"enum":["a","b c"]}}},"required":["name","age"]})",
       {}},
      "{\"name\": \"J\xC3\xB6rg \\\"J\\\"\", \"age\": 42, \"tags\": [\"b c\", \"a\"]}", 2);
}

// Counted repetitions (maxLength, minLength, {m,n} inside formats and patterns), nested objects
// and arrays: the states whose first masks are the most expensive.
TEST(TokenMask, Qwen3MaskMatchesBruteForceOnCountedRepetitions) {
  if (!qwen3())
    GTEST_SKIP() << "qwen3 tokenizer not found under " << tok::testing::shared_tokenizer_dir();
  check_walk_against_brute_force(
      {SpecKind::kJsonSchema,
       R"({"type":"object","properties":{
      "title":{"type":"string","minLength":3,"maxLength":40},
      "day":{"type":"string","format":"date"},
      "sku":{"type":"string","pattern":"^[A-Z]{2}-[0-9]{3,5}$"},
      "items":{"type":"array","maxItems":4,"items":{"type":"object","properties":{
        "n":{"type":"integer","minimum":-5,"maximum":5000},"x":{"type":"number"}},
        "required":["n"]}}},"required":["title","day","sku","items"]})",
       {}},
      "{\"title\": \"A long-ish title \xC3\xA9 with  spaces\", \"day\": \"2024-02-28\", "
      "\"sku\": \"AB-1234\", \"items\": [{\"n\": -3, \"x\": 1.25e-3}, {\"n\": 4999}]}",
      1);
}

TEST(TokenMask, Qwen3MaskMatchesBruteForceOnJsonObjectGrammar) {
  if (!qwen3())
    GTEST_SKIP() << "qwen3 tokenizer not found under " << tok::testing::shared_tokenizer_dir();
  check_walk_against_brute_force(
      {SpecKind::kJsonObject, {}, {}},
      "{\"a\": {\"b\": [1, {\"c\": \"d\\n\\u00e9\"}, [], true]}, \"e\": null}", 1);
}

}  // namespace
}  // namespace wick::constrain
