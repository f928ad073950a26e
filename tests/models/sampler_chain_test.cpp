// Every sampler stage against its published definition on small hand-computed cases (the
// expected numbers are derived in the comments), the constraint-mask hook, the user-chosen
// chain order, logprobs, and seeded sampling reproducible across runs and thread counts on a
// golden tiny model.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/thread_pool.h"
#include "generate/generator.h"
#include "generate/sampler.h"
#include "generate/sampling_json.h"
#include "models/registry.h"
#include "tokenizer/tokenizer.h"

namespace wick::gen {
namespace {

std::vector<float> logs(std::initializer_list<float> probs) {
  std::vector<float> out;
  for (float p : probs) out.push_back(std::log(p));
  return out;
}

Candidates probs_of(std::initializer_list<float> probs) {
  Candidates c = Candidates::from_logits(logs(probs));
  sampler_softmax(c);
  return c;
}

std::set<int32_t> ids_of(const Candidates& c) {
  return {c.ids.begin(), c.ids.end()};
}

SamplingParams plain(float temperature = 1.0f) {  // every truncation off
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

TEST(SamplerChain, PenaltiesRepetitionThenPresenceFrequency) {
  // llama.cpp / OpenAI: l' = (l > 0 ? l / r : l * r) - count * frequency - (count > 0) * presence
  Candidates c = Candidates::from_logits(std::vector<float>{2.0f, -2.0f, 1.0f, 0.5f});
  const std::vector<int32_t> history = {0, 0, 1, 3};
  sampler_penalties(c, history, 2.0f, 0.5f, 1.0f);
  EXPECT_FLOAT_EQ(c.values[0], 2.0f / 2 - 2 * 0.5f - 1);  // -1
  EXPECT_FLOAT_EQ(c.values[1], -2.0f * 2 - 0.5f - 1);     // -5.5
  EXPECT_FLOAT_EQ(c.values[2], 1.0f);                     // unseen
  EXPECT_FLOAT_EQ(c.values[3], 0.5f / 2 - 0.5f - 1);      // -1.25
}

TEST(SamplerChain, PenaltiesLookOnlyAtTheWindow) {
  // logits {3, 2}, history {1, 0}, repeat penalty 4.
  SamplingParams p = plain(0.0f);
  p.repeat_penalty = 4.0f;
  const std::vector<float> logits = {3.0f, 2.0f};
  const std::vector<int32_t> history = {1, 0};
  p.repeat_last_n = 1;  // window {0}: 3 / 4 = 0.75 < 2 -> id 1
  EXPECT_EQ(Sampler(p).sample(logits, history), 1);
  p.repeat_last_n = 2;  // window {1, 0}: 0.75 > 0.5 -> id 0
  EXPECT_EQ(Sampler(p).sample(logits, history), 0);
  p.repeat_last_n = -1;  // all history: the same
  EXPECT_EQ(Sampler(p).sample(logits, history), 0);
  p.repeat_last_n = 0;  // no window: 3 > 2 -> id 0
  EXPECT_EQ(Sampler(p).sample(logits, history), 0);
  p.repeat_last_n = 1;
  p.repeat_penalty = 1.0f;
  p.presence_penalty = 1.5f;  // window {0}: 3 - 1.5 = 1.5 < 2 -> id 1
  EXPECT_EQ(Sampler(p).sample(logits, history), 1);
}

TEST(SamplerChain, DryPenalisesTheTokenThatExtendsARepeat) {
  // history 1 2 3 1 2 3 1 2: the last token 2 also occurs at 1 and 4, each followed by 3.
  // At 4 the match grows backwards: h[3..4] = 1 2 = h[6..7], h[2] = 3 = h[5], h[1] = 2 = h[4],
  // h[0] = 1 = h[3] -> length 5 (it cannot go before index 0). At 1: length 2.
  // Penalty for token 3: multiplier * base^(5 - allowed_length) = 1 * 2^3 = 8.
  const std::vector<int32_t> history = {1, 2, 3, 1, 2, 3, 1, 2};
  Candidates c = Candidates::from_logits(std::vector<float>{0, 0, 0, 0, 0});
  sampler_dry(c, history, {1.0f, 2.0f, 2}, {});
  EXPECT_FLOAT_EQ(c.values[3], -8.0f);
  EXPECT_FLOAT_EQ(c.values[1], 0.0f);
  EXPECT_FLOAT_EQ(c.values[2], 0.0f);
  // A breaker (token 1) ends every match after one token: 1 < allowed_length, no penalty.
  Candidates b = Candidates::from_logits(std::vector<float>{0, 0, 0, 0, 0});
  sampler_dry(b, history, {1.0f, 2.0f, 2}, [](int32_t id) { return id == 1; });
  EXPECT_FLOAT_EQ(b.values[3], 0.0f);
  // "1 2 3 1 2": one repeat of length 2 -> 1 * 2^0 = 1.
  Candidates s = Candidates::from_logits(std::vector<float>{0, 0, 0, 0, 0});
  sampler_dry(s, std::vector<int32_t>{1, 2, 3, 1, 2}, {1.0f, 2.0f, 2}, {});
  EXPECT_FLOAT_EQ(s.values[3], -1.0f);
}

// The Sampler asks the tokenizer which history tokens are DRY sequence breakers ("x:" contains
// ":"). History a x: b c a x: b: the last b repeats; the match grows back over "x:" and "a" to
// length 3, so c (which would continue it) loses 0.8 * 1.75^(3 - 2) = 1.4 and d wins. With ":"
// as a breaker the match stops at "x:" (length 1 < 2): no penalty, c wins.
TEST(SamplerChain, DryBreakersComeFromTheTokenizer) {
  const tok::Tokenizer tokenizer = tok::Tokenizer::from_json(
      R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "x:": 3, "d": 4},
          "merges": []}})");
  const std::vector<float> logits = {0.9f, 0.0f, 1.0f, 0.0f, 0.95f};
  const std::vector<int32_t> history = {0, 3, 1, 2, 0, 3, 1};
  SamplingParams p = plain(0.0f);
  p.dry_multiplier = 0.8f;
  p.dry_base = 1.75f;
  EXPECT_EQ(Sampler(p, {}, &tokenizer).sample(logits, history), 2);
  p.dry_sequence_breakers = {};
  EXPECT_EQ(Sampler(p, {}, &tokenizer).sample(logits, history), 4);
  p.dry_sequence_breakers = {"\n"};
  EXPECT_EQ(Sampler(p, {}, &tokenizer).sample(logits, history), 4);
  // Text bad words are tokenized: "c" bans token 2.
  p = plain(0.0f);
  p.bad_words = {"c"};
  EXPECT_EQ(Sampler(p, {}, &tokenizer).sample(logits, history), 4);
}

