// `wick perplexity` as a library, the way llama.cpp's llama-perplexity measures it: the token
// stream is cut into chunks of n_ctx tokens, each chunk runs in one forward from an empty cache
// (its first token replaced by BOS when the model has one), and the second half of each chunk is
// scored (every position there has at least n_ctx/2 tokens of context). Perplexity is
// exp(mean negative log-likelihood) over all scored tokens.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "models/model.h"

namespace wick::tools {

struct PerplexityResult {
  double perplexity = 0;
  double mean_nll = 0;              // nats per scored token
  double nll_stderr = 0;            // standard error of mean_nll
  int64_t n_scored = 0;
  std::vector<double> chunk_perplexity;  // running perplexity after each chunk
  double seconds = 0;
};

// Throws kInvalidArgument when `tokens` holds less than one chunk or n_ctx < 4.
PerplexityResult perplexity(const models::Model& model, std::span<const int32_t> tokens,
                            int64_t n_ctx, std::optional<int32_t> bos);

}  // namespace wick::tools
