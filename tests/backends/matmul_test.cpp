// matmul / linear: the reference kernels against a double-precision triple loop (odd shapes,
// transposed views, broadcast batches, every weight dtype incl. GGUF blocks), every SIMD build
// (AVX2, AVX-512) against the reference, and CPU feature detection against the compiler's cpuid.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backend/kernel_table.h"
#include "backend/ops.h"
#include "backends/cpu/matmul_simd.h"
#include "backends/cpu/qdot.h"
#include "core/cpu_features.h"
#include "core/quant/quant.h"
#include "core/thread_pool.h"

namespace wick {
namespace {

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

Tensor random_tensor(const Shape& shape, uint32_t seed, DType dtype = DType::kF32) {
  return Tensor::from_floats(shape, random_floats(static_cast<size_t>(shape.numel()), seed), dtype);
}

// Forces reference kernels for the lifetime of the object.
struct ReferenceOnly {
  ReferenceOnly() { set_force_reference_kernels(true); }
  ~ReferenceOnly() { set_force_reference_kernels(false); }
};

// Expected (M, N) = a (M, K) @ b (K, N) in double, plus sum |a||b| per element for tolerances.
struct Expected {
  std::vector<double> value, magnitude;
};
Expected double_matmul(const std::vector<float>& a, const std::vector<float>& b, int64_t m,
                       int64_t k, int64_t n) {
  Expected e{std::vector<double>(static_cast<size_t>(m * n)),
             std::vector<double>(static_cast<size_t>(m * n))};
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0, mag = 0;
      for (int64_t p = 0; p < k; ++p) {
        const double prod = static_cast<double>(a[static_cast<size_t>(i * k + p)]) *
                            b[static_cast<size_t>(p * n + j)];
        s += prod;
        mag += std::fabs(prod);
      }
      e.value[static_cast<size_t>(i * n + j)] = s;
      e.magnitude[static_cast<size_t>(i * n + j)] = mag;
    }
  return e;
}

// f32 accumulation over k terms: |error| <= ~k * 2^-24 * sum|a b|; we allow `rel` * sum|ab| plus
// the rounding of the output dtype.
void expect_close(const std::vector<float>& got, const Expected& want, double rel, double out_rel,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.value.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    const double tol = rel * want.magnitude[i] + out_rel * std::fabs(want.value[i]) + 1e-7;
    ASSERT_NEAR(got[i], want.value[i], tol) << what << " at " << i;
  }
}

std::vector<float> transpose(const std::vector<float>& x, int64_t rows, int64_t cols) {
  std::vector<float> t(x.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      t[static_cast<size_t>(c * rows + r)] = x[static_cast<size_t>(r * cols + c)];
  return t;
}

struct Mkn {
  int64_t m, k, n;
};
const Mkn kShapes[] = {{1, 1, 1},   {1, 17, 3},    {3, 33, 17},  {17, 3, 33},   {5, 255, 7},
                       {33, 64, 1}, {1, 255, 255}, {9, 130, 65}, {64, 300, 97}, {100, 257, 40}};

TEST(MatmulReference, MatchesDoubleOnOddShapes) {
  ReferenceOnly ref;
  for (const Mkn& s : kShapes) {
    const auto av = random_floats(static_cast<size_t>(s.m * s.k), 1),
               bv = random_floats(static_cast<size_t>(s.k * s.n), 2);
    const Tensor c =
        matmul(Tensor::from_floats({s.m, s.k}, av), Tensor::from_floats({s.k, s.n}, bv));
    ASSERT_EQ(c.shape(), (Shape{s.m, s.n}));
    expect_close(c.to_float_vector(), double_matmul(av, bv, s.m, s.k, s.n),
                 2e-7 * static_cast<double>(s.k), 0, fmt::format("{}x{}x{}", s.m, s.k, s.n));
  }
}

TEST(MatmulReference, TransposedOperandsAndBroadcastBatches) {
  ReferenceOnly ref;
  const int64_t m = 5, k = 17, n = 3;
  // a: (2, 1, M, K) as a transposed view of (2, 1, K, M); b: (3, K, N) as a view of (3, N, K).
  const auto at = random_floats(static_cast<size_t>(2 * k * m), 3),
             bt = random_floats(static_cast<size_t>(3 * n * k), 4);
  const Tensor a = Tensor::from_floats({2, 1, k, m}, at).t();
  const Tensor b = Tensor::from_floats({3, n, k}, bt).t();
  const Tensor c = matmul(a, b);
  ASSERT_EQ(c.shape(), (Shape{2, 3, m, n}));
  const std::vector<float> got = c.to_float_vector();
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      const std::vector<float> ai =
          transpose({at.begin() + i * k * m, at.begin() + (i + 1) * k * m}, k, m);
      const std::vector<float> bj =
          transpose({bt.begin() + j * n * k, bt.begin() + (j + 1) * n * k}, n, k);
      const Expected e = double_matmul(ai, bj, m, k, n);
      const std::vector<float> slice(got.begin() + (i * 3 + j) * m * n,
                                     got.begin() + (i * 3 + j + 1) * m * n);
      expect_close(slice, e, 1e-5, 0, fmt::format("batch {},{}", i, j));
    }
}