TEST(SamplerChain, TemperatureAndDynamicTemperature) {
  Candidates c = Candidates::from_logits(std::vector<float>{1.0f, 2.0f});
  sampler_temperature(c, 0.5f);
  EXPECT_FLOAT_EQ(c.values[1], 4.0f);
  // Uniform logits: H / log n = 1, so t' = max_t = t + range = 1.5 and 1 / 1.5 = 0.666667.
  Candidates u = Candidates::from_logits(std::vector<float>{1.0f, 1.0f});
  sampler_dynamic_temperature(u, 1.0f, 0.5f, 1.0f);
  EXPECT_FLOAT_EQ(u.values[0], 1.0f / 1.5f);
  // logits {0, 3}: p = {0.047426, 0.952574}, H = 0.190865 nats, H / ln 2 = 0.275360,
  // t' = 0.5 + (1.5 - 0.5) * 0.275360 = 0.775360, 3 / t' = 3.869171.
  Candidates d = Candidates::from_logits(std::vector<float>{0.0f, 3.0f});
  sampler_dynamic_temperature(d, 1.0f, 0.5f, 1.0f);
  EXPECT_NEAR(d.values[1] - d.values[0], 3.869171, 1e-4);
  // exponent 2: t' = 0.5 + 0.275360^2 = 0.575823, 3 / t' = 5.209930.
  Candidates e = Candidates::from_logits(std::vector<float>{0.0f, 3.0f});
  sampler_dynamic_temperature(e, 1.0f, 0.5f, 2.0f);
  EXPECT_NEAR(e.values[1] - e.values[0], 3.0 / (0.5 + 0.27535994 * 0.27535994), 1e-4);
}

TEST(SamplerChain, TopKSelectsWithoutSortingEverything) {
  std::vector<float> logits(1000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>((i * 7919) % 1000);
  Candidates c = Candidates::from_logits(logits);  // value v sits at the id with i*7919%1000=v
  sampler_top_k(c, 3);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c.values, (std::vector<float>{999, 998, 997}));
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(logits[static_cast<size_t>(c.ids[i])], c.values[i]);
  // Ties keep the lower id first.
  Candidates t = Candidates::from_logits(std::vector<float>{1, 5, 5, 2, 5});
  sampler_top_k(t, 2);
  EXPECT_EQ(t.ids, (std::vector<int32_t>{1, 2}));
}

