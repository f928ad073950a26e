// Integer dot products of quantized weights with 8-bit activations (backends/cpu/qdot.h): every
// SIMD build against the scalar integer reference (same integer math; only float summation order
// may differ), the reference against dequantize + double with a bound derived from the activation
// quantization step, and linear() through the fast kernel for decode and prefill shapes, odd N,
// several blocks of K, bias and 1-2 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backend/kernel_table.h"
#include "backend/ops.h"
#include "backends/cpu/qdot.h"
#include "core/quant/quant.h"
#include "core/thread_pool.h"

namespace wick {
namespace {

using cpu::QDotKernels;

std::vector<DType> qdot_dtypes() {
  std::vector<DType> out;
  for (int i = 0; i < kDTypeCount; ++i)
    if (cpu::qdot_supported(static_cast<DType>(i))) out.push_back(static_cast<DType>(i));
  return out;
}

std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Weight rows quantized to `dt`, with their dequantized values.
struct QuantRows {
  std::vector<uint8_t> bytes;
  std::vector<float> values;
  uint64_t row_bytes = 0;
};
QuantRows quantize_rows(DType dt, const std::vector<float>& v, int64_t rows, int64_t k) {
  QuantRows q;
  q.row_bytes = dtype_bytes_for(dt, static_cast<uint64_t>(k));
  q.bytes.resize(q.row_bytes * static_cast<uint64_t>(rows));
  q.values.resize(v.size());
  for (int64_t r = 0; r < rows; ++r) {
    quantize_row(dt, v.data() + r * k, q.bytes.data() + r * q.row_bytes, k);
    dequantize_row_reference(dt, q.bytes.data() + r * q.row_bytes, q.values.data() + r * k, k);
  }
  return q;
}

// |w . x - w . dequant(quant(x))| <= sum over activation blocks of (step / 2) * sum |w| there, the
// step being amax / 127 for both activation formats; 1% slack plus float rounding of the sum.
double q8_error_bound(const float* w, const float* x, int64_t k, int block) {
  double bound = 0, magnitude = 0;
  for (int64_t b = 0; b < k; b += block) {
    double amax = 0, wsum = 0;
    for (int64_t j = b; j < b + block; ++j) {
      amax = std::max(amax, std::fabs(static_cast<double>(x[j])));
      wsum += std::fabs(w[j]);
      magnitude += std::fabs(static_cast<double>(w[j]) * x[j]);
    }
    bound += amax / 254.0 * wsum;
  }
  return 1.01 * bound + 1e-5 * magnitude + 1e-6;
}

double dot_double(const float* w, const float* x, int64_t k) {
  double s = 0;
  for (int64_t j = 0; j < k; ++j) s += static_cast<double>(w[j]) * x[j];
  return s;
}

// sum |w| |dequant(quant(x))|: the scale of the float summation error between two builds.
double dot_magnitude(DType dt, const float* w, const uint8_t* act, int64_t k) {
  std::vector<float> xq(static_cast<size_t>(k));
  if (cpu::qdot_act_block_values(dt) == quant::kQK_K) {
    dequantize_row_reference(DType::kQ8_K, act, xq.data(), k);
  } else {
    const auto* a = reinterpret_cast<const cpu::ActQ8*>(act);
    for (int64_t j = 0; j < k; ++j) xq[j] = a[j / 32].d * a[j / 32].qs[j % 32];
  }
  double s = 0;
  for (int64_t j = 0; j < k; ++j) s += std::fabs(static_cast<double>(w[j]) * xq[j]);
  return s;
}

std::vector<const QDotKernels*> builds() {
  const QDotKernels* b[4];
  const int n = cpu::runnable_qdot_builds(b, 4);
  return {b, b + n};
}

TEST(QDot, ActivationQuantizationRoundTrips) {
  const int64_t k = 512;
  const auto x = random_floats(k, 1);
  std::vector<uint8_t> act(cpu::qdot_act_row_bytes(DType::kQ4_0, k));
  cpu::quantize_activation_row(DType::kQ4_0, x.data(), k, act.data());
  const auto* a = reinterpret_cast<const cpu::ActQ8*>(act.data());
  for (int64_t b = 0; b < k / 32; ++b) {
    float amax = 0;
    int sum = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
    EXPECT_FLOAT_EQ(a[b].d, amax / 127.0f);
    for (int j = 0; j < 32; ++j) {
      EXPECT_LE(std::fabs(a[b].d * a[b].qs[j] - x[b * 32 + j]), a[b].d * 0.5001f);
      sum += a[b].qs[j];
    }
    EXPECT_FLOAT_EQ(a[b].s, a[b].d * static_cast<float>(sum));
  }
  EXPECT_THROW(cpu::quantize_activation_row(DType::kQ4_K, x.data(), 96, act.data()), Error);
  EXPECT_THROW(cpu::quantize_activation_row(DType::kF16, x.data(), 32, act.data()), Error);
}

// Scalar reference vs dequantize + double, and every SIMD build vs the scalar reference, for
// 1..4 activation rows and K of 1, 3 and 7 blocks (32-wide) or 1 and 3 super-blocks.
TEST(QDot, EveryBuildMatchesTheScalarReference) {
  const auto all = builds();
  ASSERT_GE(all.size(), 1u);
  EXPECT_STREQ(all[0]->name, "scalar");
  for (DType dt : qdot_dtypes()) {
    const int per = cpu::qdot_act_block_values(dt);
    for (int64_t k : {int64_t{per}, int64_t{3 * per}, int64_t{per == 32 ? 7 * per : 2 * per}}) {
      const int64_t n = 5, m = 4;
      const QuantRows w = quantize_rows(dt, random_floats(n * k, 2 + k), n, k);
      const auto x = random_floats(m * k, 3 + k, 2.0f);
      const size_t act_bytes = cpu::qdot_act_row_bytes(dt, k);
      std::vector<uint8_t> act(act_bytes * m);
      for (int64_t i = 0; i < m; ++i)
        cpu::quantize_activation_row(dt, x.data() + i * k, k, act.data() + i * act_bytes);
      const int64_t nb = k / dtype_info(dt).block_size;
      std::vector<float> ref(n * m);
      for (int64_t j = 0; j < n; ++j)
        cpu::kQDotScalar.dot[static_cast<int>(dt)](w.bytes.data() + j * w.row_bytes, act.data(),
                                                   act_bytes, 4, nb, ref.data() + j, n);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          const float* wr = w.values.data() + j * k;
          EXPECT_NEAR(ref[i * n + j], dot_double(wr, x.data() + i * k, k),
                      q8_error_bound(wr, x.data() + i * k, k, per))
              << dtype_name(dt) << " k " << k << " scalar vs double";
        }
      for (const QDotKernels* b : all)
        for (int rows = 1; rows <= cpu::kQDotMaxRows; ++rows)
          for (int64_t j = 0; j < n; ++j) {
            std::vector<float> got(m, NAN);
            b->dot[static_cast<int>(dt)](w.bytes.data() + j * w.row_bytes, act.data(), act_bytes,
                                         rows, nb, got.data(), 1);
            for (int i = 0; i < rows; ++i) {
              const double mag =
                  dot_magnitude(dt, w.values.data() + j * k, act.data() + i * act_bytes, k);
              // Same integers; float sums of nb block terms in another order.
              EXPECT_NEAR(got[i], ref[i * n + j], 1.2e-7 * static_cast<double>(nb + 8) * mag)
                  << b->name << " " << dtype_name(dt) << " k " << k << " rows " << rows;
            }
            for (int i = rows; i < m; ++i) EXPECT_TRUE(std::isnan(got[i])) << "wrote past n_act";
          }
    }
  }
}

// linear() through the kernel table (the integer path) against dequantize + double with the Q8
// bound: GEMV and GEMM row counts, odd N (tails of the 16-column thread tiles), bias, 1-2 threads.
TEST(QDot, LinearMatchesDequantizedDouble) {
  for (int threads : {1, 2}) {
    ThreadPool::set_global_threads(threads);
    for (DType dt : qdot_dtypes()) {
      const int per = cpu::qdot_act_block_values(dt);
      const int64_t k = per == 32 ? 5 * 32 : 2 * 256, n = 37;
      const QuantRows w = quantize_rows(dt, random_floats(n * k, 10), n, k);
      Tensor wt = Tensor::empty({n, k}, dt);
      std::memcpy(wt.raw_data(), w.bytes.data(), w.bytes.size());
      const auto bias = random_floats(n, 11);
      for (int64_t m : {1, 2, 3, 7, 33}) {
        const auto x = random_floats(m * k, 12 + m);
        const Tensor y = linear(Tensor::from_floats({m, k}, x), wt, Tensor::from_floats({n}, bias));
        const std::vector<float> got = y.to_float_vector();
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            const float* wr = w.values.data() + j * k;
            const double want = dot_double(wr, x.data() + i * k, k) + bias[j];
            ASSERT_NEAR(got[i * n + j], want, q8_error_bound(wr, x.data() + i * k, k, per))
                << dtype_name(dt) << " m " << m << " threads " << threads << " at " << i << ","
                << j;
          }
      }
    }
  }
  ThreadPool::set_global_threads(2);
}

