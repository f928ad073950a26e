// Sampler stages and the Generator on a golden tiny model: greedy equals transformers' greedy,
// EOS and max-token stops, prefix reuse across calls, seeded sampling is reproducible, and
// sampled frequencies follow the probabilities.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "generate/generator.h"
#include "models/registry.h"

namespace wick::gen {
namespace {

TEST(Sampler, GreedyIsArgmaxAfterPenalty) {
  SamplingParams p;
  p.temperature = 0;
  Sampler s(p);
  std::vector<float> logits = {0.1f, 3.0f, 2.9f, -1.0f};
  EXPECT_EQ(s.sample(logits, {}), 1);
  p.repeat_penalty = 2.0f;  // 3.0 / 2 = 1.5 < 2.9
  Sampler penalised(p);
  std::vector<int32_t> history = {1};
  EXPECT_EQ(penalised.sample(logits, history), 2);
}

TEST(Sampler, RepetitionPenaltyMultipliesNegativeLogits) {
  Candidates c = Candidates::from_logits(std::vector<float>{2.0f, -2.0f, 1.0f});
  std::vector<int32_t> history = {0, 1};
  sampler_repetition_penalty(c, history, 2.0f);
  EXPECT_FLOAT_EQ(c.values[0], 1.0f);
  EXPECT_FLOAT_EQ(c.values[1], -4.0f);
  EXPECT_FLOAT_EQ(c.values[2], 1.0f);
}

TEST(Sampler, TopKTopPMinP) {
  Candidates c = Candidates::from_logits(
      std::vector<float>{std::log(0.1f), std::log(0.5f), std::log(0.3f), std::log(0.1f)});
  sampler_top_k(c, 3);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c.ids[0], 1);
  EXPECT_EQ(c.ids[1], 2);
  sampler_softmax(c);  // renormalised over 0.5, 0.3, 0.1
  EXPECT_NEAR(c.values[0], 0.5 / 0.9, 1e-6);
  Candidates p = c;
  sampler_top_p(p, 0.8f);  // 0.556 + 0.333 >= 0.8
  EXPECT_EQ(p.size(), 2u);
  Candidates m = c;
  sampler_min_p(m, 0.5f);  // keeps >= 0.5 * 0.556
  EXPECT_EQ(m.size(), 2u);
  sampler_min_p(m, 0.9f);
  EXPECT_EQ(m.size(), 1u);
}

TEST(Sampler, SeededDrawsAreReproducibleAndFollowProbabilities) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 42;
  std::vector<float> logits = {std::log(0.25f), std::log(0.75f)};
  Sampler a(p), b(p);
  int ones = 0;
  constexpr int kDraws = 20000;
  for (int i = 0; i < kDraws; ++i) {
    const int32_t x = a.sample(logits, {});
    EXPECT_EQ(x, b.sample(logits, {}));
    ones += x == 1;
  }
  EXPECT_NEAR(static_cast<double>(ones) / kDraws, 0.75, 0.015);
  p.seed = 43;
  Sampler c(p), d(SamplingParams{p.temperature, p.top_k, p.top_p, p.min_p, 1.0f, 64, 42});
  int same = 0;
  for (int i = 0; i < 64; ++i) same += c.sample(logits, {}) == d.sample(logits, {});
  EXPECT_LT(same, 64);
}

class GeneratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = std::string(WICK_SOURCE_DIR) + "/tests/data/models/llama";
    if (!std::filesystem::exists(dir + "/expected.json"))
      GTEST_SKIP() << "golden data absent: " << dir;
    model_ = models::load_model(dir);
    std::ifstream in(dir + "/expected.json");
    const nlohmann::json j = nlohmann::json::parse(in);
    prompt_ = j["prompts"][2]["ids"].get<std::vector<int32_t>>();
    greedy_ = j["prompts"][2]["greedy"].get<std::vector<int32_t>>();
  }
  GenerateOptions greedy_options(int max_tokens) const {
    GenerateOptions o;
    o.max_tokens = max_tokens;
    o.sampling.temperature = 0;
    return o;
  }
  models::LoadedModel model_;
  std::vector<int32_t> prompt_, greedy_;
};

TEST_F(GeneratorTest, GreedyMatchesTransformers) {
  Generator g(*model_.model, nullptr);
  int calls = 0;
  GenerateResult r = g.generate(prompt_, greedy_options(24), [&](int32_t, std::string_view) {
    ++calls;
    return true;
  });
  EXPECT_EQ(r.ids, greedy_);
  EXPECT_EQ(calls, 24);
  EXPECT_EQ(r.reason, StopReason::kMaxTokens);
  EXPECT_EQ(r.stats.prompt_tokens, static_cast<int64_t>(prompt_.size()));
}

TEST_F(GeneratorTest, StopsAtEosAndOnCallback) {
  Generator g(*model_.model, nullptr);
  GenerateOptions o = greedy_options(24);
  o.eos_ids = {greedy_[5]};
  GenerateResult r = g.generate(prompt_, o);
  EXPECT_EQ(r.reason, StopReason::kEos);
  EXPECT_EQ(r.ids, std::vector<int32_t>(greedy_.begin(), greedy_.begin() + 5));
  r = g.generate(prompt_, greedy_options(24), [](int32_t, std::string_view) { return false; });
  EXPECT_EQ(r.reason, StopReason::kCallback);
  EXPECT_EQ(r.ids.size(), 1u);
}

TEST_F(GeneratorTest, ReusesTheCachedPrefix) {
  Generator g(*model_.model, nullptr);
  g.generate(prompt_, greedy_options(10));
  // The prompt plus what was generated: only the tokens not yet cached are prefilled.
  std::vector<int32_t> longer = prompt_;
  longer.insert(longer.end(), greedy_.begin(), greedy_.begin() + 10);
  GenerateResult r = g.generate(longer, greedy_options(14));
  EXPECT_EQ(r.stats.prefilled_tokens, 1);
  EXPECT_EQ(r.ids, std::vector<int32_t>(greedy_.begin() + 10, greedy_.end()));
  // A different prompt drops the cache back to the common prefix.
  r = g.generate(std::span<const int32_t>(prompt_).first(4), greedy_options(3));
  EXPECT_EQ(r.stats.prefilled_tokens, 1);
}

}  // namespace
}  // namespace wick::gen
