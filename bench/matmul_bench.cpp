// linear / matmul throughput next to OpenBLAS sgemm on the same shapes. The linear layout: x (M, K)
// f32 @ w (N, K)^T with K = 2048, N = 8192; M = 1 is decode (GEMV, weight-bandwidth bound),
// M = 512 is prefill (GEMM, compute bound). Args: {M, threads}. Counters: GFLOP/s and, for the
// weights, GB/s read (compare with membw_bench).
//   ./build/release/bench/matmul_bench --benchmark_filter=Linear
#include <benchmark/benchmark.h>

// GCC 12's AVX-512 headers trip -Wuninitialized where the intrinsics inline (see simd_vec_impl.h).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <random>
#include <vector>

#include "backend/ops.h"
#include "backends/cpu/qdot.h"
#include "backends/cpu/qgemm.h"
#include "core/cpu_features.h"
#include "core/simd_peak.h"
#include "core/thread_pool.h"

#if defined(WICK_HAVE_OPENBLAS)
#include <cblas.h>
#endif

namespace wick {
namespace {

constexpr int64_t kK = 2048;
constexpr int64_t kN = 8192;

Tensor random_tensor(const Shape& shape, uint32_t seed, DType dtype = DType::kF32) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(shape.numel()));
  for (float& x : v) x = dist(rng);
  if (!dtype_is_quantized(dtype)) return Tensor::from_floats(shape, v, dtype);
  return to_dtype(Tensor::from_floats(shape, v), dtype);  // GGUF block weights
}

