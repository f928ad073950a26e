#include "core/simd_peak.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace wick {

double measure_simd_peak_gmacs(SimdPeakKind kind, int threads) {
  const CpuFeatures& f = cpu_features();
  const bool int8 = kind == SimdPeakKind::kInt8Vnni;
  if (!f.has_avx512_set() || (int8 && !f.avx512vnni)) return 0.0;
  ThreadPool::set_global_threads(threads);
  ThreadPool& pool = ThreadPool::global();
  constexpr long long kIters = 1 << 22;  // ~0.1 s per thread at a few GHz
  const double macs_per_iter = 16.0 * (int8 ? 64 : 16);
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    std::atomic<long long> sink{0};
    const auto start = std::chrono::steady_clock::now();
    pool.run([&](int, int) {
      sink += int8 ? avx512::simd_peak_loop_int8(kIters) : avx512::simd_peak_loop_f32(kIters);
    });
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (sink.load() == -1) return 0.0;  // keeps the results live; cannot happen
    best = std::max(best, macs_per_iter * static_cast<double>(kIters) * pool.size() / s / 1e9);
  }
  return best;
}

}  // namespace wick
