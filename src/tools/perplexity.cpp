// Chunked perplexity (see perplexity.h).
#include "tools/perplexity.h"

#include <chrono>
#include <cmath>

#include "core/error.h"

namespace wick::tools {

PerplexityResult perplexity(const models::Model& model, std::span<const int32_t> tokens,
                            int64_t n_ctx, std::optional<int32_t> bos) {
  WICK_CHECK(n_ctx >= 4, ErrorKind::kInvalidArgument, "perplexity: context {} is below 4 tokens",
             n_ctx);
  const auto n_chunks = static_cast<int64_t>(tokens.size()) / n_ctx;
  WICK_CHECK(n_chunks >= 1, ErrorKind::kInvalidArgument,
             "perplexity: the text has {} tokens, one chunk needs {} (lower --ctx-size)",
             tokens.size(), n_ctx);
  const auto start = std::chrono::steady_clock::now();
  PerplexityResult r;
  double sum = 0, sum_sq = 0;
  const int64_t first = n_ctx / 2;
  for (int64_t c = 0; c < n_chunks; ++c) {
    std::vector<int32_t> chunk(tokens.begin() + c * n_ctx, tokens.begin() + (c + 1) * n_ctx);
    if (bos) chunk[0] = *bos;
    nn::KvCache cache = model.make_cache();
    cache.add_sequence(0);
    const models::BatchItem item{0, chunk, true};
    const Tensor logits = model.forward({&item, 1}, cache);  // (n_ctx, vocab)
    const std::vector<float> rows = logits.to_float_vector();
    const int64_t vocab = logits.dim(1);
    for (int64_t i = first; i + 1 < n_ctx; ++i) {
      const float* row = rows.data() + i * vocab;
      double max = row[0];
      for (int64_t v = 1; v < vocab; ++v) max = std::max(max, static_cast<double>(row[v]));
      double z = 0;
      for (int64_t v = 0; v < vocab; ++v) z += std::exp(static_cast<double>(row[v]) - max);
      const int32_t next = tokens[static_cast<size_t>(c * n_ctx + i + 1)];
      const double nll = -(static_cast<double>(row[next]) - max - std::log(z));
      sum += nll;
      sum_sq += nll * nll;
      ++r.n_scored;
    }
    r.chunk_perplexity.push_back(std::exp(sum / static_cast<double>(r.n_scored)));
  }
  const auto n = static_cast<double>(r.n_scored);
  r.mean_nll = sum / n;
  r.perplexity = std::exp(r.mean_nll);
  const double var = std::max(0.0, sum_sq / n - r.mean_nll * r.mean_nll);
  r.nll_stderr = n > 1 ? std::sqrt(var / (n - 1)) : 0.0;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace wick::tools
