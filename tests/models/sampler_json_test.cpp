// sampling_from_json: the parameter names of OpenAI, llama.cpp's server, vLLM, transformers and
// Ollama's `options` land in SamplingParams; unknown names are ignored; a wrong type or range
// is an Error(kInvalidArgument) whose message names the field.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <string>

#include "core/error.h"
#include "generate/sampling_json.h"

namespace wick::gen {
namespace {

using nlohmann::json;

SamplingParams parse(const char* text) {
  SamplingParams p;
  sampling_from_json(json::parse(text), p);
  return p;
}

// Runs the parser on `text` and returns the error message (empty when it did not throw).
std::string error_of(const char* text) {
  try {
    parse(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    return e.what();
  }
  return "";
}

TEST(SamplingJson, OpenAiNames) {
  const SamplingParams p = parse(R"({"model": "x", "max_tokens": 9, "stream": true, "n": 1,
      "temperature": 0.2, "top_p": 0.9, "presence_penalty": 0.5, "frequency_penalty": -0.25,
      "logit_bias": {"5": -100, "7": 2.5}, "seed": 123, "logprobs": true, "top_logprobs": 3})");
  EXPECT_FLOAT_EQ(p.temperature, 0.2f);
  EXPECT_FLOAT_EQ(p.top_p, 0.9f);
  EXPECT_FLOAT_EQ(p.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(p.frequency_penalty, -0.25f);
  ASSERT_EQ(p.logit_bias.size(), 2u);
  EXPECT_EQ(p.logit_bias[0], (std::pair<int32_t, float>{5, -100.0f}));
  EXPECT_EQ(p.logit_bias[1], (std::pair<int32_t, float>{7, 2.5f}));
  EXPECT_EQ(p.seed, 123u);
  EXPECT_TRUE(p.logprobs);
  EXPECT_EQ(p.top_logprobs, 3);
  EXPECT_EQ(p.top_k, SamplingParams{}.top_k);  // untouched
  // Completions API: logprobs is the number of alternatives.
  const SamplingParams c = parse(R"({"logprobs": 2})");
  EXPECT_TRUE(c.logprobs);
  EXPECT_EQ(c.top_logprobs, 2);
}

TEST(SamplingJson, LlamaCppNames) {
  const SamplingParams p = parse(R"({"top_k": 12, "min_p": 0.1, "typical_p": 0.8,
      "repeat_penalty": 1.1, "penalty_last_n": 128, "dry_multiplier": 0.8, "dry_base": 2,
      "dry_allowed_length": 3, "dry_penalty_last_n": 256, "dry_sequence_breakers": ["\n", "#"],
      "xtc_probability": 0.5, "xtc_threshold": 0.2, "mirostat": 2, "mirostat_tau": 4,
      "mirostat_eta": 0.2, "dynatemp_range": 0.3, "dynatemp_exponent": 2, "top_n_sigma": 1.5,
      "n_probs": 4, "samplers": ["top_k", "typ_p", "temperature"], "ignore_eos": true,
      "min_keep": 2, "logit_bias": [[5, false], [6, -1.5]]})");
  EXPECT_EQ(p.top_k, 12);
  EXPECT_FLOAT_EQ(p.min_p, 0.1f);
  EXPECT_FLOAT_EQ(p.typical_p, 0.8f);
  EXPECT_FLOAT_EQ(p.repeat_penalty, 1.1f);
  EXPECT_EQ(p.repeat_last_n, 128);
  EXPECT_FLOAT_EQ(p.dry_multiplier, 0.8f);
  EXPECT_FLOAT_EQ(p.dry_base, 2.0f);
  EXPECT_EQ(p.dry_allowed_length, 3);
  EXPECT_EQ(p.dry_penalty_last_n, 256);
  EXPECT_EQ(p.dry_sequence_breakers, (std::vector<std::string>{"\n", "#"}));
  EXPECT_FLOAT_EQ(p.xtc_probability, 0.5f);
  EXPECT_FLOAT_EQ(p.xtc_threshold, 0.2f);
  EXPECT_EQ(p.mirostat, 2);
  EXPECT_FLOAT_EQ(p.mirostat_tau, 4.0f);
  EXPECT_FLOAT_EQ(p.mirostat_eta, 0.2f);
  EXPECT_FLOAT_EQ(p.dynatemp_range, 0.3f);
  EXPECT_FLOAT_EQ(p.dynatemp_exponent, 2.0f);
  EXPECT_FLOAT_EQ(p.top_n_sigma, 1.5f);
  EXPECT_TRUE(p.logprobs);
  EXPECT_EQ(p.top_logprobs, 4);
  EXPECT_EQ(p.samplers, (std::vector<SamplerStage>{SamplerStage::kTopK, SamplerStage::kTypicalP,
                                                   SamplerStage::kTemperature}));
  EXPECT_TRUE(p.ignore_eos);
  EXPECT_EQ(p.min_keep, 2);
  ASSERT_EQ(p.logit_bias.size(), 2u);
  EXPECT_EQ(p.logit_bias[0].second, -INFINITY);
  EXPECT_EQ(p.logit_bias[1].second, -1.5f);
  // The string forms of `samplers`: names separated by ';' and the letter form.
  EXPECT_EQ(parse(R"({"samplers": "top_k;temperature"})").samplers,
            (std::vector<SamplerStage>{SamplerStage::kTopK, SamplerStage::kTemperature}));
  EXPECT_EQ(parse(R"({"samplers": "kmt"})").samplers,
            (std::vector<SamplerStage>{SamplerStage::kTopK, SamplerStage::kMinP,
                                       SamplerStage::kTemperature}));
  EXPECT_EQ(parse(R"({"repeat_last_n": -1})").repeat_last_n, -1);
}

TEST(SamplingJson, VllmAndTransformersNames) {
  const SamplingParams p = parse(R"({"repetition_penalty": 1.3, "min_tokens": 4, "top_k": -1,
      "bad_words": ["foo", "bar baz"], "bad_words_ids": [[1, 2], [3]],
      "allowed_token_ids": [3, 4, 9], "prompt_logprobs": 2, "epsilon_cutoff": 3e-4,
      "eta_cutoff": 1e-3, "skip_special_tokens": false})");
  EXPECT_FLOAT_EQ(p.repeat_penalty, 1.3f);
  EXPECT_EQ(p.min_tokens, 4);
  EXPECT_EQ(p.top_k, 0);  // vLLM's -1 = off
  EXPECT_EQ(p.bad_words, (std::vector<std::string>{"foo", "bar baz"}));
  EXPECT_EQ(p.bad_words_ids, (std::vector<std::vector<int32_t>>{{1, 2}, {3}}));
  EXPECT_EQ(p.allowed_token_ids, (std::vector<int32_t>{3, 4, 9}));
  EXPECT_EQ(p.prompt_logprobs, 2);
  EXPECT_FLOAT_EQ(p.epsilon_cutoff, 3e-4f);
  EXPECT_FLOAT_EQ(p.eta_cutoff, 1e-3f);
}

TEST(SamplingJson, OllamaOptionsOverrideTheTopLevel) {
  const SamplingParams p = parse(R"({"temperature": 0.5, "options": {"temperature": 0.1,
      "repeat_penalty": 1.2, "repeat_last_n": 0, "mirostat": 1, "num_ctx": 4096, "seed": 9}})");
  EXPECT_FLOAT_EQ(p.temperature, 0.1f);
  EXPECT_FLOAT_EQ(p.repeat_penalty, 1.2f);
  EXPECT_EQ(p.repeat_last_n, 0);
  EXPECT_EQ(p.mirostat, 1);
  EXPECT_EQ(p.seed, 9u);
}

