// Opening model files: GGUF and safetensors are memory-mapped and only headers are parsed, so the
// time to open should not grow with the file size. Files of 2 MiB and 2 GiB (sparse: tensor data
// is a file hole) are generated once in $TMPDIR/wick_formats_bench; the GGUF "vocab" case adds a
// 262k-entry token list with scores and types, the metadata a Gemma-3 tokenizer carries.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "formats/safetensors.h"

namespace {

namespace fs = std::filesystem;

fs::path bench_dir() {
  const char* tmp = std::getenv("TMPDIR");
  fs::path dir = fs::path(tmp != nullptr ? tmp : "/tmp") / "wick_formats_bench";
  fs::create_directories(dir);
  return dir;
}

// A llama-like layout: `layers` blocks of 9 tensors, f16, sized to reach total_bytes.
std::string make_gguf(const std::string& name, uint64_t total_bytes, bool vocab) {
  const std::string path = (bench_dir() / name).string();
  if (fs::exists(path)) return path;
  wick::GgufWriter w;
  w.add_string("general.architecture", "llama");
  if (vocab) {
    std::vector<std::string> tokens(262144);
    for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = "token_" + std::to_string(i);
    const std::vector<float> scores(tokens.size(), -1.0f);
    const std::vector<int32_t> types(tokens.size(), 1);
    w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
    w.add_array("tokenizer.ggml.scores", std::span<const float>(scores));
    w.add_array("tokenizer.ggml.token_type", std::span<const int32_t>(types));
  }
  const int layers = 32;
  const int64_t cols = 1024;
  const int64_t rows = static_cast<int64_t>(total_bytes / (layers * 9) / (cols * 2));
  const std::vector<int64_t> shape = {std::max<int64_t>(rows, 1), cols};
  for (int l = 0; l < layers; ++l) {
    for (const char* t : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up",
                          "ffn_down", "attn_norm", "ffn_norm"}) {
      w.add_zero_tensor("blk." + std::to_string(l) + "." + t + ".weight", wick::DType::kF16, shape);
    }
  }
  w.write(path);
  return path;
}

std::string make_safetensors(const std::string& name, uint64_t total_bytes) {
  const std::string path = (bench_dir() / name).string();
  if (fs::exists(path)) return path;
  const int n_tensors = 32 * 9;
  const uint64_t per = total_bytes / n_tensors / 2048 * 2048;
  nlohmann::json header = {{"__metadata__", {{"format", "pt"}}}};
  for (int i = 0; i < n_tensors; ++i) {
    header["model.layers." + std::to_string(i / 9) + ".t" + std::to_string(i % 9) + ".weight"] = {
        {"dtype", "BF16"},
        {"shape", {per / 2048, 1024}},
        {"data_offsets", {per * static_cast<uint64_t>(i), per * static_cast<uint64_t>(i + 1)}}};
  }
  const std::string text = header.dump();
  const uint64_t n = text.size();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(&n, 8, 1, f);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fflush(f);
  if (::ftruncate(fileno(f), static_cast<off_t>(8 + n + per * n_tensors)) != 0)
    std::perror(path.c_str());
  std::fclose(f);
  return path;
}

constexpr uint64_t kSmall = 2ull << 20;
constexpr uint64_t kLarge = 2ull << 30;

void BM_GgufOpen(benchmark::State& state) {
  const uint64_t size = state.range(0) != 0 ? kLarge : kSmall;
  const std::string path =
      make_gguf(state.range(0) != 0 ? "large.gguf" : "small.gguf", size, false);
  for (auto _ : state) {
    auto f = wick::GgufFile::open(path);
    benchmark::DoNotOptimize(f->tensors().size());
  }
  state.counters["file_MiB"] = static_cast<double>(fs::file_size(path)) / (1 << 20);
}
BENCHMARK(BM_GgufOpen)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_GgufOpenWithVocab262k(benchmark::State& state) {
  const std::string path = make_gguf("vocab.gguf", kLarge, true);
  for (auto _ : state) {
    auto f = wick::GgufFile::open(path);
    benchmark::DoNotOptimize(f->get_string_array("tokenizer.ggml.tokens").size());
  }
  state.counters["file_MiB"] = static_cast<double>(fs::file_size(path)) / (1 << 20);
}
BENCHMARK(BM_GgufOpenWithVocab262k)->Unit(benchmark::kMillisecond);

void BM_SafetensorsOpen(benchmark::State& state) {
  const uint64_t size = state.range(0) != 0 ? kLarge : kSmall;
  const std::string path =
      make_safetensors(state.range(0) != 0 ? "large.safetensors" : "small.safetensors", size);
  for (auto _ : state) {
    auto f = wick::SafetensorsFile::open(path);
    benchmark::DoNotOptimize(f->tensors().size());
  }
  state.counters["file_MiB"] = static_cast<double>(fs::file_size(path)) / (1 << 20);
}
BENCHMARK(BM_SafetensorsOpen)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
