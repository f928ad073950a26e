// Prefill + decode loop with stop criteria and streaming (see generator.h).
#include "generate/generator.h"

#include "constrain/constraint.h"

#include <algorithm>
#include <chrono>

#include "generate/stop_strings.h"
#include "tokenizer/tokenizer.h"

namespace wick::gen {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::kEos:
      return "eos";
    case StopReason::kStopString:
      return "stop_string";
    case StopReason::kMaxTokens:
      return "max_tokens";
    case StopReason::kCallback:
      return "callback";
  }
  return "?";
}

double GenerateStats::prefill_tokens_per_s() const {
  return prefill_ms > 0 ? 1000.0 * static_cast<double>(prefilled_tokens) / prefill_ms : 0;
}

double GenerateStats::decode_tokens_per_s() const {
  return decode_ms > 0 && generated_tokens > 1
             ? 1000.0 * static_cast<double>(generated_tokens - 1) / decode_ms
             : 0;
}

Generator::Generator(const models::Model& model, const tok::Tokenizer* tokenizer)
    : model_(model), tokenizer_(tokenizer), cache_(model.make_cache()) {
  cache_.add_sequence(kSeq);
}

void Generator::reset() {
  cache_.truncate(kSeq, 0);
  history_.clear();
}

// Keeps the cached tokens that prefix `prompt`, minus one so the last prompt token is always
// run (its logits pick the first new token).
void Generator::reuse_prefix(std::span<const int32_t> prompt) {
  size_t common = 0;
  while (common < history_.size() && common < prompt.size() && history_[common] == prompt[common])
    ++common;
  if (common == prompt.size()) --common;
  cache_.truncate(kSeq, static_cast<int64_t>(common));
  history_.resize(common);
}

std::vector<float> Generator::forward(std::span<const int32_t> tokens) {
  models::BatchItem item{kSeq, tokens};
  std::vector<float> logits = model_.forward({&item, 1}, cache_).to_float_vector();
  history_.insert(history_.end(), tokens.begin(), tokens.end());
  return logits;
}

GenerateResult Generator::generate(std::span<const int32_t> prompt, const GenerateOptions& options,
                                   const TokenCallback& on_token) {
  WICK_CHECK(!prompt.empty(), ErrorKind::kInvalidArgument, "generate: empty prompt");
  GenerateResult result;
  result.stats.prompt_tokens = static_cast<int64_t>(prompt.size());
  Sampler sampler(options.sampling, options.eos_ids, tokenizer_);
  std::optional<tok::StreamDecoder> decoder;
  if (tokenizer_) decoder.emplace(*tokenizer_, options.skip_special_tokens);
  StopStringFilter stops(options.stop_strings);

  // A constraint masks every step and follows every sampled token (constrain/constraint.h).
  std::optional<constrain::Matcher> matcher;
  std::vector<uint64_t> allowed;
  if (options.constraint) {
    matcher.emplace(options.constraint);
    allowed.resize(options.constraint->mask_words());
  }

  const auto t0 = Clock::now();
  reuse_prefix(prompt);
  const size_t cached = history_.size();
  result.stats.prefilled_tokens = static_cast<int64_t>(prompt.size() - cached);
  std::vector<float> logits = forward(prompt.subspan(cached));
  auto t_decode = Clock::now();
  bool done = false;
  while (!done) {
    if (static_cast<int>(result.ids.size()) >= options.max_tokens) break;
    if (matcher && matcher->is_accepting() && !matcher->can_continue()) {
      result.reason = StopReason::kEos;  // the grammar is complete: nothing more may follow
      break;
    }
    if (matcher) matcher->allowed_tokens(allowed);
    const int32_t id = sampler.sample(logits, history_, allowed);
    WICK_CHECK(!matcher || matcher->accept_token(id), ErrorKind::kInternal,
               "generate: sampled token {} outside the constraint's mask", id);
    if (result.ids.empty()) {
      result.stats.prefill_ms = ms_since(t0);
      t_decode = Clock::now();
    }
    if (std::find(options.eos_ids.begin(), options.eos_ids.end(), id) != options.eos_ids.end()) {
      result.reason = StopReason::kEos;
      break;
    }
    result.ids.push_back(id);
    if (options.sampling.logprobs)
      result.logprobs.push_back(token_logprobs(logits, id, options.sampling.top_logprobs));
    std::string text;
    if (decoder) {
      bool hit = false;
      if (std::optional<std::string> delta = decoder->step(id)) text = stops.push(*delta, hit);
      if (hit) {
        result.reason = StopReason::kStopString;
        done = true;
      }
    }
    result.text += text;
    if (on_token && !on_token(id, text)) {
      result.reason = StopReason::kCallback;
      done = true;
    }
    if (!done && static_cast<int>(result.ids.size()) < options.max_tokens)
      logits = forward(std::span<const int32_t>(&result.ids.back(), 1));
  }
  if (result.reason != StopReason::kStopString) {
    std::string rest = stops.flush();
    if (!rest.empty()) {
      result.text += rest;
      if (on_token) on_token(-1, rest);
    }
  }
  result.stats.generated_tokens = static_cast<int64_t>(result.ids.size());
  result.stats.decode_ms = result.ids.empty() ? 0 : ms_since(t_decode);
  return result;
}

}  // namespace wick::gen
