// Sampler cost per token for a 151936-token vocabulary (Qwen2/3): greedy, the default chain
// (top-k 40, top-p, min-p, temperature), the default chain under a constraint mask, top-p with
// top-k off (the growing sorted prefix instead of a full sort), the llama.cpp-style chain with
// penalties and DRY over a 256-token history, and logprobs with 5 alternatives.
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "generate/rng.h"
#include "generate/sampler.h"

namespace {

using namespace wick::gen;

constexpr size_t kVocab = 151936;

// Logits shaped like a real model's: mostly around 0 with a heavy upper tail.
std::vector<float> make_logits() {
  Rng rng(7);
  std::vector<float> logits(kVocab);
  for (float& l : logits) {
    const double u = rng.uniform() + 1e-12;
    l = static_cast<float>(-std::log(u) * 1.5 - 3.0);  // exponential tail
  }
  return logits;
}

std::vector<int32_t> make_history(size_t n) {
  Rng rng(9);
  std::vector<int32_t> h(n);
  for (int32_t& id : h) id = static_cast<int32_t>(rng.next_u64() % 2000);  // repeats likely
  return h;
}

void run(benchmark::State& state, const SamplingParams& p, const std::vector<uint64_t>& mask = {},
         size_t history_tokens = 64) {
  const std::vector<float> logits = make_logits();
  const std::vector<int32_t> history = make_history(history_tokens);
  Sampler s(p);
  for (auto _ : state) benchmark::DoNotOptimize(s.sample(logits, history, mask));
}

void BM_Greedy(benchmark::State& state) {
  SamplingParams p;
  p.temperature = 0;
  run(state, p);
}

void BM_DefaultChain(benchmark::State& state) {
  run(state, SamplingParams{});
}

void BM_DefaultChainWithMask(benchmark::State& state) {
  std::vector<uint64_t> mask((kVocab + 63) / 64);
  Rng rng(3);
  for (uint64_t& w : mask) w = rng.next_u64() & rng.next_u64();  // ~1/4 of the tokens allowed
  run(state, SamplingParams{}, mask);
}

void BM_TopPWithoutTopK(benchmark::State& state) {
  SamplingParams p;
  p.top_k = 0;
  p.min_p = 0;
  run(state, p);
}

void BM_PenaltiesDryChain(benchmark::State& state) {
  SamplingParams p;
  p.repeat_penalty = 1.1f;
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.5f;
  p.repeat_last_n = 256;
  p.dry_multiplier = 0.8f;
  p.samplers = parse_sampler_stages("penalties;dry;top_k;typ_p;top_p;min_p;xtc;temperature");
  p.typical_p = 0.95f;
  p.xtc_probability = 0.5f;
  run(state, p, {}, 256);
}

void BM_Logprobs5(benchmark::State& state) {
  const std::vector<float> logits = make_logits();
  for (auto _ : state) benchmark::DoNotOptimize(token_logprobs(logits, 17, 5));
}

BENCHMARK(BM_Greedy)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DefaultChain)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DefaultChainWithMask)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TopPWithoutTopK)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PenaltiesDryChain)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Logprobs5)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