TEST(MatmulReference, HalfDtypesRoundTheOutput) {
  ReferenceOnly ref;
  const int64_t m = 4, k = 33, n = 5;
  for (DType dt : {DType::kF16, DType::kBF16}) {
    const Tensor a = random_tensor({m, k}, 5, dt), b = random_tensor({k, n}, 6, dt);
    const Tensor c = matmul(a, b);
    EXPECT_EQ(c.dtype(), dt);
    const double out_rel = dt == DType::kF16 ? 1.0 / 2048 : 1.0 / 256;
    expect_close(c.to_float_vector(),
                 double_matmul(a.to_float_vector(), b.to_float_vector(), m, k, n), 1e-5, out_rel,
                 dtype_name(dt));
  }
}

TEST(MatmulReference, RejectsBadOperands) {
  const Tensor a = random_tensor({2, 3}, 1), b = random_tensor({4, 5}, 2);
  EXPECT_THROW(matmul(a, b), Error);
  EXPECT_THROW(matmul(a, to_dtype(random_tensor({3, 2}, 3), DType::kF16)), Error);
  EXPECT_THROW(matmul(random_tensor({3}, 1), b), Error);
  EXPECT_THROW(matmul(random_tensor({2, 2, 3}, 1), random_tensor({3, 3, 2}, 2)), Error);
  EXPECT_THROW(linear(a, random_tensor({4, 2}, 4)), Error);
  EXPECT_THROW(linear(a, random_tensor({4, 3}, 4), random_tensor({3}, 5)), Error);
}

// linear(x, w, bias) against double: x (R, K) f32, w (N, K) given as dequantized f32 rows.
Expected double_linear(const std::vector<float>& x, const std::vector<float>& w,
                       const std::vector<float>& bias, int64_t rows, int64_t k, int64_t n) {
  Expected e = double_matmul(x, transpose(w, n, k), rows, k, n);
  if (!bias.empty())
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; ++j)
        e.value[static_cast<size_t>(r * n + j)] += bias[static_cast<size_t>(j)];
  return e;
}

TEST(LinearReference, FloatWeightsWithBiasAndBatchDims) {
  ReferenceOnly ref;
  const int64_t k = 65, n = 17;
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    const Tensor x = random_tensor({2, 3, k}, 7);
    const Tensor w = random_tensor({n, k}, 8, dt);
    const Tensor bias = random_tensor({n}, 9);
    const Tensor y = linear(x, w, bias);
    ASSERT_EQ(y.shape(), (Shape{2, 3, n}));
    EXPECT_EQ(y.dtype(), DType::kF32);
    expect_close(
        y.to_float_vector(),
        double_linear(x.to_float_vector(), w.to_float_vector(), bias.to_float_vector(), 6, k, n),
        1e-5, 0, dtype_name(dt));
  }
}

