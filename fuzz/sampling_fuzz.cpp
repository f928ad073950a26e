// libFuzzer target for request sampling parameters: the input is a JSON request body, parsed
// by gen::sampling_from_json, and a Sampler built from the result draws a few tokens (with a
// constraint mask taken from the input) over a fixed 100-token vocabulary. Any wick::Error is
// fine; crashes, sanitizer reports, other exceptions and a token outside the mask are bugs.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/error.h"
#include "generate/sampler.h"
#include "generate/sampling_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json body = nlohmann::json::parse(data, data + size, nullptr, false);
  if (body.is_discarded()) return 0;
  wick::gen::SamplingParams params;
  try {
    wick::gen::sampling_from_json(body, params);
  } catch (const wick::Error&) {
    return 0;
  }
  std::vector<float> logits(100);
  for (size_t i = 0; i < logits.size(); ++i)
    logits[i] = static_cast<float>(std::sin(static_cast<double>(i) * 1.7) * 8);
  logits[7] = -INFINITY;
  uint64_t hash = 1469598103934665603ull;  // FNV-1a of the input: the mask
  for (size_t i = 0; i < size; ++i) hash = (hash ^ data[i]) * 1099511628211ull;
  const std::vector<uint64_t> mask = {hash, (hash >> 7) | 1};
  const std::vector<int32_t> eos = {2};
  std::vector<int32_t> history = {1, 2, 3, 1, 2};
  try {
    wick::gen::Sampler sampler(params, eos);
    for (int step = 0; step < 4; ++step) {
      const int32_t id = sampler.sample(logits, history, mask);
      if (id < 0 || id >= 100 || !(mask[static_cast<size_t>(id) / 64] >> (id % 64) & 1))
        std::abort();
      history.push_back(id);
    }
  } catch (const wick::Error&) {
  }
  return 0;
}
