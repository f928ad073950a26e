// Every tokenizer against golden data from HF `tokenizers` 0.23.3 (scripts/tokenizer_golden.py):
// ids with and without special tokens, decode with and without skipping special tokens, and
// streaming decode, over curated edge cases and seeded random strings.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "tokenizer_files.h"

namespace wick::tok {
namespace {

using testing::read_file;
using testing::test_data_dir;
using testing::tokenizer_json;

std::string show(const std::string& s) {
  return nlohmann::json(s).dump();
}

// Tokenizers are big (gemma3: 33 MB of JSON): load each once for the whole run.
const Tokenizer* load(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    const auto json = tokenizer_json(name);
    std::unique_ptr<Tokenizer> t;
    if (json) t = std::make_unique<Tokenizer>(Tokenizer::from_json(*json, name));
    it = cache.emplace(name, std::move(t)).first;
  }
  return it->second.get();
}

class Golden : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    tok_ = load(GetParam());
    if (tok_ == nullptr)
      GTEST_SKIP() << "tokenizer '" << GetParam() << "' not found under "
                   << testing::shared_tokenizer_dir();
    const auto text = read_file(test_data_dir() + "/golden_" + GetParam() + ".json");
    ASSERT_TRUE(text) << "missing golden file for " << GetParam();
    golden_ = nlohmann::json::parse(*text);
  }
  const Tokenizer* tok_ = nullptr;
  nlohmann::json golden_;
};

TEST_P(Golden, EncodeMatchesReference) {
  int failures = 0;
  for (const auto& c : golden_["cases"]) {
    const std::string text = c["text"];
    const auto ids = tok_->encode(text, true);
    const auto plain = tok_->encode(text, false);
    EXPECT_EQ(ids, c["ids"].get<std::vector<int32_t>>()) << "text " << show(text);
    EXPECT_EQ(plain, c["ids_no_special"].get<std::vector<int32_t>>()) << "text " << show(text);
    failures += ids != c["ids"].get<std::vector<int32_t>>();
    if (failures > 5) break;
  }
}

TEST_P(Golden, DecodeMatchesReference) {
  for (const auto& c : golden_["cases"]) {
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok_->decode(ids, false), c["decode"].get<std::string>())
        << "text " << show(c["text"]);
    EXPECT_EQ(tok_->decode(ids, true), c["decode_skip_special"].get<std::string>())
        << "text " << show(c["text"]);
  }
}

void check_stream(const Tokenizer& tok, const nlohmann::json& golden, bool skip_special) {
  const char* key = skip_special ? "stream_skip_special" : "stream";
  int checked = 0;
  for (const auto& c : golden["cases"]) {
    if (!c.contains(key)) continue;
    StreamDecoder stream(tok, skip_special);
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    for (size_t k = 0; k < ids.size(); ++k) {
      const auto got = stream.step(ids[k]);
      const auto& want = c[key][k];
      if (want.is_null()) {
        EXPECT_FALSE(got.has_value()) << "step " << k << " of " << show(c["text"]);
      } else {
        ASSERT_TRUE(got.has_value()) << "step " << k << " of " << show(c["text"]);
        EXPECT_EQ(*got, want.get<std::string>()) << "step " << k << " of " << show(c["text"]);
      }
    }
    ++checked;
  }
  EXPECT_GT(checked, 10);
}

TEST_P(Golden, StreamDecodeMatchesReference) {
  check_stream(*tok_, golden_, false);
}
TEST_P(Golden, StreamDecodeSkippingSpecialMatchesReference) {
  check_stream(*tok_, golden_, true);
}

// Encoding is const and keeps no state: threads sharing one tokenizer get the same ids.
TEST_P(Golden, ConcurrentEncodeMatchesSequential) {
  std::vector<std::string> texts;
  for (const auto& c : golden_["cases"]) texts.push_back(c["text"]);
  std::vector<std::vector<int32_t>> want;
  for (const auto& t : texts) want.push_back(tok_->encode(t));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t k = t; k < texts.size() * 2; k += 3)
        if (tok_->encode(texts[k % texts.size()]) != want[k % texts.size()]) ++mismatches;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_P(Golden, VocabSizeMatchesReference) {
  EXPECT_EQ(tok_->vocab_size(), golden_["vocab_size"].get<size_t>());
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, Golden,
                         ::testing::Values("llama2", "llama3", "qwen3", "gemma3", "deepseek_v3",
                                           "gptoss", "gpt2", "wordpiece", "unigram",
                                           "unigram_bytes", "bpe_suffix"));

}  // namespace
}  // namespace wick::tok