TEST(LinearReference, EveryBlockTypeDequantizesRows) {
  ReferenceOnly ref;
  const int64_t k = 512, n = 5, rows = 3;
  const auto wv = random_floats(static_cast<size_t>(n * k), 10);
  const Tensor x = random_tensor({rows, k}, 11);
  for (int i = 0; i < kDTypeCount; ++i) {
    const DType dt = static_cast<DType>(i);
    if (!dtype_is_quantized(dt)) continue;
    Tensor w = Tensor::empty({n, k}, dt);
    const uint64_t row_bytes = dtype_bytes_for(dt, static_cast<uint64_t>(k));
    std::vector<float> deq(static_cast<size_t>(n * k));
    for (int64_t r = 0; r < n; ++r) {
      auto* row = static_cast<uint8_t*>(w.raw_data()) + static_cast<uint64_t>(r) * row_bytes;
      quantize_row(dt, wv.data() + r * k, row, k);
      dequantize_row_reference(dt, row, deq.data() + r * k, k);
    }
    const Tensor y = linear(x, w);
    expect_close(y.to_float_vector(), double_linear(x.to_float_vector(), deq, {}, rows, k, n), 1e-5,
                 0, dtype_name(dt));
  }
}

TEST(LinearReference, StridedInputAndWeightViews) {
  ReferenceOnly ref;
  const int64_t k = 19, n = 7, rows = 4;
  const Tensor x = random_tensor({k, rows}, 12).t();  // (rows, K), column-major
  const Tensor w = random_tensor({k, n}, 13).t();     // (N, K), column-major
  expect_close(linear(x, w).to_float_vector(),
               double_linear(x.to_float_vector(), w.to_float_vector(), {}, rows, k, n), 1e-5, 0,
               "strided");
}

// ---- fast kernels against the reference ----

// Runs fn once through the fast path (if registered) and once through the reference.
template <class Fn>
std::pair<std::vector<float>, std::vector<float>> fast_and_reference(Fn&& fn) {
  std::vector<float> fast = fn().to_float_vector();
  ReferenceOnly ref;
  return {fast, fn().to_float_vector()};
}

void expect_fast_matches(const std::vector<float>& fast, const std::vector<float>& ref, double rel,
                         double abs, const std::string& what) {
  ASSERT_EQ(fast.size(), ref.size()) << what;
  for (size_t i = 0; i < fast.size(); ++i)
    ASSERT_NEAR(fast[i], ref[i], abs + rel * std::fabs(ref[i])) << what << " at " << i;
}

TEST(MatmulFast, MatchesReferenceForEveryDtypeAndLayout) {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    // Half outputs may round to the neighbouring value: one ulp of the output dtype.
    const double rel = dt == DType::kF32 ? 2e-5 : (dt == DType::kF16 ? 2.0 / 2048 : 2.0 / 256);
    for (const Mkn& s : kShapes) {
      const Tensor a = random_tensor({s.m, s.k}, 20, dt), b = random_tensor({s.k, s.n}, 21, dt);
      const Tensor at = contiguous(random_tensor({s.k, s.m}, 22, dt)).t();
      const Tensor bt = contiguous(random_tensor({s.n, s.k}, 23, dt)).t();
      const std::string what = fmt::format("{} {}x{}x{}", dtype_name(dt), s.m, s.k, s.n);
      // Sums of k products of magnitude <= 1: absolute slack scales with sqrt(k).
      const double abs = 1e-5 * std::sqrt(static_cast<double>(s.k));
      auto [f1, r1] = fast_and_reference([&] { return matmul(a, b); });
      expect_fast_matches(f1, r1, rel, abs, what + " plain");
      auto [f2, r2] = fast_and_reference([&] { return matmul(at, bt); });
      expect_fast_matches(f2, r2, rel, abs, what + " transposed");
    }
  }
  const Tensor a = random_tensor({2, 1, 9, 33}, 24), b = random_tensor({3, 33, 40}, 25);
  auto [f, r] = fast_and_reference([&] { return matmul(a, b); });
  expect_fast_matches(f, r, 2e-5, 1e-4, "broadcast batch");
}

