// Shared by `wick run` and `wick chat`: model, thread and sampling flags, the prompt-id parser
// and the stats line, so both commands spell their options the same way.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "generate/generator.h"

namespace wick::cli {

struct GenerationFlags {
  std::string model;
  int threads = 0;
  int max_tokens = 256;
  gen::SamplingParams sampling;
  int64_t seed = -1;  // -1: random
  std::vector<std::string> stop;
  bool ignore_eos = false;

  void add(CLI::App& sub) {
    sub.add_option("-m,--model", model, "HF folder (config.json + safetensors) or .gguf file")
        ->required();
    sub.add_option("-t,--threads", threads, "CPU threads (default: all cores)");
    sub.add_option("-n,--max-tokens", max_tokens, "most tokens to generate")->capture_default_str();
    sub.add_option("--temperature,--temp", sampling.temperature, "0 = greedy")
        ->capture_default_str();
    sub.add_option("--top-k", sampling.top_k, "0 = off")->capture_default_str();
    sub.add_option("--top-p", sampling.top_p, "1 = off")->capture_default_str();
    sub.add_option("--min-p", sampling.min_p, "0 = off")->capture_default_str();
    sub.add_option("--repeat-penalty", sampling.repeat_penalty, "1 = off")->capture_default_str();
    sub.add_option("--repeat-last-n", sampling.repeat_last_n, "history the penalty sees, 0 = all")
        ->capture_default_str();
    sub.add_option("--seed", seed, "sampling seed (default: random)");
    sub.add_option("--stop", stop, "stop when the output contains this string (repeatable)");
    sub.add_flag("--ignore-eos", ignore_eos, "keep generating past end-of-sequence tokens");
  }

  // Applies threads and the seed; returns generate options with the bundle's stop ids.
  gen::GenerateOptions options(const std::vector<int32_t>& eos_ids) {
    if (threads > 0) ThreadPool::set_global_threads(threads);
    gen::GenerateOptions o;
    o.max_tokens = max_tokens;
    o.sampling = sampling;
    o.sampling.seed = seed >= 0 ? static_cast<uint64_t>(seed) : std::random_device{}();
    o.stop_strings = stop;
    if (!ignore_eos) o.eos_ids = eos_ids;
    return o;
  }
};

// "1,2,3" (spaces allowed) -> ids.
inline std::vector<int32_t> parse_prompt_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ',' || text[i] == ' ')) ++i;
    if (i >= text.size()) break;
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(text.substr(i), &used);
    } catch (const std::exception&) {
      fail(ErrorKind::kInvalidArgument, "--prompt-ids: \"{}\" is not a comma-separated id list",
           text);
    }
    WICK_CHECK(v >= 0 && v <= INT32_MAX, ErrorKind::kInvalidArgument,
               "--prompt-ids: id {} out of range", v);
    ids.push_back(static_cast<int32_t>(v));
    i += used;
  }
  WICK_CHECK(!ids.empty(), ErrorKind::kInvalidArgument, "--prompt-ids: no ids in \"{}\"", text);
  return ids;
}

inline void print_stats(const gen::GenerateStats& s, gen::StopReason reason) {
  std::fprintf(
      stderr,
      "\n[prompt %lld tok (%lld run), prefill %.1f tok/s, decode %.1f tok/s over %lld tok, "
      "ttft %.1f ms, stop: %s]\n",
      static_cast<long long>(s.prompt_tokens), static_cast<long long>(s.prefilled_tokens),
      s.prefill_tokens_per_s(), s.decode_tokens_per_s(), static_cast<long long>(s.generated_tokens),
      s.prefill_ms, gen::stop_reason_name(reason));
}

}  // namespace wick::cli