// The partial-selection paths (heap top-k, pre-filtered lazily sorted top-p, vectorised argmax)
// against a plain full sort on a 5000-token vocabulary with ties.
TEST(SamplerChain, LargeVocabularyMatchesFullSortReference) {
  Rng rng(5);
  std::vector<float> logits(5000);
  for (float& l : logits) l = static_cast<float>(static_cast<int>(rng.uniform() * 400)) / 40.0f;
  std::vector<int32_t> order(logits.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  Candidates k = Candidates::from_logits(logits);
  sampler_top_k(k, 50);
  EXPECT_EQ(k.ids, std::vector<int32_t>(order.begin(), order.begin() + 50));
  EXPECT_EQ(sampler_argmax(std::span<const float>(logits)), order[0]);
  EXPECT_EQ(sampler_argmax(Candidates::from_logits(logits)), order[0]);
  const TokenLogprobs lp = token_logprobs(logits, order[0], 50);
  ASSERT_EQ(lp.top.size(), 50u);
  for (size_t i = 0; i < 50; ++i) EXPECT_EQ(lp.top[i].id, order[i]) << i;
  // Reference top-p: softmax, walk the full sort until the mass reaches p.
  double z = 0;
  for (float l : logits) z += std::exp(static_cast<double>(l) - logits[order[0]]);
  for (float p : {0.1f, 0.5f, 0.9f, 0.99f}) {
    size_t n = 0;
    double mass = 0;
    while (n < order.size() && mass < p)
      mass += std::exp(static_cast<double>(logits[order[n++]]) - logits[order[0]]) / z;
    Candidates c = Candidates::from_logits(logits);
    sampler_top_p(c, p);
    EXPECT_EQ(c.ids, std::vector<int32_t>(order.begin(), order.begin() + n)) << "p " << p;
  }
}

TEST(SamplerChain, TopPAndMinPWithMinKeep) {
  Candidates c = probs_of({0.1f, 0.6f, 0.3f});
  sampler_top_p(c, 0.5f);  // 0.6 >= 0.5 alone
  EXPECT_EQ(c.ids, (std::vector<int32_t>{1}));
  Candidates k = probs_of({0.1f, 0.6f, 0.3f});
  sampler_top_p(k, 0.5f, 2);  // min_keep 2
  EXPECT_EQ(k.ids, (std::vector<int32_t>{1, 2}));
  // min-p on logits (no softmax): keep p >= 0.5 * 0.5 = 0.25 -> {0.5, 0.3}.
  Candidates m = Candidates::from_logits(logs({0.2f, 0.5f, 0.3f}));
  sampler_min_p(m, 0.5f);
  EXPECT_EQ(ids_of(m), (std::set<int32_t>{1, 2}));
}

TEST(SamplerChain, TypicalP) {
  // p = {1/2, 1/4, 1/8, 1/8}: H = 1.75 ln 2; -ln p = ln 2 * {1, 2, 3, 3};
  // |-ln p - H| = ln 2 * {0.75, 0.25, 1.25, 1.25}: order 1, 0, 2, 3.
  Candidates c = probs_of({0.5f, 0.25f, 0.125f, 0.125f});
  sampler_typical_p(c, 0.5f);  // mass 0.25 (< 0.5), then 0.75 -> {1, 0}
  EXPECT_EQ(c.ids, (std::vector<int32_t>{1, 0}));
  Candidates d = probs_of({0.5f, 0.25f, 0.125f, 0.125f});
  sampler_typical_p(d, 0.2f);  // 0.25 >= 0.2 -> {1}: the most likely token is not typical
  EXPECT_EQ(d.ids, (std::vector<int32_t>{1}));
}

TEST(SamplerChain, TopNSigma) {
  // logits {0, 1, 2, 3, 10}: mean 3.2, E[x^2] 22.8, sd = sqrt(22.8 - 10.24) = 3.544009.
  const std::vector<float> logits = {0, 1, 2, 3, 10};
  Candidates one = Candidates::from_logits(logits);
  sampler_top_n_sigma(one, 1.0f);  // keep >= 10 - 3.544 = 6.456
  EXPECT_EQ(one.ids, (std::vector<int32_t>{4}));
  Candidates two = Candidates::from_logits(logits);
  sampler_top_n_sigma(two, 2.0f);  // keep >= 10 - 7.088 = 2.912
  EXPECT_EQ(two.ids, (std::vector<int32_t>{3, 4}));
}

TEST(SamplerChain, EpsilonAndEtaCutoffs) {
  Candidates e = probs_of({0.6f, 0.3f, 0.06f, 0.04f});
  sampler_epsilon(e, 0.05f);  // drops 0.04
  EXPECT_EQ(ids_of(e), (std::set<int32_t>{0, 1, 2}));
  Candidates k = probs_of({0.6f, 0.3f, 0.06f, 0.04f});
  sampler_epsilon(k, 0.5f, 2);  // only 0.6 passes, min_keep 2 keeps 0.3 too
  EXPECT_EQ(ids_of(k), (std::set<int32_t>{0, 1}));
  // Eta: H = 0.965247 nats, e^-H = 0.380896.
  // eta 0.5: min(0.5, sqrt(0.5) * 0.380896 = 0.269329) -> keeps 0.6, 0.3.
  Candidates a = probs_of({0.6f, 0.3f, 0.06f, 0.04f});
  sampler_eta(a, 0.5f);
  EXPECT_EQ(ids_of(a), (std::set<int32_t>{0, 1}));
  // eta 0.05: min(0.05, sqrt(0.05) * 0.380896 = 0.085169) = 0.05 -> drops only 0.04.
  Candidates b = probs_of({0.6f, 0.3f, 0.06f, 0.04f});
  sampler_eta(b, 0.05f);
  EXPECT_EQ(ids_of(b), (std::set<int32_t>{0, 1, 2}));
}

TEST(SamplerChain, XtcRemovesTopChoicesButTheLastAboveThreshold) {
  Rng rng(1);
  Candidates c = probs_of({0.4f, 0.3f, 0.2f, 0.1f});
  sampler_xtc(c, 1.0f, 0.25f, 1, rng);  // above 0.25: ids 0, 1 -> drop 0, keep 1
  EXPECT_EQ(ids_of(c), (std::set<int32_t>{1, 2, 3}));
  Candidates one = probs_of({0.4f, 0.3f, 0.2f, 0.1f});
  sampler_xtc(one, 1.0f, 0.35f, 1, rng);  // one above: unchanged
  EXPECT_EQ(one.size(), 4u);
  Candidates off = probs_of({0.4f, 0.3f, 0.2f, 0.1f});
  sampler_xtc(off, 0.0f, 0.25f, 1, rng);
  EXPECT_EQ(off.size(), 4u);
}

TEST(SamplerChain, MirostatV2KeepsSurpriseBelowMuAndUpdatesIt) {
  // p = {1/2, 1/4, 1/8, 1/8}: surprises 1, 2, 3, 3 bits. tau 1 -> mu starts at 2, so only ids
  // 0 and 1 remain, renormalised to {2/3, 1/3} (surprise 0.584963 / 1.584963 bits).
  // mu' = 2 - 0.5 * (surprise - 1): 2.207519 after id 0, 1.707519 after id 1.
  SamplingParams p = plain();
  p.mirostat = 2;
  p.mirostat_tau = 1.0f;
  p.mirostat_eta = 0.5f;
  const std::vector<float> logits = logs({0.5f, 0.25f, 0.125f, 0.125f});
  std::set<int32_t> seen;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    p.seed = seed;
    Sampler s(p);
    const int32_t id = s.sample(logits, {});
    seen.insert(id);
    ASSERT_TRUE(id == 0 || id == 1) << id;
    EXPECT_NEAR(s.mirostat_mu(), id == 0 ? 2.207519 : 1.707519, 1e-5);
  }
  EXPECT_EQ(seen.size(), 2u);
}