// Many small products (attention heads): the batch is split over threads, each product serial.
TEST(MatmulFast, ManySmallHeadsMatchReference) {
  ThreadPool::set_global_threads(2);
  for (DType dt : {DType::kF32, DType::kBF16}) {
    const double rel = dt == DType::kF32 ? 2e-5 : 2.0 / 256;
    const Tensor q = random_tensor({3, 8, 1, 64}, 60, dt);                    // decode query
    const Tensor kt = contiguous(random_tensor({3, 8, 37, 64}, 61, dt)).t();  // keys^T view
    auto [f1, r1] = fast_and_reference([&] { return matmul(q, kt); });
    expect_fast_matches(f1, r1, rel, 1e-4, fmt::format("{} q @ k^T", dtype_name(dt)));
    const Tensor p = random_tensor({3, 8, 5, 37}, 62, dt);
    const Tensor v = random_tensor({3, 8, 37, 64}, 63, dt);
    auto [f2, r2] = fast_and_reference([&] { return matmul(p, v); });
    expect_fast_matches(f2, r2, rel, 1e-4, fmt::format("{} p @ v", dtype_name(dt)));
  }
}

TEST(LinearFast, MatchesReferenceFromDecodeToPrefill) {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    for (int64_t rows : {1, 2, 3, 5, 8, 9, 17, 64}) {
      for (const auto& [k, n] :
           std::vector<std::pair<int64_t, int64_t>>{{33, 17}, {255, 3}, {256, 100}, {1000, 65}}) {
        const Tensor x = random_tensor({rows, k}, 30);
        const Tensor w = random_tensor({n, k}, 31, dt);
        const Tensor bias = random_tensor({n}, 32);
        const std::string what = fmt::format("{} rows {} k {} n {}", dtype_name(dt), rows, k, n);
        auto [f, r] = fast_and_reference([&] { return linear(x, w, bias); });
        expect_fast_matches(f, r, 2e-5, 1e-5 * std::sqrt(static_cast<double>(k)), what);
      }
    }
  }
  // 16-bit activations (and bias): GEMV on an f32 copy, GEMM packing them; output rounded once.
  for (DType dt : {DType::kF16, DType::kBF16})
    for (int64_t rows : {1, 5, 40}) {
      const Tensor x = random_tensor({rows, 300}, 35, dt);
      const Tensor w = random_tensor({70, 300}, 36, dt);
      const Tensor bias = random_tensor({70}, 37, dt);
      auto [f, r] = fast_and_reference([&] { return linear(x, w, bias); });
      expect_fast_matches(f, r, dt == DType::kF16 ? 2.0 / 2048 : 2.0 / 256, 2e-4,
                          fmt::format("{} activations, rows {}", dtype_name(dt), rows));
    }
  // A row-strided input (every other row of a bigger buffer) and a 3-d input.
  const Tensor big = random_tensor({8, 2, 64}, 33);
  const Tensor x = big.select(1, 0);
  const Tensor w = random_tensor({48, 64}, 34, DType::kBF16);
  auto [f, r] = fast_and_reference([&] { return linear(x, w); });
  expect_fast_matches(f, r, 2e-5, 1e-4, "row-strided x");
}