// bf16 activations and a row-strided (narrowed) input take the same path.
TEST(QDot, LinearAcceptsHalfAndStridedActivations) {
  const int64_t k = 256, n = 19;
  const QuantRows w = quantize_rows(DType::kQ4_K, random_floats(n * k, 20), n, k);
  Tensor wt = Tensor::empty({n, k}, DType::kQ4_K);
  std::memcpy(wt.raw_data(), w.bytes.data(), w.bytes.size());
  const auto big = random_floats(9 * 2 * k, 21);
  const Tensor x = Tensor::from_floats({9, 2, k}, big).select(1, 1);  // (9, K), row stride 2K
  for (DType xdt : {DType::kF32, DType::kBF16}) {
    const Tensor xx = to_dtype(x, xdt);
    const std::vector<float> xv = xx.to_float_vector();
    const std::vector<float> got = linear(xx, wt).to_float_vector();
    for (int64_t i = 0; i < 9; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const float* wr = w.values.data() + j * k;
        const double tol =
            q8_error_bound(wr, xv.data() + i * k, k, 256) +
            (xdt == DType::kBF16 ? std::fabs(dot_double(wr, xv.data() + i * k, k)) / 128.0 : 0.0);
        ASSERT_NEAR(got[i * n + j], dot_double(wr, xv.data() + i * k, k), tol)
            << dtype_name(xdt) << " " << i << "," << j;
      }
  }
}

}  // namespace
}  // namespace wick
