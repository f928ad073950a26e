// Logprobs of sampled and prompt tokens. They come from the model's own distribution,
// log_softmax(raw logits), before penalties, temperature or truncation (vLLM's default
// "raw_logprobs"): the number says how likely the model found the token, independent of the
// sampling settings. Alternatives are the top_n most likely tokens of that distribution.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "generate/sampler_internal.h"
#include "models/model.h"

namespace wick::gen {

namespace {
float exp_or_zero(float x) {
  return std::isnan(x) ? 0.0f : std::exp(x);
}  // NaN logits: p = 0
}  // namespace

TokenLogprobs token_logprobs(std::span<const float> logits, int32_t id, int top_n) {
  const size_t vocab = logits.size();
  WICK_CHECK(vocab > 0, ErrorKind::kInvalidArgument, "logprobs: empty logits");
  WICK_CHECK(id >= 0 && static_cast<size_t>(id) < vocab, ErrorKind::kInvalidArgument,
             "logprobs: token id {} is outside the vocabulary (size {})", id, vocab);
  WICK_CHECK(top_n >= 0, ErrorKind::kInvalidArgument, "top_logprobs must be >= 0, got {}", top_n);
  const float m = detail::max_value(logits);
  double lanes[4] = {0, 0, 0, 0};  // no copy of the vocabulary, no serial add chain
  size_t i = 0;
  for (; i + 4 <= vocab; i += 4)
    for (size_t j = 0; j < 4; ++j) lanes[j] += exp_or_zero(logits[i + j] - m);
  for (; i < vocab; ++i) lanes[0] += exp_or_zero(logits[i] - m);
  const double lse = m + std::log((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]));
  TokenLogprobs out;
  out.id = id;
  out.logprob = static_cast<float>(logits[static_cast<size_t>(id)] - lse);
  if (top_n == 0) return out;
  // The top_n best (value, id) pairs through a heap over the logits themselves.
  using Item = std::pair<float, int32_t>;
  auto worse_first = [](const Item& a, const Item& b) {
    return detail::better(a.first, a.second, b.first, b.second);
  };
  std::vector<Item> heap;
  const size_t n = std::min(vocab, static_cast<size_t>(top_n));
  for (size_t k = 0; k < vocab; ++k) {
    const float v = std::isnan(logits[k]) ? -HUGE_VALF : logits[k];  // keep the order strict
    const Item item{v, static_cast<int32_t>(k)};
    if (heap.size() < n) {
      heap.push_back(item);
      std::push_heap(heap.begin(), heap.end(), worse_first);
    } else if (item.first > heap.front().first) {  // ties keep the lower id already there
      std::pop_heap(heap.begin(), heap.end(), worse_first);
      heap.back() = item;
      std::push_heap(heap.begin(), heap.end(), worse_first);
    }
  }
  std::sort_heap(heap.begin(), heap.end(), worse_first);
  for (const Item& it : heap) out.top.push_back({it.second, static_cast<float>(it.first - lse)});
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

std::vector<TokenLogprobs> model_prompt_logprobs(const models::Model& model,
                                                 std::span<const int32_t> prompt, int top_n) {
  WICK_CHECK(!prompt.empty(), ErrorKind::kInvalidArgument, "prompt_logprobs: empty prompt");
  nn::KvCache cache = model.make_cache();
  cache.add_sequence(0);
  const models::BatchItem item{0, prompt, true};
  const std::vector<float> logits = model.forward({&item, 1}, cache).to_float_vector();
  return prompt_logprobs(logits, logits.size() / prompt.size(), prompt, top_n);
}

}  // namespace wick::gen
