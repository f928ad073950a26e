// Mean-pooled, L2-normalised final hidden states (see embed.h).
#include "serve/embed.h"

#include <cmath>

#include "core/error.h"
#include "models/decoder.h"

namespace wick::serve {

std::vector<float> mean_pooled_embedding(const models::Model& model,
                                         std::span<const int32_t> tokens) {
  const auto* decoder = dynamic_cast<const models::Decoder*>(&model);
  WICK_CHECK(decoder, ErrorKind::kUnsupported, "embeddings: this model exposes no hidden states");
  // A throwaway cache without prefix caching: embedding inputs never disturb generation.
  nn::KvCacheOptions o;
  o.prefix_caching = false;
  o.device = model.device();
  nn::KvCache cache = model.make_cache(o);
  cache.add_sequence(0);
  const std::vector<float> h = decoder->hidden_states(tokens, cache, 0).to_float_vector();
  const auto hidden = static_cast<size_t>(model.config().hidden_size);
  const size_t n = tokens.size();
  std::vector<float> mean(hidden, 0.0f);
  for (size_t t = 0; t < n; ++t)
    for (size_t i = 0; i < hidden; ++i) mean[i] += h[t * hidden + i];
  double norm = 0;
  for (float& v : mean) {
    v /= static_cast<float>(n);
    norm += static_cast<double>(v) * v;
  }
  const auto scale = static_cast<float>(norm > 0 ? 1.0 / std::sqrt(norm) : 1.0);
  for (float& v : mean) v *= scale;
  return mean;
}

}  // namespace wick::serve
