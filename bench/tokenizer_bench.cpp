// Tokenizer throughput: encode and decode of a mixed English / code / multilingual text with the
// real tokenizers of ../shared (load once per tokenizer), and tokenizer.json load time.
// Run: build/<dir>/bench/tokenizer_bench --benchmark_filter=Encode
#include <benchmark/benchmark.h>

#include <map>
#include <memory>

#include "../tests/tokenizer/tokenizer_files.h"

namespace {

using wick::tok::Tokenizer;

// About 9 KB: prose, code, numbers, CJK, emoji; repeated pieces vary so caches don't help.
std::string corpus() {
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += "The quick brown fox " + std::to_string(i * 7919) +
            " jumps over the lazy dog; it's not what we'd expect.\n";
    text += "def f" + std::to_string(i) + "(x):\n    return x ** 2 + " + std::to_string(i) + "\n";
    text += i % 3 == 0   ? "你好，世界！今天天气很好。"
            : i % 3 == 1 ? "Привет, мир! 😀👍 "
                         : "café naïve résumé ";
  }
  return text;
}

const Tokenizer* tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[name];
  if (!slot) {
    const auto json = wick::tok::testing::tokenizer_json(name);
    if (json) slot = std::make_unique<Tokenizer>(Tokenizer::from_json(*json, name));
  }
  return slot.get();
}

void BM_Encode(benchmark::State& state, const std::string& name) {
  const Tokenizer* tok = tokenizer(name);
  if (tok == nullptr) return state.SkipWithError("tokenizer data not found (../shared)");
  const std::string text = corpus();
  size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = tok->encode(text, false);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(state.iterations() * tokens),
                                                  benchmark::Counter::kIsRate);
}

void BM_Decode(benchmark::State& state, const std::string& name) {
  const Tokenizer* tok = tokenizer(name);
  if (tok == nullptr) return state.SkipWithError("tokenizer data not found (../shared)");
  const auto ids = tok->encode(corpus(), false);
  for (auto _ : state) benchmark::DoNotOptimize(tok->decode(ids));
  state.counters["tokens/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * ids.size()), benchmark::Counter::kIsRate);
}

void BM_Load(benchmark::State& state, const std::string& name) {
  const auto json = wick::tok::testing::tokenizer_json(name);
  if (!json) return state.SkipWithError("tokenizer data not found (../shared)");
  for (auto _ : state) benchmark::DoNotOptimize(Tokenizer::from_json(*json, name));
}

#define WICK_TOKENIZER_BENCH(name)                                                       \
  BENCHMARK_CAPTURE(BM_Encode, name, std::string(#name))->Unit(benchmark::kMicrosecond); \
  BENCHMARK_CAPTURE(BM_Decode, name, std::string(#name))->Unit(benchmark::kMicrosecond); \
  BENCHMARK_CAPTURE(BM_Load, name, std::string(#name))                                   \
      ->Unit(benchmark::kMillisecond)                                                    \
      ->Iterations(2);

WICK_TOKENIZER_BENCH(llama2)
WICK_TOKENIZER_BENCH(llama3)
WICK_TOKENIZER_BENCH(qwen3)
WICK_TOKENIZER_BENCH(gemma3)
WICK_TOKENIZER_BENCH(deepseek_v3)
WICK_TOKENIZER_BENCH(gptoss)
WICK_TOKENIZER_BENCH(gpt2)

}  // namespace

BENCHMARK_MAIN();