void set_counters(benchmark::State& state, int64_t m, double weight_bytes) {
  const double flops = 2.0 * static_cast<double>(m) * kN * kK;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["wGB/s"] =
      benchmark::Counter(weight_bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Linear(benchmark::State& state, DType w_dtype) {
  const int64_t m = state.range(0);
  ThreadPool::set_global_threads(static_cast<int>(state.range(1)));
  const Tensor x = random_tensor({m, kK}, 1);
  const Tensor w = random_tensor({kN, kK}, 2, w_dtype);
  for (auto _ : state) benchmark::DoNotOptimize(linear(x, w).raw_data());
  set_counters(state, m, static_cast<double>(w.nbytes()));
  state.SetLabel(cpu_features().has_avx512_set() ? "avx512" : "avx2");
}

// The integer GEMV kernels alone (one activation row) on an L2-resident weight matrix (N = 256,
// K = 2048): the compute-bound rate of each build, in weight GB/s, to set against the DRAM
// bandwidth decode needs. Args: {dtype, build (0 scalar, 1 avx2, 2 avx512-vnni)}.
void BM_QDotGemvInCache(benchmark::State& state) {
  const auto dt = static_cast<DType>(state.range(0));
  const cpu::QDotKernels* builds[3];
  const int n_builds = cpu::runnable_qdot_builds(builds, 3);
  if (state.range(1) >= n_builds) {
    state.SkipWithError("build not runnable on this CPU");
    return;
  }
  const cpu::QDotKernels& k = *builds[state.range(1)];
  const int64_t n = 256, kk = 2048;
  const Tensor w = random_tensor({n, kk}, 2, dt);
  const std::vector<float> x = random_tensor({kk}, 1).to_float_vector();
  std::vector<uint8_t> act(cpu::qdot_act_row_bytes(dt, kk));
  cpu::quantize_activation_row(dt, x.data(), kk, act.data());
  const uint64_t row_bytes = dtype_bytes_for(dt, kk);
  const auto* base = static_cast<const uint8_t*>(w.raw_data());
  std::vector<float> out(n);
  const int64_t nb = kk / dtype_info(dt).block_size;
  for (auto _ : state) {
    for (int64_t j = 0; j < n; ++j)
      k.dot[static_cast<int>(dt)](base + j * row_bytes, act.data(), 0, 1, nb, out.data() + j, 1);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["wGB/s"] = benchmark::Counter(static_cast<double>(w.nbytes()) * 1e-9,
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(fmt::format("{} {}", dtype_name(dt), k.name));
}
BENCHMARK(BM_QDotGemvInCache)
    ->ArgsProduct({{static_cast<int64_t>(DType::kQ4_0), static_cast<int64_t>(DType::kQ4_1),
                    static_cast<int64_t>(DType::kQ8_0), static_cast<int64_t>(DType::kQ4_K),
                    static_cast<int64_t>(DType::kQ5_K), static_cast<int64_t>(DType::kQ6_K)},
                   {0, 1, 2}})
    ->ArgNames({"dtype", "build"});

// Decode linear (x 1 x 2048, w 256 x 2048, 1 thread) with an L2-resident weight, GGUF layout
// (packed 0) or the packed tiles of prepare_linear_weight (packed 1, backends/cpu/qpack.h): the
// whole op (activation quantization included) in weight GB/s. Args: {dtype, packed}.
void BM_LinearGemvInCache(benchmark::State& state) {
  const auto dt = static_cast<DType>(state.range(0));
  ThreadPool::set_global_threads(1);
  const Tensor plain = random_tensor({256, 2048}, 2, dt);
  const Tensor w = state.range(1) == 1 ? prepare_linear_weight(plain) : plain;
  const Tensor x = random_tensor({1, 2048}, 1);
  for (auto _ : state) benchmark::DoNotOptimize(linear(x, w).raw_data());
  state.counters["wGB/s"] = benchmark::Counter(static_cast<double>(plain.nbytes()) * 1e-9,
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(
      fmt::format("{} {}", dtype_name(dt), w.storage() != plain.storage() ? "packed" : "gguf"));
}
BENCHMARK(BM_LinearGemvInCache)
    ->ArgsProduct({{static_cast<int64_t>(DType::kQ4_0), static_cast<int64_t>(DType::kQ4_1),
                    static_cast<int64_t>(DType::kQ8_0), static_cast<int64_t>(DType::kQ4_K),
                    static_cast<int64_t>(DType::kQ6_K)},
                   {0, 1}})
    ->ArgNames({"dtype", "packed"});

// The machine's SIMD peak on one thread, the yardstick for prefill (core/simd_peak.h: 16
// register-resident chains of 512-bit vpdpbusd, 64 int8 multiply-adds each, or vfmadd231ps, 16
// f32 FMAs each). Counter MAC/s. `wick bench --peak` runs the same loops on 1 and all threads.
void BM_SimdPeak(benchmark::State& state) {
  const bool vnni = state.range(0) == 1;
  if (!cpu_features().has_avx512_set() || !cpu_features().avx512vnni) {
    state.SkipWithError("CPU lacks AVX-512 VNNI");
    return;
  }
  constexpr long long kIters = 1 << 20;
  for (auto _ : state)
    benchmark::DoNotOptimize(vnni ? avx512::simd_peak_loop_int8(kIters)
                                  : avx512::simd_peak_loop_f32(kIters));
  const double macs = static_cast<double>(kIters) * 16 * (vnni ? 64 : 16);
  state.counters["GMAC/s"] =
      benchmark::Counter(macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(vnni ? "int8 vpdpbusd zmm" : "f32 vfmadd zmm");
}
BENCHMARK(BM_SimdPeak)->Arg(1)->Arg(0)->ArgName("vnni");

// The prefill micro-kernel alone (backends/cpu/qgemm.h), one thread, everything in L1/L2: one
// panel of 16 weight rows x K = 2048 unpacked once, 64 activation rows (8 calls of 8 rows).
// Counter: useful GMAC/s (16 x 2048 x 64 per iteration; the two activation passes do twice the
// vpdpbusd work) against BM_SimdPeak. Args: {dtype}.
void BM_PanelKernel(benchmark::State& state) {
  const auto dt = static_cast<DType>(state.range(0));
  const cpu::PanelKernels* pk = cpu::best_panel_kernels();
  if (pk == nullptr || pk->unpack[static_cast<int>(dt)] == nullptr) {
    state.SkipWithError("no AVX-512 VNNI panel for this dtype");
    return;
  }
  const int64_t k = 2048, m = 64;
  const int gv = cpu::panel_group_values(dt);
  const int64_t n_groups = k / gv;
  const Tensor w = random_tensor({cpu::kPanelRows, k}, 2, dt);
  const std::vector<float> x = random_tensor({m, k}, 1).to_float_vector();
  std::vector<cpu::ActQ8x2> act(static_cast<size_t>(m * k / 32));
  for (int64_t i = 0; i < m; ++i) pk->quantize(x.data() + i * k, k, &act[i * (k / 32)]);
  std::vector<uint8_t> codes(static_cast<size_t>(k * cpu::kPanelRows));
  std::vector<float> scale(n_groups * cpu::kPanelRows), min(n_groups * cpu::kPanelRows);
  std::vector<int32_t> wsum(n_groups * cpu::kPanelRows);
  const cpu::Panel panel{codes.data(), scale.data(), min.data(), wsum.data()};
  pk->unpack[static_cast<int>(dt)](static_cast<const uint8_t*>(w.raw_data()),
                                   dtype_bytes_for(dt, k), cpu::kPanelRows, n_groups, panel);
  const cpu::PanelKernelFn kernel = gv == 16 ? pk->kernel16 : pk->kernel;
  const size_t stride = static_cast<size_t>(k / 32) * sizeof(cpu::ActQ8x2);
  std::vector<float> out(static_cast<size_t>(m * cpu::kPanelRows));
  for (auto _ : state) {
    for (int64_t i = 0; i < m; i += cpu::kPanelMaxAct)
      kernel(panel, n_groups, act.data() + i * (k / 32), stride, cpu::kPanelMaxAct,
             out.data() + i * cpu::kPanelRows, cpu::kPanelRows, cpu::kPanelRows);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GMAC/s"] = benchmark::Counter(static_cast<double>(m * k * cpu::kPanelRows) * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(fmt::format("{} {}", dtype_name(dt), pk->name));
}
BENCHMARK(BM_PanelKernel)
    ->Arg(static_cast<int64_t>(DType::kQ4_0))
    ->Arg(static_cast<int64_t>(DType::kQ4_K))
    ->Arg(static_cast<int64_t>(DType::kQ6_K))
    ->ArgName("dtype");

// bf16 activations and bf16 weights: vdpbf16ps GEMM on CPUs with AVX512_BF16.
void BM_LinearBf16Activations(benchmark::State& state) {
  const int64_t m = state.range(0);
  ThreadPool::set_global_threads(static_cast<int>(state.range(1)));
  const Tensor x = random_tensor({m, kK}, 1, DType::kBF16);
  const Tensor w = random_tensor({kN, kK}, 2, DType::kBF16);
  for (auto _ : state) benchmark::DoNotOptimize(linear(x, w).raw_data());
  set_counters(state, m, static_cast<double>(w.nbytes()));
  state.SetLabel(cpu_features().avx512bf16 ? "avx512bf16" : "converting");
}

// matmul with b (K, N) row-major: the GEMM packs b's rows instead of w's.
void BM_MatmulF32(benchmark::State& state) {
  const int64_t m = state.range(0);
  ThreadPool::set_global_threads(static_cast<int>(state.range(1)));
  const Tensor a = random_tensor({m, kK}, 1);
  const Tensor b = random_tensor({kK, kN}, 2);
  for (auto _ : state) benchmark::DoNotOptimize(matmul(a, b).raw_data());
  set_counters(state, m, static_cast<double>(b.nbytes()));
}

#if defined(WICK_HAVE_OPENBLAS)
// C (M, N) = X (M, K) @ W (N, K)^T, row-major: the same problem as BM_Linear/f32.
void BM_OpenBlasSgemm(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0));
  openblas_set_num_threads(static_cast<int>(state.range(1)));
  const std::vector<float> x = random_tensor({m, kK}, 1).to_float_vector();
  const std::vector<float> w = random_tensor({kN, kK}, 2).to_float_vector();
  std::vector<float> c(static_cast<size_t>(m) * kN);
  for (auto _ : state) {
    if (m == 1) {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, kN, kK, 1.0f, w.data(), kK, x.data(), 1, 0.0f,
                  c.data(), 1);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, kN, kK, 1.0f, x.data(), kK, w.data(),
                  kK, 0.0f, c.data(), kN);
    }
    benchmark::DoNotOptimize(c.data());
  }
  set_counters(state, m, static_cast<double>(w.size() * sizeof(float)));
}
void BM_OpenBlasSgemmNN(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0));
  openblas_set_num_threads(static_cast<int>(state.range(1)));
  const std::vector<float> a = random_tensor({m, kK}, 1).to_float_vector();
  const std::vector<float> b = random_tensor({kK, kN}, 2).to_float_vector();
  std::vector<float> c(static_cast<size_t>(m) * kN);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, kN, kK, 1.0f, a.data(), kK, b.data(),
                kN, 0.0f, c.data(), kN);
    benchmark::DoNotOptimize(c.data());
  }
  set_counters(state, m, static_cast<double>(b.size() * sizeof(float)));
}
BENCHMARK(BM_OpenBlasSgemm)
    ->ArgsProduct({{1, 512}, {1, 2}})
    ->ArgNames({"M", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OpenBlasSgemmNN)
    ->ArgsProduct({{512}, {1, 2}})
    ->ArgNames({"M", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
#endif

BENCHMARK_CAPTURE(BM_Linear, f32, DType::kF32)
    ->ArgsProduct({{1, 512}, {1, 2}})
    ->ArgNames({"M", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Linear, f16, DType::kF16)
    ->ArgsProduct({{1, 512}, {1, 2}})
    ->ArgNames({"M", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Linear, bf16, DType::kBF16)
    ->ArgsProduct({{1, 512}, {1, 2}})
    ->ArgNames({"M", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
// Block-quantized weights: activations quantized to 8 bits, integer dot products (qdot.h).
BENCHMARK_CAPTURE(BM_Linear, q4_0, DType::kQ4_0)
    ->ArgsProduct({{1, 512}, {1, 2}})
    ->ArgNames({"M", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Linear, q6_k, DType::kQ6_K)
    ->ArgsProduct({{1, 512}, {1, 2}})
    ->ArgNames({"M", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Linear, q8_0, DType::kQ8_0)
    ->ArgsProduct({{1, 512}, {1, 2}})
    ->ArgNames({"M", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Linear, q4_k, DType::kQ4_K)
    ->ArgsProduct({{1, 512}, {1, 2}})
    ->ArgNames({"M", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
// Small batches (batched decode, short prompts): where GEMV hands over to the packed GEMM.
BENCHMARK_CAPTURE(BM_Linear, f32_small_batch, DType::kF32)
    ->ArgsProduct({{4, 8, 9, 16, 32, 64, 128}, {1}})
    ->ArgNames({"M", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LinearBf16Activations)
    ->ArgsProduct({{512}, {1, 2}})
    ->ArgNames({"M", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MatmulF32)
    ->ArgsProduct({{512}, {1, 2}})
    ->ArgNames({"M", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace wick

BENCHMARK_MAIN();