TEST(SamplerChain, MirostatV1EstimatesZipfExponent) {
  // p_i ~ 1 / (i + 1)^2 over N = 100 tokens: every b_i = 2 t_i, so s_hat = 2, eps_hat = 1,
  // k = (1 * 2^mu / (1 - 100^-1))^(1/2) with mu = 2 tau = 4: sqrt(16.1616) = 4.02 -> top 4.
  // Renormalised over 4: {0.702439, 0.175610, 0.078049, 0.043902}; mu' = 4 - 0.5 (s - 2) with
  // s = -log2 p: 4.745222, 3.745222, 3.160260, 2.745222.
  SamplingParams p = plain();
  p.mirostat = 1;
  p.mirostat_tau = 2.0f;
  p.mirostat_eta = 0.5f;
  std::vector<float> logits(100);
  for (size_t i = 0; i < logits.size(); ++i)
    logits[i] = -2.0f * std::log(static_cast<float>(i + 1));
  const double expected_mu[] = {4.745222, 3.745222, 3.160260, 2.745222};
  std::set<int32_t> seen;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    p.seed = seed;
    Sampler s(p);
    const int32_t id = s.sample(logits, {});
    ASSERT_LT(id, 4);
    seen.insert(id);
    EXPECT_NEAR(s.mirostat_mu(), expected_mu[id], 1e-4);
  }
  EXPECT_EQ(seen.size(), 4u);
}

TEST(SamplerChain, MaskHookNeverDrawsDisallowedTokens) {
  std::vector<float> logits(70, 0.0f);
  logits[65] = 10.0f;  // beyond the one-word mask: disallowed
  logits[5] = 5.0f;    // not set in the mask
  logits[3] = 1.0f;
  const std::vector<uint64_t> mask = {(1ull << 3) | (1ull << 7) | (1ull << 9)};
  SamplingParams p = plain(0.0f);
  EXPECT_EQ(Sampler(p).sample(logits, {}, mask), 3);
  p = plain(5.0f);  // hot: near uniform over 3, 7, 9
  Sampler s(p);
  std::set<int32_t> seen;
  for (int i = 0; i < 300; ++i) seen.insert(s.sample(logits, {}, mask));
  EXPECT_EQ(seen, (std::set<int32_t>{3, 7, 9}));
  const std::vector<uint64_t> none = {0};
  EXPECT_THROW(Sampler(p).sample(logits, {}, none), Error);
  Candidates c = Candidates::from_logits(logits);
  sampler_apply_mask(c, mask);
  EXPECT_EQ(c.ids, (std::vector<int32_t>{3, 7, 9}));
}

