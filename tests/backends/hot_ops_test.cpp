// The SIMD hot-op kernels (add, mul, silu, softmax, rms_norm), each ISA build the CPU can run,
// against double-precision formulas on odd lengths and special values (masked -inf, NaN, huge
// magnitudes); and the op API's fast path against the reference for broadcast layouts.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "backend/kernel_table.h"
#include "backend/ops.h"
#include "backends/cpu/hot_ops_simd.h"
#include "core/cpu_features.h"

namespace wick {
namespace {

std::vector<float> random_floats(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<std::pair<const char*, const cpu::HotOpKernels*>> builds() {
  std::vector<std::pair<const char*, const cpu::HotOpKernels*>> b;
  if (cpu_features().has_avx2_set()) b.emplace_back("avx2", &cpu::avx2::kHotOpKernels);
  if (cpu_features().has_avx512_set()) b.emplace_back("avx512", &cpu::avx512::kHotOpKernels);
  return b;
}

const int64_t kLengths[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 255, 4096};
constexpr double kRel = 1e-6;  // the accuracy these kernels promise, relative

void expect_rel(float got, double want, double rel, double abs, const std::string& what) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what;
    return;
  }
  ASSERT_NEAR(got, want, rel * std::fabs(want) + abs) << what;
}

TEST(HotOpsSimd, AddMulAreExactForEveryLayout) {
  if (builds().empty()) GTEST_SKIP() << "CPU lacks AVX2/FMA/F16C";
  for (const auto& [name, k] : builds())
    for (int64_t d : kLengths) {
      const int64_t rows = 3;
      const auto a = random_floats(static_cast<size_t>(rows * d), 1, -10, 10);
      const auto b = random_floats(static_cast<size_t>(rows * d), 2, -10, 10);
      std::vector<float> out(a.size());
      k->add_rows(a.data(), b.data(), d, out.data(), rows, d);
      for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(out[i], a[i] + b[i]) << name << " add " << d;
      k->mul_rows(a.data(), b.data(), 0, out.data(), rows, d);  // b's first row broadcast
      for (size_t i = 0; i < a.size(); ++i)
        ASSERT_EQ(out[i], a[i] * b[i % static_cast<size_t>(d)]) << name;
      k->add_scalar(a.data(), 0.25f, out.data(), rows * d);
      for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(out[i], a[i] + 0.25f) << name;
      k->mul_scalar(a.data(), -3.0f, out.data(), rows * d);
      for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(out[i], a[i] * -3.0f) << name;
    }
}

TEST(HotOpsSimd, SiluMatchesDoubleAcrossTheExpRange) {
  if (builds().empty()) GTEST_SKIP() << "CPU lacks AVX2/FMA/F16C";
  for (const auto& [name, k] : builds()) {
    for (int64_t n : kLengths) {
      auto x = random_floats(static_cast<size_t>(n), 3, -30, 30);
      if (n >= 8) {
        x[0] = -100.0f;  // e^100 overflows: silu -> -0
        x[1] = 100.0f;
        x[2] = 0.0f;
        x[3] = -87.0f;
        x[4] = 1e-8f;
      }
      std::vector<float> out(x.size());
      k->silu(x.data(), out.data(), n);
      for (size_t i = 0; i < x.size(); ++i) {
        const double want = x[i] / (1.0 + std::exp(-static_cast<double>(x[i])));
        expect_rel(out[i], want, 4 * kRel, 1e-30, fmt::format("{} silu({})", name, x[i]));
      }
    }
  }
}

std::vector<double> softmax_double(const float* x, int64_t d) {
  double max = -INFINITY;
  for (int64_t i = 0; i < d; ++i) max = std::fmax(max, x[i]);
  double sum = 0;
  for (int64_t i = 0; i < d; ++i) sum += std::exp(x[i] - max);
  std::vector<double> y(static_cast<size_t>(d));
  for (int64_t i = 0; i < d; ++i) y[static_cast<size_t>(i)] = std::exp(x[i] - max) / sum;
  return y;
}

TEST(HotOpsSimd, SoftmaxMatchesDoubleWithMasksAndSpecialRows) {
  if (builds().empty()) GTEST_SKIP() << "CPU lacks AVX2/FMA/F16C";
  const float inf = std::numeric_limits<float>::infinity();
  for (const auto& [name, k] : builds())
    for (int64_t d : kLengths) {
      const int64_t rows = 5;
      auto x = random_floats(static_cast<size_t>(rows * d), 4, -20, 20);
      for (int64_t i = d / 2 + 1; i < d; ++i)
        x[static_cast<size_t>(d + i)] = -inf;  // row 1: causal mask
      for (int64_t i = 0; i < d; ++i)
        x[static_cast<size_t>(2 * d + i)] = -inf;   // row 2: fully masked
      x[static_cast<size_t>(3 * d + d / 2)] = NAN;  // row 3: a NaN
      for (int64_t i = 0; i < d; ++i)
        x[static_cast<size_t>(4 * d + i)] *= 1e6f;  // row 4: huge logits
      std::vector<float> out(x.size());
      k->softmax_rows(x.data(), out.data(), rows, d);
      for (int64_t r = 0; r < rows; ++r) {
        const std::vector<double> want = softmax_double(x.data() + r * d, d);
        for (int64_t i = 0; i < d; ++i)
          expect_rel(out[static_cast<size_t>(r * d + i)], want[static_cast<size_t>(i)], 4 * kRel,
                     1e-30, fmt::format("{} softmax d {} row {} col {}", name, d, r, i));
      }
    }
}

TEST(HotOpsSimd, RmsNormMatchesDoubleWithAndWithoutWeight) {
  if (builds().empty()) GTEST_SKIP() << "CPU lacks AVX2/FMA/F16C";
  for (const auto& [name, k] : builds())
    for (int64_t d : kLengths) {
      const int64_t rows = 3;
      const auto x = random_floats(static_cast<size_t>(rows * d), 5, -4, 4);
      const auto w = random_floats(static_cast<size_t>(d), 6, -2, 2);
      for (int variant = 0; variant < 3; ++variant) {
        const float* wp = variant == 0 ? nullptr : w.data();
        const float offset = variant == 2 ? 1.0f : 0.0f;
        const float eps = 1e-6f;
        std::vector<float> out(x.size());
        k->rms_norm_rows(x.data(), wp, offset, eps, out.data(), rows, d);
        for (int64_t r = 0; r < rows; ++r) {
          double ss = 0;
          for (int64_t i = 0; i < d; ++i)
            ss += static_cast<double>(x[static_cast<size_t>(r * d + i)]) *
                  x[static_cast<size_t>(r * d + i)];
          const double inv = 1.0 / std::sqrt(ss / static_cast<double>(d) + eps);
          for (int64_t i = 0; i < d; ++i) {
            const double scale = wp ? static_cast<double>(w[static_cast<size_t>(i)]) + offset : 1.0;
            const double want = x[static_cast<size_t>(r * d + i)] * inv * scale;
            expect_rel(out[static_cast<size_t>(r * d + i)], want, 4 * kRel, 1e-7,
                       fmt::format("{} rms_norm d {} variant {}", name, d, variant));
          }
        }
      }
    }
}

// Through the op API: the fast kernel (when the CPU has one) against forced reference kernels.
TEST(HotOpsFast, OpApiMatchesReferenceForBroadcastLayouts) {
  const auto run_both = [](auto&& fn) {
    const std::vector<float> fast = fn().to_float_vector();
    set_force_reference_kernels(true);
    const std::vector<float> ref = fn().to_float_vector();
    set_force_reference_kernels(false);
    return std::make_pair(fast, ref);
  };
  const int64_t rows = 70, d = 1000;  // > one thread grain, so the split path runs too
  const Tensor a =
      Tensor::from_floats({rows, d}, random_floats(static_cast<size_t>(rows * d), 7, -3, 3));
  const Tensor b =
      Tensor::from_floats({rows, d}, random_floats(static_cast<size_t>(rows * d), 8, -3, 3));
  const Tensor row = Tensor::from_floats({d}, random_floats(static_cast<size_t>(d), 9, -3, 3));
  const auto check = [](const std::pair<std::vector<float>, std::vector<float>>& p, double rel,
                        const char* what) {
    ASSERT_EQ(p.first.size(), p.second.size());
    for (size_t i = 0; i < p.first.size(); ++i)
      ASSERT_NEAR(p.first[i], p.second[i], rel * std::fabs(p.second[i]) + 1e-7)
          << what << " at " << i;
  };
  check(run_both([&] { return add(a, b); }), 0, "add");
  check(run_both([&] { return mul(a, row); }), 0, "mul row");
  check(run_both([&] { return add(row, a); }), 0, "add row first");
  check(run_both([&] { return mul(a, 0.5); }), 0, "mul scalar");
  check(run_both([&] { return add(a.t(), b.t()); }), 0, "add transposed (declined)");
  check(run_both([&] { return silu(a); }), 4e-6, "silu");
  check(run_both([&] { return softmax(a); }), 4e-6, "softmax");
  check(run_both([&] { return rms_norm(a, row, 1e-5f, 1.0f); }), 4e-6, "rms_norm");
  check(run_both([&] { return rms_norm(a, Tensor(), 1e-5f); }), 4e-6, "rms_norm no weight");
}

}  // namespace
}  // namespace wick
