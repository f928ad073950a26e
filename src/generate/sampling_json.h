// Sampling parameters from a request body: the names of OpenAI, llama.cpp's server, vLLM and
// transformers, and Ollama's `options` object (read after the top level, so it wins). Unknown
// names are ignored (the server reads max_tokens, n, stop, stream, ... itself); null counts as
// absent. A known name with a wrong type or an out-of-range value throws
// Error(kInvalidArgument) naming the field, e.g. `field "top_p": expected a number in [0, 1]`.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "generate/sampler.h"

namespace wick::gen {

// Overwrites the fields of `params` named in `body` (a JSON object) and leaves the others.
void sampling_from_json(const nlohmann::json& body, SamplingParams& params);

}  // namespace wick::gen
