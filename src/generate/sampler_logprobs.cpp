// Logprobs of sampled and prompt tokens. They come from the model's own distribution,
// log_softmax(raw logits), before penalties, temperature or truncation (vLLM's default
// "raw_logprobs"): the number says how likely the model found the token, independent of the
// sampling settings. Alternatives are the top_n most likely tokens of that distribution.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "generate/sampler_internal.h"

namespace wick::gen {

TokenLogprobs token_logprobs(std::span<const float> logits, int32_t id, int top_n) {
  const size_t vocab = logits.size();
  WICK_CHECK(vocab > 0, ErrorKind::kInvalidArgument, "logprobs: empty logits");
  WICK_CHECK(id >= 0 && static_cast<size_t>(id) < vocab, ErrorKind::kInvalidArgument,
             "logprobs: token id {} is outside the vocabulary (size {})", id, vocab);
  WICK_CHECK(top_n >= 0, ErrorKind::kInvalidArgument, "top_logprobs must be >= 0, got {}", top_n);
  const float m = detail::max_value(logits);
  std::vector<float> e(logits.size());
  for (size_t i = 0; i < e.size(); ++i) e[i] = std::exp(logits[i] - m);
  const double lse = m + std::log(detail::sum_values(e));
  TokenLogprobs out;
  out.id = id;
  out.logprob = static_cast<float>(logits[static_cast<size_t>(id)] - lse);
  if (top_n == 0) return out;
  Candidates c = Candidates::from_logits(logits);
  sampler_top_k(c, top_n);
  for (size_t i = 0; i < c.size(); ++i)
    out.top.push_back({c.ids[i], static_cast<float>(c.values[i] - lse)});
  return out;
}

std::vector<TokenLogprobs> prompt_logprobs(std::span<const float> logits, size_t vocab,
                                           std::span<const int32_t> prompt, int top_n) {
  WICK_CHECK(vocab > 0 && logits.size() == prompt.size() * vocab, ErrorKind::kInvalidArgument,
             "prompt_logprobs: logits hold {} values, expected {} tokens x vocabulary {}",
             logits.size(), prompt.size(), vocab);
  std::vector<TokenLogprobs> out;
  for (size_t t = 0; t + 1 < prompt.size(); ++t)
    out.push_back(token_logprobs(logits.subspan(t * vocab, vocab), prompt[t + 1], top_n));
  return out;
}

}  // namespace wick::gen