TEST(SamplerChain, HardFilters) {
  const std::vector<float> logits = {0.0f, 4.0f, 3.0f, 2.0f, 1.0f, 5.0f};
  SamplingParams p = plain(0.0f);
  // Bad words: {5} always; {1, 2} bans 2 after a 1 (transformers' NoBadWordsLogitsProcessor).
  p.bad_words_ids = {{5}, {1, 2}, {3, 4, 1}};
  const std::vector<int32_t> after_1 = {7, 1};
  EXPECT_EQ(Sampler(p).sample(logits, after_1), 1);  // 5 banned, 1 best
  const std::vector<int32_t> after_3_4 = {3, 4};
  EXPECT_EQ(Sampler(p).sample(logits, after_3_4), 2);  // 5 and 1 banned
  Candidates c = Candidates::from_logits(logits);
  sampler_bad_words(c, p.bad_words_ids, after_1);
  EXPECT_EQ(c.ids, (std::vector<int32_t>{0, 1, 3, 4}));
  // Allowed ids.
  p = plain(0.0f);
  p.allowed_token_ids = {0, 3, 4};
  EXPECT_EQ(Sampler(p).sample(logits, {}), 3);
  // Logit bias: +10 on id 0 wins; false (-inf) bans; an id beyond the vocabulary is an error.
  p = plain(0.0f);
  p.logit_bias = {{0, 10.0f}};
  EXPECT_EQ(Sampler(p).sample(logits, {}), 0);
  p.logit_bias = {{5, -INFINITY}};
  EXPECT_EQ(Sampler(p).sample(logits, {}), 1);
  p.logit_bias = {{6, 1.0f}};
  try {
    Sampler(p).sample(logits, {});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("logit_bias"), std::string::npos) << e.what();
  }
  // Everything banned is an error, not a crash.
  p = plain(0.0f);
  p.allowed_token_ids = {5};
  p.bad_words_ids = {{5}};
  EXPECT_THROW(Sampler(p).sample(logits, {}), Error);
}

TEST(SamplerChain, MinTokensAndIgnoreEos) {
  const std::vector<float> logits = {0.0f, 1.0f, 9.0f};
  const std::vector<int32_t> eos = {2};
  SamplingParams p = plain(0.0f);
  p.min_tokens = 2;
  Sampler s(p, eos);
  EXPECT_EQ(s.sample(logits, {}), 1);  // EOS banned for the first two tokens
  EXPECT_EQ(s.sample(logits, {}), 1);
  EXPECT_EQ(s.sample(logits, {}), 2);
  EXPECT_EQ(s.generated(), 3);
  s.reset();
  EXPECT_EQ(s.sample(logits, {}), 1);
  p.min_tokens = 0;
  p.ignore_eos = true;
  Sampler ignoring(p, eos);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(ignoring.sample(logits, {}), 1);
}

TEST(SamplerChain, OrderIsHonoured) {
  // p = {0.5, 0.3, 0.2}, min_p 0.5, temperature 0.25.
  // min_p first keeps {0.5, 0.3} (0.3 >= 0.25); temperature then gives id 1 a share of
  // 0.3^4 / (0.5^4 + 0.3^4) = 0.115.
  // temperature first: p ~ {0.0625, 0.0081, 0.0016}, 0.0081 / 0.0625 = 0.13 < 0.5 -> only id 0.
  const std::vector<float> logits = logs({0.5f, 0.3f, 0.2f});
  SamplingParams p = plain(0.25f);
  p.min_p = 0.5f;
  auto count_ones = [&](const char* order) {
    p.samplers = parse_sampler_stages(order);
    Sampler s(p);
    int ones = 0;
    for (int i = 0; i < 1000; ++i) ones += s.sample(logits, {}) == 1;
    return ones;
  };
  EXPECT_EQ(count_ones("temperature;min_p"), 0);
  EXPECT_NEAR(count_ones("min_p;temperature") / 1000.0, 0.115, 0.04);
  EXPECT_NEAR(count_ones("mt") / 1000.0, 0.115, 0.04);  // letter form
  EXPECT_EQ(count_ones("tm"), 0);
  EXPECT_THROW(parse_sampler_stages("top_k;nope"), Error);
  EXPECT_THROW(parse_sampler_stages("kq"), Error);
  EXPECT_EQ(parse_sampler_stages("top-k, typical_p"),
            (std::vector<SamplerStage>{SamplerStage::kTopK, SamplerStage::kTypicalP}));
}

TEST(SamplerChain, SeededSamplingIsReproducible) {
  std::vector<float> logits(500);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i));
  SamplingParams p;
  p.seed = 1234;
  p.xtc_probability = 0.5f;
  p.top_k = 100;
  std::vector<int32_t> a, b, c;
  Sampler sa(p), sb(p);
  p.seed = 1235;
  Sampler sc(p);
  for (int i = 0; i < 64; ++i) {
    a.push_back(sa.sample(logits, a));
    b.push_back(sb.sample(logits, b));
    c.push_back(sc.sample(logits, c));
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  sa.reset();
  std::vector<int32_t> again;
  for (int i = 0; i < 64; ++i) again.push_back(sa.sample(logits, again));
  EXPECT_EQ(a, again);
}

// NaN logits (a broken model) never crash the chain or win a draw: they count as -inf.
TEST(SamplerChain, NanLogitsAreBanned) {
  std::vector<float> logits(3000, 0.0f);
  for (size_t i = 0; i < logits.size(); i += 3) logits[i] = NAN;
  logits[1] = 1.0f;
  EXPECT_EQ(Sampler(plain(0.0f)).sample(logits, {}), 1);
  SamplingParams p;  // default chain
  p.seed = 3;
  p.top_k = 0;
  p.min_p = 0;
  Sampler s(p);
  for (int i = 0; i < 50; ++i) EXPECT_NE(s.sample(logits, {}) % 3, 0);
  Candidates c = Candidates::from_logits(logits);
  sampler_top_k(c, 100);
  EXPECT_EQ(c.ids[0], 1);
  EXPECT_EQ(token_logprobs(logits, 1, 3).top[0].id, 1);
}