TEST(SamplingJson, NullIsAbsent) {
  const SamplingParams p = parse(R"({"temperature": null, "logit_bias": null, "seed": null})");
  EXPECT_FLOAT_EQ(p.temperature, SamplingParams{}.temperature);
  EXPECT_TRUE(p.logit_bias.empty());
}

TEST(SamplingJson, BadValuesNameTheField) {
  EXPECT_NE(error_of(R"({"top_p": 1.5})").find("\"top_p\""), std::string::npos);
  EXPECT_NE(error_of(R"({"temperature": "hot"})").find("\"temperature\""), std::string::npos);
  EXPECT_NE(error_of(R"({"temperature": -0.1})").find("\"temperature\""), std::string::npos);
  EXPECT_NE(error_of(R"({"top_k": 2.5})").find("\"top_k\""), std::string::npos);
  EXPECT_NE(error_of(R"({"top_k": -2})").find("\"top_k\""), std::string::npos);
  EXPECT_NE(error_of(R"({"mirostat": 3})").find("\"mirostat\""), std::string::npos);
  EXPECT_NE(error_of(R"({"repeat_penalty": 0})").find("\"repeat_penalty\""), std::string::npos);
  EXPECT_NE(error_of(R"({"typical_p": 0})").find("\"typical_p\""), std::string::npos);
  EXPECT_NE(error_of(R"({"ignore_eos": 1})").find("\"ignore_eos\""), std::string::npos);
  EXPECT_NE(error_of(R"({"min_tokens": -1})").find("\"min_tokens\""), std::string::npos);
  EXPECT_NE(error_of(R"({"seed": "x"})").find("\"seed\""), std::string::npos);
  EXPECT_NE(error_of(R"({"top_logprobs": 1000})").find("\"top_logprobs\""), std::string::npos);
  EXPECT_NE(error_of(R"({"logit_bias": {"abc": 1}})").find("\"logit_bias\""), std::string::npos);
  EXPECT_NE(error_of(R"({"logit_bias": [[1]]})").find("\"logit_bias\""), std::string::npos);
  EXPECT_NE(error_of(R"({"logit_bias": {"1": "x"}})").find("\"logit_bias\""), std::string::npos);
  EXPECT_NE(error_of(R"({"samplers": "top_k;bogus"})").find("bogus"), std::string::npos);
  EXPECT_NE(error_of(R"({"samplers": "top_k;bogus"})").find("\"samplers\""), std::string::npos);
  EXPECT_NE(error_of(R"({"samplers": 3})").find("\"samplers\""), std::string::npos);
  EXPECT_NE(error_of(R"({"allowed_token_ids": []})").find("\"allowed_token_ids\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"allowed_token_ids": [1, -2]})").find("\"allowed_token_ids\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"bad_words_ids": [[]]})").find("\"bad_words_ids\""), std::string::npos);
  EXPECT_NE(error_of(R"({"bad_words": "foo"})").find("\"bad_words\""), std::string::npos);
  EXPECT_NE(error_of(R"({"dry_sequence_breakers": [1]})").find("\"dry_sequence_breakers\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"options": {"top_k": "x"}})").find("\"options.top_k\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"options": 3})").find("\"options\""), std::string::npos);
  EXPECT_NE(error_of(R"([1, 2])").find("object"), std::string::npos);
  EXPECT_EQ(error_of(R"({"top_p": 1, "top_k": 40.0})"), "");  // integral float is an integer
}

}  // namespace
}  // namespace wick::gen
