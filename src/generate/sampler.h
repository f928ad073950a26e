// Token sampling as a chain of small stages over a candidate list. Hard filters run first and
// in a fixed order (constraint mask, allowed ids, bad words, EOS suppression, logit bias); the
// soft stages (penalties, DRY, temperature, top-k, ...) then run in the user's order
// (llama.cpp's `samplers` list); a draw (or mirostat) picks the token. Temperature <= 0 is
// greedy. Each stage is a free function so tests compose them; Sampler holds the parameters,
// the seeded RNG and the state that persists across steps (mirostat's mu, tokens generated).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "generate/rng.h"

namespace wick::tok {
class Tokenizer;
}
namespace wick::models {
class Model;
}

namespace wick::gen {

// Stages whose order the user chooses (llama.cpp names in sampler_stage_from_name).
enum class SamplerStage {
  kPenalties,    // repetition (HF, multiplicative) + presence/frequency (OpenAI, additive)
  kDry,          // DRY repetition penalty
  kTopNSigma,    // keep logits >= max - n * stddev
  kTopK,         //
  kTypicalP,     // locally typical sampling
  kTopP,         // nucleus
  kMinP,         //
  kEpsilon,      // transformers' EpsilonLogitsWarper
  kEta,          // transformers' EtaLogitsWarper
  kXtc,          // exclude top choices
  kTemperature,  // incl. dynamic temperature when dynatemp_range > 0
};

// The default order is llama.cpp's: penalties, truncations, temperature last (so top-p and
// min-p see the untempered distribution, and top-k runs before any full-vocabulary pass).
std::vector<SamplerStage> default_sampler_stages();
// "top_k" / "top-k" / "k" ... -> stage; Error(kInvalidArgument) naming the name otherwise.
SamplerStage sampler_stage_from_name(std::string_view name);
// llama.cpp's two spellings: "penalties;dry;top_k;temperature" or letters "edkypmxt"
// (e penalties, d dry, s top-n-sigma, k top-k, y typical, p top-p, m min-p, x xtc,
// t temperature; wick adds E epsilon, h eta).
std::vector<SamplerStage> parse_sampler_stages(std::string_view text);
const char* sampler_stage_name(SamplerStage s);

struct SamplingParams {
  float temperature = 0.8f;     // <= 0: greedy
  int top_k = 40;               // <= 0: off
  float top_p = 0.95f;          // 1: off
  float min_p = 0.05f;          // 0: off
  float repeat_penalty = 1.0f;  // 1: off (HF repetition_penalty: divides positive logits)
  int repeat_last_n = 64;       // penalty window over prompt + generated ids; -1: all, 0: none
  uint64_t seed = 0;

