// Tokenizer speed on the real tokenizers of ../shared: load time (tokenizer.json already in
// memory, as `tokenizers.Tokenizer.from_str` gets it; and from the GGUF models in models/), and
// encode / decode throughput over the golden corpus of scripts/tokenizer_golden.py (the texts of
// tests/data/tokenizer/golden_<name>.json). scripts/tokenizer_speed.py measures the `tokenizers`
// package on the same inputs. Compare the CPU column: the machine may be shared.
// Run: build/<dir>/bench/tokenizer_bench --benchmark_filter='Load|EncodeDoc'
#include <benchmark/benchmark.h>

#include <filesystem>
#include <map>
#include <memory>

#include "../tests/tokenizer/tokenizer_files.h"
#include "formats/gguf.h"
#include "generate/gguf_tokenizer.h"

namespace {

using wick::tok::Tokenizer;

const Tokenizer* tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[name];
  if (!slot) {
    const auto json = wick::tok::testing::tokenizer_json(name);
    if (json) slot = std::make_unique<Tokenizer>(Tokenizer::from_json(*json, name));
  }
  return slot.get();
}

// The golden texts for `name` (empty when the file is missing).
const std::vector<std::string>& corpus(const std::string& name) {
  static std::map<std::string, std::vector<std::string>> cache;
  auto& texts = cache[name];
  if (texts.empty()) {
    namespace t = wick::tok::testing;
    if (const auto data = t::read_file(t::test_data_dir() + "/golden_" + name + ".json")) {
      const auto golden = nlohmann::json::parse(*data);
      for (const auto& c : golden["cases"]) texts.push_back(c["text"]);
    }
  }
  return texts;
}

// All golden texts joined by "\n": one document, so per-call overhead does not count.
std::string document(const std::string& name) {
  std::string doc;
  for (const std::string& t : corpus(name)) {
    if (!doc.empty()) doc += '\n';
    doc += t;
  }
  return doc;
}

// 10^6 bytes per CPU second, the unit scripts/tokenizer_speed.py prints (bytes_per_second is
// in MiB).
benchmark::Counter mb_per_s(size_t bytes) {
  return benchmark::Counter(static_cast<double>(bytes) / 1e6, benchmark::Counter::kIsRate);
}

void BM_EncodeDoc(benchmark::State& state, const std::string& name) {
  const Tokenizer* tok = tokenizer(name);
  const std::string text = document(name);
  if (tok == nullptr || text.empty()) return state.SkipWithError("tokenizer or golden data absent");
  size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = tok->encode(text, false);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.counters["MB/s"] = mb_per_s(state.iterations() * text.size());
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(state.iterations() * tokens),
                                                  benchmark::Counter::kIsRate);
}

// One encode call per golden text (many are short: this includes per-call costs).
void BM_EncodeTexts(benchmark::State& state, const std::string& name) {
  const Tokenizer* tok = tokenizer(name);
  const auto& texts = corpus(name);
  if (tok == nullptr || texts.empty())
    return state.SkipWithError("tokenizer or golden data absent");
  size_t bytes = 0;
  for (const std::string& t : texts) bytes += t.size();
  for (auto _ : state)
    for (const std::string& t : texts) benchmark::DoNotOptimize(tok->encode(t, false).data());
  state.counters["MB/s"] = mb_per_s(state.iterations() * bytes);
}

void BM_Decode(benchmark::State& state, const std::string& name) {
  const Tokenizer* tok = tokenizer(name);
  const std::string text = document(name);
  if (tok == nullptr || text.empty()) return state.SkipWithError("tokenizer or golden data absent");
  const auto ids = tok->encode(text, false);
  for (auto _ : state) benchmark::DoNotOptimize(tok->decode(ids));
  state.counters["tokens/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * ids.size()), benchmark::Counter::kIsRate);
}

// Parse + build + destroy, from the JSON text in memory (reading / xz is not timed).
void BM_Load(benchmark::State& state, const std::string& name) {
  const auto json = wick::tok::testing::tokenizer_json(name);
  if (!json) return state.SkipWithError("tokenizer data not found (../shared)");
  for (auto _ : state) benchmark::DoNotOptimize(Tokenizer::from_json(*json, name));
}

// What `wick run` does: read tokenizer.ggml.* from the (mapped) GGUF and build the tokenizer.
void BM_LoadGguf(benchmark::State& state, const std::string& file) {
  const std::string path = std::string(WICK_SOURCE_DIR) + "/models/" + file;
  if (!std::filesystem::exists(path)) return state.SkipWithError("model absent (fetch-models.sh)");
  const auto gguf = wick::GgufFile::open(path);
  for (auto _ : state) benchmark::DoNotOptimize(wick::gen::gguf_tokenizer(*gguf));
}

// The Gemma 3 GGUF has no merge list: its merge ranks are derived from scores while encoding.
void BM_EncodeDocGguf(benchmark::State& state, const std::string& file, const std::string& name) {
  const std::string path = std::string(WICK_SOURCE_DIR) + "/models/" + file;
  const std::string text = document(name);
  if (!std::filesystem::exists(path) || text.empty())
    return state.SkipWithError("model or golden data absent");
  const Tokenizer tok = wick::gen::gguf_tokenizer(*wick::GgufFile::open(path));
  for (auto _ : state) benchmark::DoNotOptimize(tok.encode(text, false).data());
  state.counters["MB/s"] = mb_per_s(state.iterations() * text.size());
}

#define WICK_TOKENIZER_BENCH(name)                                                            \
  BENCHMARK_CAPTURE(BM_EncodeDoc, name, std::string(#name))->Unit(benchmark::kMillisecond);   \
  BENCHMARK_CAPTURE(BM_EncodeTexts, name, std::string(#name))->Unit(benchmark::kMillisecond); \
  BENCHMARK_CAPTURE(BM_Decode, name, std::string(#name))->Unit(benchmark::kMillisecond);      \
  BENCHMARK_CAPTURE(BM_Load, name, std::string(#name))                                        \
      ->Unit(benchmark::kMillisecond)                                                         \
      ->Iterations(5);

WICK_TOKENIZER_BENCH(llama2)
WICK_TOKENIZER_BENCH(llama3)
WICK_TOKENIZER_BENCH(qwen3)
WICK_TOKENIZER_BENCH(gemma3)
WICK_TOKENIZER_BENCH(deepseek_v3)
WICK_TOKENIZER_BENCH(gptoss)
WICK_TOKENIZER_BENCH(gpt2)

BENCHMARK_CAPTURE(BM_LoadGguf, gemma3_270m, std::string("gemma-3-270m-q4_k_m.gguf"))
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);
BENCHMARK_CAPTURE(BM_EncodeDocGguf, gemma3_270m, std::string("gemma-3-270m-q4_k_m.gguf"),
                  std::string("gemma3"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LoadGguf, smollm2_135m, std::string("SmolLM2-135M-Instruct.Q4_1.gguf"))
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