// The Sampler's shortcuts (top-k straight from the logits, candidates built from a mask's set
// bits) draw exactly what the stages composed by hand draw with the same RNG stream.
TEST(SamplerChain, ShortcutsMatchTheStagesComposedByHand) {
  Rng noise(21);
  std::vector<float> logits(5000);
  for (float& l : logits) l = static_cast<float>(noise.uniform() * 12);
  std::vector<uint64_t> mask((logits.size() + 63) / 64);
  for (uint64_t& w : mask) w = noise.next_u64();
  SamplingParams p;  // default chain: top-k 40, top-p 0.95, min-p 0.05, temperature 0.8
  p.seed = 9;
  Sampler fast(p), masked(p);
  Rng rng(9), rng_masked(9);
  auto by_hand = [&](Candidates c, Rng& r) {
    sampler_top_k(c, 40);
    sampler_top_p(c, 0.95f);
    sampler_min_p(c, 0.05f);
    sampler_temperature(c, 0.8f);
    sampler_softmax(c);
    return sampler_draw(c, r);
  };
  for (int step = 0; step < 50; ++step) {
    EXPECT_EQ(fast.sample(logits, {}), by_hand(Candidates::from_logits(logits), rng));
    Candidates c = Candidates::from_logits(logits);
    sampler_apply_mask(c, mask);
    EXPECT_EQ(masked.sample(logits, {}, mask), by_hand(c, rng_masked));
  }
}

// Greedy decoding with sparse filters (EOS bans, bad words, logit_bias, repetition penalties)
// skips copying the vocabulary: its choice must equal the filters and penalties applied to every
// candidate by hand, then the argmax (lowest id among ties), over random cases with many ties
// and some NaN logits.
TEST(SamplerChain, GreedyWithSparseFiltersMatchesTheStagesComposedByHand) {
  Rng noise(77);
  const auto pick = [&](int n) {
    return static_cast<int32_t>(noise.next_u64() % static_cast<uint64_t>(n));
  };
  for (int trial = 0; trial < 400; ++trial) {
    const int vocab = 50 + pick(3000);
    std::vector<float> logits(static_cast<size_t>(vocab));
    for (float& l : logits) l = static_cast<float>(pick(40)) / 4.0f - 5.0f;  // many ties
    if (trial % 5 == 0) logits[static_cast<size_t>(pick(vocab))] = std::nanf("");
    std::vector<int32_t> history(static_cast<size_t>(pick(100)));
    for (int32_t& t : history) t = pick(vocab);
    // Put the largest logits on history and EOS ids often, so filters change the winner.
    const float top = *std::max_element(logits.begin(), logits.end(), [](float a, float b) {
      return std::isnan(b) ? false : std::isnan(a) || a < b;
    });
    std::vector<int32_t> eos = {pick(vocab), pick(vocab)};
    logits[static_cast<size_t>(eos[0])] = top + 1;
    if (!history.empty()) logits[static_cast<size_t>(history.back())] = top + 0.5f;
    SamplingParams p = plain(0.0f);
    p.ignore_eos = trial % 3 == 0;
    p.min_tokens = trial % 3 == 1 ? 2 : 0;
    const int windows[] = {0, 8, 64, -1};
    p.repeat_last_n = windows[pick(4)];
    if (trial % 2 == 0) p.repeat_penalty = 1.5f;
    if (trial % 4 == 1) p.presence_penalty = 0.75f;
    if (trial % 4 == 2) p.frequency_penalty = 0.25f;
    for (int i = pick(3); i > 0; --i) {
      std::vector<int32_t> w = {pick(vocab)};
      if (!history.empty() && pick(2) == 0) w.insert(w.begin(), history.back());
      p.bad_words_ids.push_back(w);
    }
    for (int i = pick(4); i > 0; --i)
      p.logit_bias.push_back(
          {pick(vocab), i == 1 ? -INFINITY : static_cast<float>(pick(9)) - 4.0f});

    Candidates c = Candidates::from_logits(logits);
    sampler_bad_words(c, p.bad_words_ids, history);
    if (p.ignore_eos || p.min_tokens > 0) sampler_ban_ids(c, eos);
    sampler_logit_bias(c, p.logit_bias, logits.size());
    std::span<const int32_t> recent(history);
    if (p.repeat_last_n == 0) recent = {};
    if (p.repeat_last_n > 0 && recent.size() > static_cast<size_t>(p.repeat_last_n))
      recent = recent.last(static_cast<size_t>(p.repeat_last_n));
    sampler_penalties(c, recent, p.repeat_penalty, p.frequency_penalty, p.presence_penalty);
    const int32_t expected = sampler_argmax(c);

    Sampler sampler(p, eos);
    EXPECT_EQ(sampler.sample(logits, history), expected) << "trial " << trial;
  }
}

