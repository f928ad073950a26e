// The hot f32 ops of a decoder step through the op API, SIMD fast kernel vs the scalar reference
// (arg 1 = reference), on x (rows, 4096): rows 1 is decode, 512 prefill. bytes/s counts x and out.
//   ./build/release/bench/hot_ops_bench
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "backend/kernel_table.h"
#include "backend/ops.h"
#include "core/thread_pool.h"

namespace wick {
namespace {

constexpr int64_t kD = 4096;

Tensor random_tensor(const Shape& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
  std::vector<float> v(static_cast<size_t>(shape.numel()));
  for (float& x : v) x = dist(rng);
  return Tensor::from_floats(shape, v);
}

template <class Fn>
void run(benchmark::State& state, Fn&& fn) {
  const int64_t rows = state.range(0);
  ThreadPool::set_global_threads(1);
  set_force_reference_kernels(state.range(1) != 0);
  const Tensor x = random_tensor({rows, kD}, 1), y = random_tensor({rows, kD}, 2);
  const Tensor w = random_tensor({kD}, 3);
  for (auto _ : state) benchmark::DoNotOptimize(fn(x, y, w).raw_data());
  set_force_reference_kernels(false);
  state.SetBytesProcessed(state.iterations() * rows * kD * 8);
  state.SetLabel(state.range(1) != 0 ? "reference" : "fast");
}

void BM_Add(benchmark::State& s) {
  run(s, [](const Tensor& x, const Tensor& y, const Tensor&) { return add(x, y); });
}
void BM_MulRow(benchmark::State& s) {
  run(s, [](const Tensor& x, const Tensor&, const Tensor& w) { return mul(x, w); });
}
void BM_Silu(benchmark::State& s) {
  run(s, [](const Tensor& x, const Tensor&, const Tensor&) { return silu(x); });
}
void BM_Softmax(benchmark::State& s) {
  run(s, [](const Tensor& x, const Tensor&, const Tensor&) { return softmax(x); });
}
void BM_RmsNorm(benchmark::State& s) {
  run(s, [](const Tensor& x, const Tensor&, const Tensor& w) { return rms_norm(x, w, 1e-6f); });
}

#define HOT_OP_BENCH(fn)                \
  BENCHMARK(fn)                         \
      ->ArgsProduct({{1, 512}, {0, 1}}) \
      ->ArgNames({"rows", "reference"}) \
      ->Unit(benchmark::kMicrosecond)
HOT_OP_BENCH(BM_Add);
HOT_OP_BENCH(BM_MulRow);
HOT_OP_BENCH(BM_Silu);
HOT_OP_BENCH(BM_Softmax);
HOT_OP_BENCH(BM_RmsNorm);

}  // namespace
}  // namespace wick

BENCHMARK_MAIN();
