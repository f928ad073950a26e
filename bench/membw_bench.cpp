// The machine's read bandwidth, measured the way GEMV reads weights: one pass summing a buffer far
// larger than the caches (256 MiB of f32) with AVX2 or AVX-512 loads, split over 1 or 2 threads by
// wick's parallel_for. bytes_per_second is the ceiling for linear() at M = 1 (matmul_bench wGB/s).
//   ./build/release/bench/membw_bench
#include <benchmark/benchmark.h>

// GCC 12's AVX-512 headers trip -W(maybe-)uninitialized where _mm512 intrinsics inline (fixed in
// 13).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <atomic>
#include <vector>

#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace wick {
namespace {

constexpr size_t kFloats = size_t{64} << 20;  // 256 MiB

__attribute__((target("avx2,fma"))) float sum_avx2(const float* p, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + i + 24));
  }
  const __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  float total = 0;
  for (float v : lanes) total += v;
  for (; i < n; ++i) total += p[i];
  return total;
}

__attribute__((target("avx512f"))) float sum_avx512(const float* p, int64_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    a0 = _mm512_add_ps(a0, _mm512_loadu_ps(p + i));
    a1 = _mm512_add_ps(a1, _mm512_loadu_ps(p + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_loadu_ps(p + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_loadu_ps(p + i + 48));
  }
  float total = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  for (; i < n; ++i) total += p[i];
  return total;
}

void BM_ReadBandwidth(benchmark::State& state, bool avx512) {
  if (avx512 ? !cpu_features().has_avx512_set() : !cpu_features().has_avx2_set()) {
    state.SkipWithError("CPU lacks this ISA");
    return;
  }
  ThreadPool::set_global_threads(static_cast<int>(state.range(0)));
  std::vector<float> buf(kFloats, 1.0f);  // written once so every page is resident
  for (auto _ : state) {
    std::atomic<float> total{0.0f};
    parallel_for(static_cast<int64_t>(kFloats), 1 << 20, [&](int64_t begin, int64_t end) {
      const float s = avx512 ? sum_avx512(buf.data() + begin, end - begin)
                             : sum_avx2(buf.data() + begin, end - begin);
      total.fetch_add(s);
    });
    benchmark::DoNotOptimize(total.load());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kFloats * sizeof(float)));
}

BENCHMARK_CAPTURE(BM_ReadBandwidth, avx2, false)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ReadBandwidth, avx512, true)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace wick

BENCHMARK_MAIN();