// Quantized weights: the fast path against the reference for every block type, GEMV and GEMM
// row counts, ragged N and a bias. Types with an integer path (backends/cpu/qdot.h) quantize x to
// 8 bits per block of `act_block` values, so each output may move by up to sum over blocks of
// (amax(x in block) / 254) * sum |w| there; Q8_1/Q8_K weights decode to f32 (float rounding only).
TEST(LinearFast, QuantizedWeightsMatchReference) {
  const int64_t k = 512, n = 70;
  const auto wv = random_floats(static_cast<size_t>(n * k), 50);
  const Tensor bias = random_tensor({n}, 51);
  for (int i = 0; i < kDTypeCount; ++i) {
    const DType dt = static_cast<DType>(i);
    if (!dtype_is_quantized(dt)) continue;
    Tensor w = Tensor::empty({n, k}, dt);
    const uint64_t row_bytes = dtype_bytes_for(dt, static_cast<uint64_t>(k));
    std::vector<float> deq(static_cast<size_t>(n * k));
    for (int64_t r = 0; r < n; ++r) {
      auto* row = static_cast<uint8_t*>(w.raw_data()) + static_cast<uint64_t>(r) * row_bytes;
      quantize_row(dt, wv.data() + r * k, row, k);
      dequantize_row_reference(dt, row, deq.data() + r * k, k);
    }
    const int act_block = cpu::qdot_supported(dt) ? cpu::qdot_act_block_values(dt) : 0;
    for (int64_t rows : {1, 3, 8, 9, 70}) {
      const Tensor x = random_tensor({rows, k}, 52);
      const std::vector<float> xv = x.to_float_vector();
      auto [f, r] = fast_and_reference([&] { return linear(x, w, bias); });
      for (int64_t a = 0; a < rows; ++a)
        for (int64_t j = 0; j < n; ++j) {
          double tol = 2e-5 * std::fabs(r[a * n + j]) + 1e-5 * std::sqrt(static_cast<double>(k));
          for (int64_t b0 = 0; act_block > 0 && b0 < k; b0 += act_block) {
            double amax = 0, wsum = 0;
            for (int64_t p = b0; p < b0 + act_block; ++p) {
              amax = std::max(amax, std::fabs(static_cast<double>(xv[a * k + p])));
              wsum += std::fabs(deq[j * k + p]);
            }
            tol += 1.01 * amax / 254.0 * wsum;
          }
          ASSERT_NEAR(f[a * n + j], r[a * n + j], tol)
              << dtype_name(dt) << " rows " << rows << " at " << a << "," << j;
        }
    }
    if (cpu_features().has_avx2_set() &&
        find_kernel(Op::kLinear, DeviceType::kCpu, dt).fast != nullptr) {
      const OpAttrs attrs;
      const Tensor inputs[3] = {random_tensor({2, k}, 53), w, Tensor()};
      Tensor outputs[1] = {Tensor::empty({2, n}, DType::kF32)};
      EXPECT_TRUE(find_kernel(Op::kLinear, DeviceType::kCpu, dt)
                      .fast(OpCall{Op::kLinear, inputs, outputs, attrs}))
          << dtype_name(dt);
    }
  }
}

// The fast kernels must take (not decline) the layouts models use, or the tests above would only
// compare the reference with itself.
TEST(LinearFast, AcceptsTheModelLayouts) {
  if (!cpu_features().has_avx2_set()) GTEST_SKIP() << "CPU lacks AVX2/FMA/F16C";
  const OpAttrs attrs;
  for (DType w_dt : {DType::kF32, DType::kF16, DType::kBF16})
    for (DType x_dt : {DType::kF32, DType::kBF16})
      for (int64_t rows : {1, 7, 40}) {
        const Tensor inputs[3] = {random_tensor({2, rows, 64}, 1, x_dt),
                                  random_tensor({24, 64}, 2, w_dt), random_tensor({24}, 3)};
        Tensor outputs[1] = {Tensor::empty({2, rows, 24}, x_dt)};
        const KernelEntry& e = find_kernel(Op::kLinear, DeviceType::kCpu, w_dt);
        ASSERT_NE(e.fast, nullptr);
        EXPECT_TRUE(e.fast(OpCall{Op::kLinear, inputs, outputs, attrs}))
            << dtype_name(w_dt) << " weights, " << dtype_name(x_dt) << " x, rows " << rows;
      }
  const Tensor inputs[2] = {random_tensor({9, 33}, 4), contiguous(random_tensor({40, 33}, 5)).t()};
  Tensor outputs[1] = {Tensor::empty({9, 40}, DType::kF32)};
  EXPECT_TRUE(find_kernel(Op::kMatmul, DeviceType::kCpu, DType::kF32)
                  .fast(OpCall{Op::kMatmul, inputs, outputs, attrs}));
}

// Each SIMD build the CPU can run, called directly (the kernel table only ever picks the best).
std::vector<std::pair<const char*, const cpu::MatmulKernels*>> runnable_builds() {
  std::vector<std::pair<const char*, const cpu::MatmulKernels*>> builds;
  if (cpu_features().has_avx2_set()) builds.emplace_back("avx2", &cpu::avx2::kMatmulKernels);
  if (cpu_features().has_avx512_set()) builds.emplace_back("avx512", &cpu::avx512::kMatmulKernels);
  return builds;
}

