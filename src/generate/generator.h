// Generator: KV-cached generation for one sequence — prefill the prompt in one forward (reusing
// the cached prefix shared with the previous call, so chat turns only prefill what is new), then
// decode one token at a time through the sampler until EOS, a stop string or max tokens.
// Streaming: a callback gets each token and the text it completes (UTF-8 safe, with text that
// might begin a stop string held back until it is known not to).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "generate/sampler.h"
#include "models/model.h"

namespace wick::tok {
class Tokenizer;
}
namespace wick::constrain {
class Constraint;
}

namespace wick::gen {

struct GenerateOptions {
  int max_tokens = 256;
  SamplingParams sampling;
  std::vector<int32_t> eos_ids;           // stop when one is sampled (not emitted as text)
  std::vector<std::string> stop_strings;  // stop when the text contains one (cut before it)
  bool skip_special_tokens = true;        // in the streamed text
  // Output constrained to a grammar / JSON schema / regex (constrain/constraint.h): each step
  // samples only tokens it allows, EOS only where it may end. Never yields text outside it.
  std::shared_ptr<const constrain::Constraint> constraint;
};

enum class StopReason { kEos, kStopString, kMaxTokens, kCallback };
const char* stop_reason_name(StopReason r);

struct GenerateStats {
  int64_t prompt_tokens = 0;
  int64_t prefilled_tokens = 0;  // prompt tokens actually run (the rest came from the cache)
  int64_t generated_tokens = 0;
  double prefill_ms = 0;  // prompt forward + first sample: time to first token
  double decode_ms = 0;   // the remaining tokens
  double prefill_tokens_per_s() const;
  double decode_tokens_per_s() const;  // over generated_tokens - 1 steps
};

struct GenerateResult {
  std::vector<int32_t> ids;  // generated ids, EOS excluded
  std::string text;          // their text (empty without a tokenizer), stop string excluded
  StopReason reason = StopReason::kMaxTokens;
  // Per generated id when options.sampling.logprobs: from the model's raw distribution.
  std::vector<TokenLogprobs> logprobs{};
  GenerateStats stats;
};

// Called per generated token with the newly completed text (may be empty). Return false to stop.
using TokenCallback = std::function<bool(int32_t id, std::string_view text)>;

class Generator {
 public:
  // `tokenizer` may be null: ids only, no text and no stop strings.
  Generator(const models::Model& model, const tok::Tokenizer* tokenizer);

  GenerateResult generate(std::span<const int32_t> prompt, const GenerateOptions& options,
                          const TokenCallback& on_token = {});
  // The ids the cache holds (prompt and generated tokens of the previous calls).
  const std::vector<int32_t>& history() const { return history_; }
  void reset();

 private:
  void reuse_prefix(std::span<const int32_t> prompt);
  std::vector<float> forward(std::span<const int32_t> tokens);

  const models::Model& model_;
  const tok::Tokenizer* tokenizer_;
  nn::KvCache cache_;
  std::vector<int32_t> history_;
  static constexpr int kSeq = 0;
};

}  // namespace wick::gen
