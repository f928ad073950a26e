// Embeddings for POST /v1/embeddings: the mean over tokens of the model's final-norm hidden
// states (decoder models have no pooling head of their own), L2-normalised as OpenAI's are.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "models/model.h"

namespace wick::serve {

// (hidden_size) floats. Runs its own throwaway sequence; throws kUnsupported for models that
// cannot expose hidden states.
std::vector<float> mean_pooled_embedding(const models::Model& model,
                                         std::span<const int32_t> tokens);

}  // namespace wick::serve