  // OpenAI penalties, additive: logit -= count * frequency + (count > 0) * presence.
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  std::vector<std::pair<int32_t, float>> logit_bias{};  // added to the logit; -inf bans
  float typical_p = 1.0f;                               // 1: off
  float top_n_sigma = -1.0f;                            // <= 0: off
  float epsilon_cutoff = 0.0f;                          // 0: off; drop p < epsilon
  float eta_cutoff = 0.0f;                              // 0: off; drop p < min(eta, sqrt(eta)e^-H)
  float dynatemp_range = 0.0f;     // 0: off; temperature in [t - range, t + range]
  float dynatemp_exponent = 1.0f;  //
  float xtc_probability = 0.0f;    // 0: off
  float xtc_threshold = 0.1f;      // > 0.5: off
  int mirostat = 0;                // 0 off, 1 (v1), 2 (v2); replaces the truncation stages
  float mirostat_tau = 5.0f;       // target surprise (bits)
  float mirostat_eta = 0.1f;       // learning rate
  float dry_multiplier = 0.0f;     // 0: off
  float dry_base = 1.75f;          //
  int dry_allowed_length = 2;      // repeats up to this length are free
  int dry_penalty_last_n = -1;     // -1: all history, 0: off
  std::vector<std::string> dry_sequence_breakers = {"\n", ":", "\"", "*"};
  int min_tokens = 0;       // EOS ids are banned before this many tokens were sampled
  bool ignore_eos = false;  // EOS ids are always banned (llama.cpp semantics)
  std::vector<std::vector<int32_t>> bad_words_ids{};  // token sequences that must not be completed
  std::vector<std::string> bad_words{};               // same as text (needs a tokenizer)
  std::vector<int32_t> allowed_token_ids{};           // empty: all
  int min_keep = 1;                      // truncation stages keep at least this many candidates
  std::vector<SamplerStage> samplers{};  // empty: default_sampler_stages()
  // Logprobs are reported from the model's raw distribution (log-softmax of the logits before
  // any stage), as vLLM does by default; see docs/sampling.md.
  bool logprobs = false;     // report the sampled token's logprob
  int top_logprobs = 0;      // and this many most likely alternatives
  int prompt_logprobs = -1;  // -1: off; else per prompt token with this many alternatives
};

// Candidates: ids with logits, or with probabilities once `probs` (after sampler_softmax; a
// truncation leaves them unnormalised, and stages that need a distribution renormalise).
struct Candidates {
  std::vector<int32_t> ids;
  std::vector<float> values;
  bool sorted = false;  // descending by value (ties: lower id first)
  bool probs = false;   // values are probabilities, else logits
  bool by_id = false;   // ids ascending (from_logits order; filters keep it)
  size_t size() const { return ids.size(); }
  static Candidates from_logits(std::span<const float> logits);  // NaN logits become -inf
  void assign_logits(std::span<const float> logits);             // the same, reusing the buffers
};

// --- Hard filters (sampler_filters.cpp): remove candidates, never reorder. ---
// Constraint hook: bit i of allowed_bits (word i / 64, bit i % 64) set = token i allowed. Ids
// beyond the mask are disallowed. Throws when nothing is allowed (fail closed).
void sampler_apply_mask(Candidates& c, std::span<const uint64_t> allowed_bits);
void sampler_allowed_ids(Candidates& c, std::span<const int32_t> allowed);  // empty: no-op
// transformers' NoBadWordsLogitsProcessor: a one-token word is always banned; the last token
// of a longer word is banned when the history ends with the word's other tokens.
void sampler_bad_words(Candidates& c, std::span<const std::vector<int32_t>> words,
                       std::span<const int32_t> history);
void sampler_ban_ids(Candidates& c, std::span<const int32_t> banned);
// Adds each bias to its token's logit; an id >= vocab is an error naming it; -inf removes.
void sampler_logit_bias(Candidates& c, std::span<const std::pair<int32_t, float>> bias,
                        size_t vocab);

// --- Penalties (sampler_filters.cpp); `history` is already cut to the window. ---
// HF RepetitionPenaltyLogitsProcessor: seen tokens' logits divided by `penalty` when
// positive, multiplied when negative.
void sampler_repetition_penalty(Candidates& c, std::span<const int32_t> history, float penalty);
// All three at once, as llama.cpp's penalties stage: repetition (multiplicative, once per
// distinct token) then logit -= count * frequency + (count > 0) * presence.
void sampler_penalties(Candidates& c, std::span<const int32_t> history, float repeat,
                       float frequency, float presence);
struct DryParams {
  float multiplier = 0, base = 1.75f;
  int allowed_length = 2;
};
// DRY (p-e-w, as in llama.cpp/koboldcpp): a candidate that would extend a repeat of the
// history's last n tokens (n >= allowed_length) loses multiplier * base^(n - allowed_length).
// Tokens for which `is_breaker(id)` is true end matches (empty: none). history: the window.
void sampler_dry(Candidates& c, std::span<const int32_t> history, const DryParams& p,
                 const std::function<bool(int32_t)>& is_breaker);

// --- Soft stages (sampler.cpp). ---
void sampler_temperature(Candidates& c, float temperature);  // temperature > 0
// llama.cpp's dynamic temperature: t' = min_t + (max_t - min_t) * (H / log n)^exponent with
// min_t = max(0, t - range), max_t = t + range, H the entropy of softmax(logits).
void sampler_dynamic_temperature(Candidates& c, float temperature, float range, float exponent);
void sampler_top_k(Candidates& c, int k);  // keeps the k largest (sorts descending)
// Turns logits into probabilities (softmax over the remaining candidates).
void sampler_softmax(Candidates& c);
// Keeps the smallest prefix (by descending probability) whose mass reaches p (>= min_keep).
void sampler_top_p(Candidates& c, float p, size_t min_keep = 1);
// Keeps candidates with probability >= min_p * max probability.
void sampler_min_p(Candidates& c, float min_p, size_t min_keep = 1);
// Meister et al. / HF TypicalLogitsWarper: sort by |-log p - H| ascending, keep the smallest
// prefix whose probability mass reaches p.
void sampler_typical_p(Candidates& c, float p, size_t min_keep = 1);
// Tang et al. top-n-sigma: keep logits >= max - n * std (population std over the candidates).
void sampler_top_n_sigma(Candidates& c, float n);
// HF EpsilonLogitsWarper: drop p < epsilon.
void sampler_epsilon(Candidates& c, float epsilon, size_t min_keep = 1);
// HF EtaLogitsWarper: drop p < min(eta, sqrt(eta) * exp(-H)).
void sampler_eta(Candidates& c, float eta, size_t min_keep = 1);
// llama.cpp XTC: with probability `probability`, remove every candidate with p >= threshold
// except the least likely of them (needs at least two above the threshold).
void sampler_xtc(Candidates& c, float probability, float threshold, size_t min_keep, Rng& rng);
int32_t sampler_argmax(const Candidates& c);
int32_t sampler_argmax(std::span<const float> logits);  // lowest id among equal maxima
int32_t sampler_draw(const Candidates& c, Rng& rng);    // c holds probabilities

// --- Logprobs (sampler_logprobs.cpp), from log_softmax(logits). ---
struct TokenLogprob {
  int32_t id = -1;
  float logprob = 0;
};
struct TokenLogprobs {
  int32_t id = -1;  // the sampled (or prompt) token
  float logprob = 0;
  std::vector<TokenLogprob> top;  // most likely first (ties: lower id first)
};
// logits: (vocab). `top_n` alternatives.
TokenLogprobs token_logprobs(std::span<const float> logits, int32_t id, int top_n);
// logits: (T, vocab) row t from Model::forward with all_logits, predicting prompt[t + 1].
// Returns T - 1 entries, one per prompt token after the first (which nothing predicts).
std::vector<TokenLogprobs> prompt_logprobs(std::span<const float> logits, size_t vocab,
                                           std::span<const int32_t> prompt, int top_n);
// The same straight from a model: one forward over the whole prompt with all_logits, in a
// cache of its own (vLLM's prompt_logprobs).
std::vector<TokenLogprobs> model_prompt_logprobs(const models::Model& model,
                                                 std::span<const int32_t> prompt, int top_n);

class Sampler {
 public:
  // eos_ids: for min_tokens and ignore_eos. tokenizer (may be null; must outlive the Sampler):
  // tokenizes text bad words, and tells DRY which history tokens contain a sequence breaker.
  explicit Sampler(const SamplingParams& params, std::span<const int32_t> eos_ids = {},
                   const tok::Tokenizer* tokenizer = nullptr);
  const SamplingParams& params() const { return params_; }
  // logits: (vocab) of the last position; history: prompt + generated ids; allowed_bits: an
  // optional constraint mask (see sampler_apply_mask). Counts the call as one generated token.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history,
                 std::span<const uint64_t> allowed_bits = {});
  int generated() const { return generated_; }
  float mirostat_mu() const { return mu_; }
  // Back to the state after construction (RNG reseeded, mirostat mu and count reset).
  void reset();

 private:
  void apply_filters(Candidates& c, std::span<const int32_t> history,
                     std::span<const uint64_t> allowed_bits, size_t vocab);
  void apply_stage(SamplerStage s, Candidates& c, std::span<const int32_t> history);
  int32_t mirostat_draw(Candidates& c, size_t vocab);
  bool filters_active(std::span<const uint64_t> allowed_bits) const;
  bool penalties_active() const;
  bool is_dry_breaker(int32_t id);
  bool stage_is_noop(SamplerStage s) const;
  size_t top_k_straight_from_logits(Candidates& c, std::span<const float> logits);
  bool greedy_sparse(std::span<const float> logits, std::span<const int32_t> history, int32_t& id);

  SamplingParams params_;
  std::vector<int32_t> eos_ids_;
  Rng rng_;
  const tok::Tokenizer* tokenizer_;
  std::unordered_map<int32_t, bool> dry_breaker_memo_;  // history ids looked up so far
  Candidates work_;                  // reused across steps: no 150k allocation per token
  std::vector<int32_t> sparse_ids_;  // greedy_sparse's touched ids, reused
  float mu_ = 0;
  int generated_ = 0;
};

}  // namespace wick::gen
