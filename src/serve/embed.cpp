// Mean-pooled, L2-normalised final hidden states (see embed.h).
#include "serve/embed.h"

#include "core/error.h"

namespace wick::serve {

std::vector<float> mean_pooled_embedding(const models::Model& model,
                                         std::span<const int32_t> tokens) {
  (void)model;
  (void)tokens;
  fail(ErrorKind::kUnsupported, "embeddings: this build cannot read hidden states yet");
}

}  // namespace wick::serve