TEST(SamplerChain, Logprobs) {
  // logits {0, ln 3}: p = {0.25, 0.75}.
  const std::vector<float> logits = {0.0f, std::log(3.0f)};
  TokenLogprobs t = token_logprobs(logits, 0, 2);
  EXPECT_NEAR(t.logprob, std::log(0.25), 1e-6);
  ASSERT_EQ(t.top.size(), 2u);
  EXPECT_EQ(t.top[0].id, 1);
  EXPECT_NEAR(t.top[0].logprob, std::log(0.75), 1e-6);
  EXPECT_THROW(token_logprobs(logits, 2, 0), Error);
  // Prompt {1, 0, 1} with rows predicting the next token: row 0 -> 0, row 1 -> 1.
  const std::vector<float> rows = {0.0f, std::log(3.0f), std::log(3.0f), 0.0f, 5.0f, 5.0f};
  const std::vector<int32_t> prompt = {1, 0, 1};
  std::vector<TokenLogprobs> pl = prompt_logprobs(rows, 2, prompt, 1);
  ASSERT_EQ(pl.size(), 2u);
  EXPECT_EQ(pl[0].id, 0);
  EXPECT_NEAR(pl[0].logprob, std::log(0.25), 1e-6);
  EXPECT_EQ(pl[1].id, 1);
  EXPECT_NEAR(pl[1].logprob, std::log(0.25), 1e-6);  // row 1 = {ln 3, 0}
  EXPECT_EQ(pl[1].top[0].id, 0);
  EXPECT_THROW(prompt_logprobs(rows, 4, prompt, 1), Error);
}

// Random valid parameter sets (any stage order, extreme values) on a small vocabulary: every
// draw is a vocabulary id the mask allows, or a wick::Error; never a crash or a banned token.
TEST(SamplerChain, RandomParametersNeverBreakTheChain) {
  Rng rng(11);
  auto pick = [&](double lo, double hi) { return lo + (hi - lo) * rng.uniform(); };
  const char* kStages[] = {"penalties", "dry",     "top_n_sigma", "top_k", "typ_p",      "top_p",
                           "min_p",     "epsilon", "eta",         "xtc",   "temperature"};
  std::vector<float> logits(97);
  std::vector<uint64_t> mask(2);
  for (int trial = 0; trial < 3000; ++trial) {
    for (float& l : logits) l = static_cast<float>(pick(-20, 20));
    if (trial % 7 == 0) logits[3] = -INFINITY;
    mask = {rng.next_u64(), rng.next_u64() | 1};
    nlohmann::json body = {{"temperature", pick(0, 3)},
                           {"top_k", static_cast<int>(pick(-1, 120))},
                           {"top_p", pick(0, 1)},
                           {"min_p", pick(0, 1)},
                           {"typical_p", pick(0.01, 1)},
                           {"repeat_penalty", pick(0.1, 3)},
                           {"repeat_last_n", static_cast<int>(pick(-1, 10))},
                           {"presence_penalty", pick(-2, 2)},
                           {"frequency_penalty", pick(-2, 2)},
                           {"top_n_sigma", pick(-1, 4)},
                           {"epsilon_cutoff", pick(0, 0.5)},
                           {"eta_cutoff", pick(0, 0.5)},
                           {"dynatemp_range", pick(0, 2)},
                           {"dynatemp_exponent", pick(0, 3)},
                           {"xtc_probability", pick(0, 1)},
                           {"xtc_threshold", pick(0, 0.6)},
                           {"mirostat", static_cast<int>(pick(0, 2.99))},
                           {"mirostat_tau", pick(0, 10)},
                           {"mirostat_eta", pick(0, 1)},
                           {"dry_multiplier", pick(0, 3)},
                           {"dry_base", pick(1, 4)},
                           {"dry_allowed_length", static_cast<int>(pick(0, 4))},
                           {"min_keep", static_cast<int>(pick(0, 5))},
                           {"seed", trial}};
    std::vector<std::string> order;
    for (const char* s : kStages)
      if (rng.uniform() < 0.7) order.push_back(s);
    body["samplers"] = order;
    SamplingParams p;
    sampling_from_json(body, p);
    const std::vector<int32_t> eos = {5};
    Sampler s(p, eos);
    std::vector<int32_t> history = {1, 2, 3, 1, 2};
    for (int step = 0; step < 4; ++step) {
      const int32_t id = s.sample(logits, history, mask);
      ASSERT_GE(id, 0) << body.dump();
      ASSERT_LT(id, 97) << body.dump();
      ASSERT_TRUE(mask[static_cast<size_t>(id) / 64] >> (id % 64) & 1) << body.dump();
      history.push_back(id);
    }
  }
}