TEST(MatmulSimdBuilds, GemmAndGemvMatchDouble) {
  const auto builds = runnable_builds();
  if (builds.empty()) GTEST_SKIP() << "CPU lacks AVX2/FMA/F16C";
  std::vector<Mkn> shapes(std::begin(kShapes), std::end(kShapes));
  shapes.push_back({197, 520, 2085});  // several M, K and N cache blocks with ragged edges
  for (const auto& [name, kernels] : builds) {
    for (const Mkn& s : shapes) {
      // a (M, K) row-major, b given as w (N, K) row-major (the linear layout).
      const auto av = random_floats(static_cast<size_t>(s.m * s.k), 40),
                 wv = random_floats(static_cast<size_t>(s.n * s.k), 41);
      const auto bias = random_floats(static_cast<size_t>(s.n), 42);
      Expected e = double_linear(av, wv, bias, s.m, s.k, s.n);
      for (int use_gemv = 0; use_gemv < 2; ++use_gemv) {
        std::vector<float> c(static_cast<size_t>(s.m * s.n), NAN);
        cpu::GemmArgs g;
        g.m = s.m;
        g.n = s.n;
        g.k = s.k;
        g.a = {av.data(), DType::kF32, s.k, 1};
        g.b = {wv.data(), DType::kF32, 1, s.k};
        g.c = c.data();
        g.ldc = s.n;
        g.bias = bias.data();
        (use_gemv ? kernels->gemv : kernels->gemm)(g);
        expect_close(
            c, e, 2e-7 * static_cast<double>(s.k), 0,
            fmt::format("{} {} {}x{}x{}", name, use_gemv ? "gemv" : "gemm", s.m, s.k, s.n));
      }
    }
  }
}

// 16-bit operands on both sides (bf16 x bf16 takes vdpbf16ps on CPUs with AVX512_BF16 when K is
// even; f16 and odd K the converting f32 path): products of 16-bit values are exact in f32, so
// the same bound as f32 applies against double on the rounded values.
TEST(MatmulSimdBuilds, SixteenBitGemmMatchesDouble) {
  const auto builds = runnable_builds();
  if (builds.empty()) GTEST_SKIP() << "CPU lacks AVX2/FMA/F16C";
  std::vector<Mkn> shapes(std::begin(kShapes), std::end(kShapes));
  shapes.push_back({197, 520, 2085});
  shapes.push_back({40, 4, 33});
  for (const auto& [name, kernels] : builds)
    for (DType dt : {DType::kBF16, DType::kF16})
      for (const Mkn& s : shapes) {
        const Tensor a = random_tensor({s.m, s.k}, 43, dt), w = random_tensor({s.n, s.k}, 44, dt);
        const Expected e =
            double_linear(a.to_float_vector(), w.to_float_vector(), {}, s.m, s.k, s.n);
        std::vector<float> c(static_cast<size_t>(s.m * s.n), NAN);
        cpu::GemmArgs g;
        g.m = s.m;
        g.n = s.n;
        g.k = s.k;
        g.a = {a.raw_data(), dt, s.k, 1};
        g.b = {w.raw_data(), dt, 1, s.k};
        g.c = c.data();
        g.ldc = s.n;
        kernels->gemm(g);
        expect_close(c, e, 2e-7 * static_cast<double>(s.k), 0,
                     fmt::format("{} {} gemm {}x{}x{}", name, dtype_name(dt), s.m, s.k, s.n));
      }
}

TEST(CpuFeatures, AgreesWithCompilerCpuid) {
  const CpuFeatures f = detect_cpu_features(false);
  __builtin_cpu_init();
  EXPECT_EQ(f.avx2, __builtin_cpu_supports("avx2") != 0);
  EXPECT_EQ(f.fma, __builtin_cpu_supports("fma") != 0);
  EXPECT_EQ(f.avx512f, __builtin_cpu_supports("avx512f") != 0);
  EXPECT_EQ(f.avx512bw, __builtin_cpu_supports("avx512bw") != 0);
  EXPECT_EQ(f.avx512vl, __builtin_cpu_supports("avx512vl") != 0);
  EXPECT_EQ(f.avx512vnni, __builtin_cpu_supports("avx512vnni") != 0);
  EXPECT_EQ(f.avx512bf16, __builtin_cpu_supports("avx512bf16") != 0);
  EXPECT_EQ(f.vendor_amd, __builtin_cpu_is("amd") != 0);
  EXPECT_FALSE(f.str().empty());
}

}  // namespace
}  // namespace wick
