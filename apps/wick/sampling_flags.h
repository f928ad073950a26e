// Shared by `wick run` and `wick chat`: model, thread and sampling flags, the prompt-id parser
// and the stats line, so both commands spell their options the same way.
#pragma once

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "device_flag.h"
#include "generate/generator.h"

namespace wick::cli {

struct GenerationFlags {
  std::string model;
  DeviceFlag device;
  int threads = 0;
  int max_tokens = 256;
  gen::SamplingParams sampling;
  int64_t seed = -1;  // -1: random
  std::vector<std::string> stop;
  bool ignore_eos = false;
  std::vector<std::string> dry_breakers;
  std::vector<std::string> logit_bias;
  std::string samplers;

  void add(CLI::App& sub) {
    sub.add_option("-m,--model", model, "HF folder (config.json + safetensors) or .gguf file")
        ->required();
    sub.add_option("-t,--threads", threads, "CPU threads (default: all cores)");
    device.add(sub);
    sub.add_option("-n,--max-tokens", max_tokens, "most tokens to generate")->capture_default_str();
    sub.add_option("--temperature,--temp", sampling.temperature, "0 = greedy")
        ->capture_default_str();
    add_sampling_flags(sub);
    sub.add_option("--seed", seed, "sampling seed (default: random)");
    sub.add_option("--stop", stop, "stop when the output contains this string (repeatable)");
    sub.add_flag("--ignore-eos", ignore_eos, "never sample end-of-sequence tokens (llama.cpp)");
  }

  // The sampler chain's flags, named as llama.cpp's (see docs/sampling.md).
  void add_sampling_flags(CLI::App& sub) {
    gen::SamplingParams& p = sampling;
    const auto unit = CLI::Range(0.0f, 1.0f);
    sub.add_option("--top-k", p.top_k, "0 = off")->capture_default_str();
    sub.add_option("--top-p", p.top_p, "1 = off")->check(unit)->capture_default_str();
    sub.add_option("--min-p", p.min_p, "0 = off")->check(unit)->capture_default_str();
    sub.add_option("--typical", p.typical_p, "locally typical p, 1 = off")
        ->check(CLI::Range(0.0f, 1.0f))
        ->capture_default_str();
    sub.add_option("--top-nsigma,--top-n-sigma", p.top_n_sigma, "<= 0 = off")
        ->capture_default_str();
    sub.add_option("--epsilon-cutoff", p.epsilon_cutoff, "0 = off")->check(unit);
    sub.add_option("--eta-cutoff", p.eta_cutoff, "0 = off")->check(unit);
    sub.add_option("--xtc-probability", p.xtc_probability, "0 = off")->check(unit);
    sub.add_option("--xtc-threshold", p.xtc_threshold, "> 0.5 = off")->capture_default_str();
    sub.add_option("--repeat-penalty", p.repeat_penalty, "1 = off (multiplicative, HF)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    sub.add_option("--repeat-last-n", p.repeat_last_n, "penalty window, -1 = all, 0 = off")
        ->check(CLI::Range(-1, INT32_MAX))
        ->capture_default_str();
    sub.add_option("--presence-penalty", p.presence_penalty, "0 = off (additive, OpenAI)");
    sub.add_option("--frequency-penalty", p.frequency_penalty, "0 = off (additive, OpenAI)");
    sub.add_option("--dry-multiplier", p.dry_multiplier, "DRY, 0 = off")
        ->check(CLI::NonNegativeNumber);
    sub.add_option("--dry-base", p.dry_base, "DRY base")
        ->check(CLI::Range(1.0f, 1e9f))
        ->capture_default_str();
    sub.add_option("--dry-allowed-length", p.dry_allowed_length, "DRY: free repeat length")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    sub.add_option("--dry-penalty-last-n", p.dry_penalty_last_n, "DRY window, -1 = all, 0 = off")
        ->check(CLI::Range(-1, INT32_MAX));
    sub.add_option("--dry-sequence-breaker", dry_breakers,
                   "DRY sequence breaker (repeatable; 'none' = no breakers)");
    sub.add_option("--dynatemp-range", p.dynatemp_range, "dynamic temperature, 0 = off")
        ->check(CLI::NonNegativeNumber);
    sub.add_option("--dynatemp-exp", p.dynatemp_exponent, "dynamic temperature exponent")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    sub.add_option("--mirostat", p.mirostat, "0 = off, 1 = v1, 2 = v2")->check(CLI::Range(0, 2));
    sub.add_option("--mirostat-lr", p.mirostat_eta, "mirostat eta")->capture_default_str();
    sub.add_option("--mirostat-ent", p.mirostat_tau, "mirostat tau")->capture_default_str();
    sub.add_option("--min-keep", p.min_keep, "truncations keep at least this many")
        ->check(CLI::NonNegativeNumber);
    sub.add_option("--min-tokens", p.min_tokens, "no end-of-sequence before this many tokens")
        ->check(CLI::NonNegativeNumber);
    sub.add_option("-l,--logit-bias", logit_bias, "TOKEN_ID+BIAS, TOKEN_ID-BIAS or TOKEN_ID-inf");
    sub.add_option("--samplers", samplers, "stage order, e.g. \"penalties;top_k;temperature\"");
    sub.add_option("--sampling-seq,--sampler-seq", samplers, "stage order as letters: edskypmxt");
  }

  // Applies threads and the seed; returns generate options with the bundle's stop ids.
  gen::GenerateOptions options(const std::vector<int32_t>& eos_ids) {
    if (threads > 0) ThreadPool::set_global_threads(threads);
    gen::GenerateOptions o;
    o.max_tokens = max_tokens;
    o.sampling = sampling;
    o.sampling.seed = seed >= 0 ? static_cast<uint64_t>(seed) : std::random_device{}();
    o.stop_strings = stop;
    o.eos_ids = eos_ids;  // with --ignore-eos the sampler bans them instead
    o.sampling.ignore_eos = ignore_eos;
    if (!samplers.empty()) o.sampling.samplers = gen::parse_sampler_stages(samplers);
    if (!dry_breakers.empty()) o.sampling.dry_sequence_breakers.clear();
    for (const std::string& b : dry_breakers)
      if (b != "none") o.sampling.dry_sequence_breakers.push_back(b);
    for (const std::string& b : logit_bias) o.sampling.logit_bias.push_back(parse_logit_bias(b));
    return o;
  }

  // llama.cpp's --logit-bias: "15043+1", "15043-0.5", "15043-inf".
  static std::pair<int32_t, float> parse_logit_bias(const std::string& text) {
    const size_t sign = text.find_first_of("+-", 1);
    long long id = -1;
    float bias = NAN;
    if (sign != std::string::npos) {
      try {
        size_t used = 0;
        id = std::stoll(text.substr(0, sign), &used);
        if (used != sign) id = -1;
        const std::string value = text.substr(sign + 1);
        bias = value == "inf" ? INFINITY : std::stof(value, &used);
        if (value != "inf" && used != value.size()) bias = NAN;
        if (text[sign] == '-') bias = -bias;
      } catch (const std::exception&) {
        id = -1;
      }
    }
    WICK_CHECK(id >= 0 && id <= INT32_MAX && !std::isnan(bias), ErrorKind::kInvalidArgument,
               "--logit-bias: \"{}\" is not TOKEN_ID+BIAS, TOKEN_ID-BIAS or TOKEN_ID-inf", text);
    return {static_cast<int32_t>(id), bias};
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
