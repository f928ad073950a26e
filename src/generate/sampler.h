// Token sampling as a chain of small stages over a candidate list, in transformers' order:
// repetition penalty -> temperature -> top-k -> top-p -> min-p -> draw. Temperature 0 means
// greedy (argmax after the penalty). Each stage is a free function so tests and future
// constraint masks can compose them; Sampler holds the parameters and the seeded RNG.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "generate/rng.h"

namespace wick::gen {

struct SamplingParams {
  float temperature = 0.8f;     // 0: greedy
  int top_k = 40;               // 0: off
  float top_p = 0.95f;          // 1: off
  float min_p = 0.05f;          // 0: off
  float repeat_penalty = 1.0f;  // 1: off (HF repetition_penalty, over the whole history)
  int repeat_last_n = 64;       // how much history the penalty looks at; 0: all
  uint64_t seed = 0;
};

// Candidates: ids with logits, later probabilities (after softmax()).
struct Candidates {
  std::vector<int32_t> ids;
  std::vector<float> values;
  bool sorted = false;  // descending by value
  size_t size() const { return ids.size(); }
  static Candidates from_logits(std::span<const float> logits);
};

// HF RepetitionPenaltyLogitsProcessor: seen tokens' logits divided by `penalty` when
// positive, multiplied when negative.
void sampler_repetition_penalty(Candidates& c, std::span<const int32_t> history, float penalty);
void sampler_temperature(Candidates& c, float temperature);
void sampler_top_k(Candidates& c, int k);  // keeps the k largest (sorts descending)
// Turns logits into probabilities (softmax over the remaining candidates).
void sampler_softmax(Candidates& c);
// Keeps the smallest prefix (by descending probability) whose mass reaches p (at least one).
void sampler_top_p(Candidates& c, float p);
// Keeps candidates with probability >= min_p * max probability.
void sampler_min_p(Candidates& c, float min_p);
int32_t sampler_argmax(const Candidates& c);
int32_t sampler_draw(const Candidates& c, Rng& rng);  // c holds probabilities

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}
  const SamplingParams& params() const { return params_; }
  // logits: (vocab) of the last position; history: prompt + generated ids.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

 private:
  SamplingParams params_;
  Rng rng_;
};

}  // namespace wick::gen