// Prompt logprobs from one all-logits forward against token-by-token decoding with the KV
// cache and a plain double log-softmax: row t must give log p(prompt[t + 1] | prompt[..t]).
TEST(SamplerChain, PromptLogprobsMatchIncrementalDecoding) {
  const std::string dir = std::string(WICK_SOURCE_DIR) + "/tests/data/models/llama";
  if (!std::filesystem::exists(dir + "/config.json"))
    GTEST_SKIP() << "golden model absent: " << dir;
  models::LoadedModel model = models::load_model(dir);
  const std::vector<int32_t> prompt = {1, 15, 27, 3, 99, 42, 7};
  const std::vector<TokenLogprobs> got = model_prompt_logprobs(*model.model, prompt, 2);
  ASSERT_EQ(got.size(), prompt.size() - 1);
  nn::KvCache cache = model.model->make_cache();
  cache.add_sequence(0);
  for (size_t t = 0; t + 1 < prompt.size(); ++t) {
    const models::BatchItem item{0, std::span<const int32_t>(&prompt[t], 1)};
    const std::vector<float> row = model.model->forward({&item, 1}, cache).to_float_vector();
    double m = -INFINITY, z = 0;
    for (float l : row) m = std::max(m, static_cast<double>(l));
    for (float l : row) z += std::exp(l - m);
    const double want = row[static_cast<size_t>(prompt[t + 1])] - m - std::log(z);
    EXPECT_EQ(got[t].id, prompt[t + 1]);
    EXPECT_NEAR(got[t].logprob, want, 1e-3) << "position " << t;
    ASSERT_EQ(got[t].top.size(), 2u);
    EXPECT_NEAR(got[t].top[0].logprob, -std::log(z), 1e-3);  // the best: l_max - m - log z
  }
}

// Generation with a golden tiny model: the same seed gives the same tokens at 1 and 2 threads.
TEST(SamplerChain, SeededGenerationIsTheSameAcrossThreadCounts) {
  const std::string dir = std::string(WICK_SOURCE_DIR) + "/tests/data/models/llama";
  if (!std::filesystem::exists(dir + "/config.json"))
    GTEST_SKIP() << "golden model absent: " << dir;
  models::LoadedModel model = models::load_model(dir);
  const std::vector<int32_t> prompt = {1, 15, 27, 3, 99};
  GenerateOptions o;
  o.max_tokens = 32;
  o.sampling.temperature = 1.0f;
  o.sampling.top_k = 0;
  o.sampling.top_p = 0.98f;
  o.sampling.min_p = 0.0f;
  o.sampling.seed = 77;
  auto run = [&](int threads, uint64_t seed) {
    ThreadPool::set_global_threads(threads);
    o.sampling.seed = seed;
    Generator g(*model.model, nullptr);
    return g.generate(prompt, o).ids;
  };
  const std::vector<int32_t> one = run(1, 77);
  EXPECT_EQ(one.size(), 32u);
  EXPECT_EQ(run(2, 77), one);
  EXPECT_EQ(run(1, 77), one);
  EXPECT_NE(run(2, 78), one);
}

// The Generator hands the sampler its EOS ids (min_tokens, ignore_eos) and reports logprobs.
TEST(SamplerChain, GeneratorPassesEosIdsAndReportsLogprobs) {
  const std::string dir = std::string(WICK_SOURCE_DIR) + "/tests/data/models/llama";
  if (!std::filesystem::exists(dir + "/config.json"))
    GTEST_SKIP() << "golden model absent: " << dir;
  models::LoadedModel model = models::load_model(dir);
  const std::vector<int32_t> prompt = {1, 15, 27, 3, 99};
  GenerateOptions o;
  o.max_tokens = 8;
  o.sampling.temperature = 0;
  o.sampling.logprobs = true;
  o.sampling.top_logprobs = 3;
  Generator g(*model.model, nullptr);
  const GenerateResult greedy = g.generate(prompt, o);
  ASSERT_EQ(greedy.ids.size(), 8u);
  ASSERT_EQ(greedy.logprobs.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    const TokenLogprobs& t = greedy.logprobs[i];
    EXPECT_EQ(t.id, greedy.ids[i]);
    ASSERT_EQ(t.top.size(), 3u);
    EXPECT_EQ(t.top[0].id, t.id);  // greedy picks the most likely token
    EXPECT_FLOAT_EQ(t.top[0].logprob, t.logprob);
    EXPECT_LE(t.logprob, 0.0f);
    EXPECT_GE(t.top[0].logprob, t.top[1].logprob);
    EXPECT_GE(t.top[1].logprob, t.top[2].logprob);
  }
  // The first greedy token as EOS: generation stops at once, unless EOS is banned.
  o.eos_ids = {greedy.ids[0]};
  EXPECT_EQ(g.generate(prompt, o).reason, StopReason::kEos);
  o.sampling.min_tokens = 1;
  GenerateResult r = g.generate(prompt, o);
  ASSERT_FALSE(r.ids.empty());
  EXPECT_NE(r.ids[0], greedy.ids[0]);
  EXPECT_EQ(r.ids[0], greedy.logprobs[0].top[1].id);  // the runner-up
  o.sampling.min_tokens = 0;
  o.sampling.ignore_eos = true;
  r = g.generate(prompt, o);
  EXPECT_EQ(r.reason, StopReason::kMaxTokens);
  EXPECT_EQ(std::count(r.ids.begin(), r.ids.end(), greedy.ids[0]), 0);
}

}  // namespace
}  // namespace wick::gen
