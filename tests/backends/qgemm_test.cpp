// Prefill panels (backends/cpu/qgemm.h), 32- and 16-value groups: the AVX-512 VNNI unpacker gives
// the scalar unpacker's bytes exactly, its kernel the scalar kernel's floats bit for bit (same
// operations per output), and the scalar panel GEMM matches dequantize + double within the bound of
// 8-bit activations; every panel type, partial tiles (rows < 16, n_cols < 16) and 1..8 activation
// rows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backends/cpu/qgemm.h"
#include "core/error.h"
#include "core/quant/quant.h"

namespace wick {
namespace {

using cpu::kPanelRows;
using cpu::Panel;
using cpu::PanelKernels;

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

struct PanelBuf {
  std::vector<uint8_t> codes;
  std::vector<float> scale, min;
  std::vector<int32_t> wsum;
  explicit PanelBuf(int64_t k)
      : codes(static_cast<size_t>(k * kPanelRows), 0xAB),
        scale(static_cast<size_t>(k / 16 * kPanelRows), NAN),
        min(static_cast<size_t>(k / 16 * kPanelRows), NAN),
        wsum(static_cast<size_t>(k / 16 * kPanelRows), -1) {}
  Panel panel() { return {codes.data(), scale.data(), min.data(), wsum.data()}; }
};

std::vector<DType> panel_dtypes() {
  std::vector<DType> out;
  for (int i = 0; i < kDTypeCount; ++i)
    if (cpu::kPanelScalar.unpack[i] != nullptr) out.push_back(static_cast<DType>(i));
  return out;
}

// Every block type but Q2_K (16-value groups with a min: the row-dot GEMM serves it).
TEST(QGemmPanels, CoverEveryTypeButQ2K) {
  const std::vector<DType> want = {DType::kQ4_0,   DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                                   DType::kQ8_0,   DType::kQ4_K, DType::kQ5_K, DType::kIQ4_NL,
                                   DType::kIQ4_XS, DType::kQ6_K, DType::kQ3_K};
  for (DType dt : want) EXPECT_NE(cpu::kPanelScalar.unpack[static_cast<int>(dt)], nullptr);
  EXPECT_EQ(panel_dtypes().size(), want.size());
  EXPECT_EQ(cpu::panel_group_values(DType::kQ6_K), 16);
  EXPECT_EQ(cpu::panel_group_values(DType::kQ4_K), 32);
  EXPECT_EQ(cpu::panel_group_values(DType::kQ2_K), 0);
}

cpu::PanelKernelFn kernel_for(const PanelKernels& k, DType dt) {
  return cpu::panel_group_values(dt) == 16 ? k.kernel16 : k.kernel;
}

TEST(QGemmPanels, ScalarPanelMatchesDequantizedDouble) {
  for (DType dt : panel_dtypes()) {
    const int64_t k = dtype_info(dt).block_size == 256 ? 512 : 96, groups = k / 32;
    const int64_t panel_groups = k / cpu::panel_group_values(dt);
    const int rows = 11, m = 5;
    const uint64_t row_bytes = dtype_bytes_for(dt, static_cast<uint64_t>(k));
    const auto wv = random_floats(static_cast<size_t>(rows * k), 1);
    std::vector<uint8_t> w(row_bytes * rows);
    std::vector<float> deq(static_cast<size_t>(rows * k));
    for (int r = 0; r < rows; ++r) {
      quantize_row(dt, wv.data() + r * k, w.data() + r * row_bytes, k);
      dequantize_row_reference(dt, w.data() + r * row_bytes, deq.data() + r * k, k);
    }
    const auto x = random_floats(static_cast<size_t>(m * k), 2);
    std::vector<cpu::ActQ8x2> act(static_cast<size_t>(m * groups));
    for (int i = 0; i < m; ++i) cpu::quantize_act_q8x2_row(x.data() + i * k, k, &act[i * groups]);
    PanelBuf buf(k);
    cpu::kPanelScalar.unpack[static_cast<int>(dt)](w.data(), row_bytes, rows, panel_groups,
                                                   buf.panel());
    std::vector<float> out(static_cast<size_t>(m * kPanelRows), NAN);
    kernel_for(cpu::kPanelScalar, dt)(buf.panel(), panel_groups, act.data(),
                                      groups * sizeof(cpu::ActQ8x2), m, out.data(), kPanelRows,
                                      rows);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < rows; ++j) {
        double want = 0, bound = 0, magnitude = 0;
        for (int64_t g = 0; g < groups; ++g) {
          double amax = 0, wsum = 0;
          for (int64_t p = 32 * g; p < 32 * g + 32; ++p) {
            want += static_cast<double>(deq[j * k + p]) * x[i * k + p];
            magnitude += std::fabs(static_cast<double>(deq[j * k + p]) * x[i * k + p]);
            amax = std::max(amax, std::fabs(static_cast<double>(x[i * k + p])));
            wsum += std::fabs(deq[j * k + p]);
          }
          bound += amax / (127.0 * 508.0) * wsum;  // two passes: step d / 254, d = amax / 127
        }
        EXPECT_NEAR(out[i * kPanelRows + j], want, 1.01 * bound + 2e-6 * magnitude + 1e-6)
            << dtype_name(dt) << " " << i << "," << j;
      }
    for (int i = 0; i < m; ++i)  // columns past n_cols untouched
      for (int j = rows; j < kPanelRows; ++j) EXPECT_TRUE(std::isnan(out[i * kPanelRows + j]));
  }
}

TEST(QGemmPanels, TwoPassActivationsAreSixteenBitAccurate) {
  const auto x = random_floats(256, 7);
  std::vector<cpu::ActQ8x2> a(8);
  cpu::quantize_act_q8x2_row(x.data(), 256, a.data());
  for (int b = 0; b < 8; ++b) {
    float amax = 0;
    double sum = 0;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[b * 32 + i]));
    for (int i = 0; i < 32; ++i) {
      const double v =
          static_cast<double>(a[b].d) * a[b].q1[i] + static_cast<double>(a[b].d2) * a[b].q2[i];
      EXPECT_NEAR(v, x[b * 32 + i], amax / (127.0 * 508.0) * 1.01);
      sum += v;
    }
    EXPECT_NEAR(a[b].s, sum, 1e-5 * amax * 32);
  }
  EXPECT_THROW(cpu::quantize_act_q8x2_row(x.data(), 48, a.data()), Error);
}

// The AVX-512 activation quantizer writes the scalar spec's bytes and floats exactly: random rows
// of several scales, a block of zeros, single large values, values at the rounding ties of q1.
TEST(QGemmPanels, Avx512QuantizeMatchesScalarBitForBit) {
  const PanelKernels* simd = cpu::best_panel_kernels();
  if (simd == nullptr) GTEST_SKIP() << "CPU lacks AVX-512 VNNI";
  const int64_t k = 32 * 40;
  for (uint32_t seed = 0; seed < 20; ++seed) {
    std::vector<float> x = random_floats(k, 100 + seed);
    const float scale = std::ldexp(1.0f, static_cast<int>(seed) - 10);
    for (float& v : x) v *= scale;
    for (int i = 0; i < 32; ++i) x[32 + i] = 0.0f;                     // all-zero block
    x[64] = 1e4f * scale;                                              // one outlier
    for (int i = 0; i < 32; ++i) x[96 + i] = (i - 16) * 0.5f * scale;  // exact halves: ties
    x[96] = 127.0f * scale;
    x[128 + static_cast<int>(seed)] = -0.0f;
    std::vector<cpu::ActQ8x2> want(k / 32), got(k / 32);
    std::memset(got.data(), 0x5A, got.size() * sizeof(cpu::ActQ8x2));
    cpu::quantize_act_q8x2_row(x.data(), k, want.data());
    simd->quantize(x.data(), k, got.data());
    for (int64_t b = 0; b < k / 32; ++b) {
      ASSERT_EQ(std::memcmp(want[b].q1, got[b].q1, 32), 0) << "seed " << seed << " block " << b;
      ASSERT_EQ(std::memcmp(want[b].q2, got[b].q2, 32), 0) << "seed " << seed << " block " << b;
      ASSERT_EQ(std::memcmp(&want[b].d, &got[b].d, 4), 0) << "seed " << seed << " block " << b;
      ASSERT_EQ(std::memcmp(&want[b].d2, &got[b].d2, 4), 0) << "seed " << seed << " block " << b;
      ASSERT_EQ(std::memcmp(&want[b].s, &got[b].s, 4), 0) << "seed " << seed << " block " << b;
    }
  }
}

TEST(QGemmPanels, Avx512MatchesScalarBitForBit) {
  const PanelKernels* simd = cpu::best_panel_kernels();
  if (simd == nullptr) GTEST_SKIP() << "CPU lacks AVX-512 VNNI";
  for (DType dt : panel_dtypes()) {
    const int64_t k = dtype_info(dt).block_size == 256 ? 768 : 224, groups = k / 32;
    const int64_t panel_groups = k / cpu::panel_group_values(dt);
    const uint64_t row_bytes = dtype_bytes_for(dt, static_cast<uint64_t>(k));
    for (int rows : {16, 13, 1}) {
      const auto wv = random_floats(static_cast<size_t>(rows * k), 3 + rows);
      std::vector<uint8_t> w(row_bytes * rows);
      for (int r = 0; r < rows; ++r)
        quantize_row(dt, wv.data() + r * k, w.data() + r * row_bytes, k);
      PanelBuf ref(k), got(k);
      cpu::kPanelScalar.unpack[static_cast<int>(dt)](w.data(), row_bytes, rows, panel_groups,
                                                     ref.panel());
      simd->unpack[static_cast<int>(dt)](w.data(), row_bytes, rows, panel_groups, got.panel());
      ASSERT_EQ(got.codes, ref.codes) << dtype_name(dt) << " rows " << rows;
      ASSERT_EQ(0, std::memcmp(got.scale.data(), ref.scale.data(), got.scale.size() * 4));
      ASSERT_EQ(0, std::memcmp(got.min.data(), ref.min.data(), got.min.size() * 4));
      ASSERT_EQ(got.wsum, ref.wsum);
      const int m = 8;
      const auto x = random_floats(static_cast<size_t>(m * k), 4);
      std::vector<cpu::ActQ8x2> act(static_cast<size_t>(m * groups));
      for (int i = 0; i < m; ++i) cpu::quantize_act_q8x2_row(x.data() + i * k, k, &act[i * groups]);
      for (int n_act = 1; n_act <= cpu::kPanelMaxAct; ++n_act) {
        std::vector<float> a(static_cast<size_t>(m * 17), NAN), b(a.size(), NAN);
        kernel_for(cpu::kPanelScalar, dt)(ref.panel(), panel_groups, act.data(),
                                          groups * sizeof(cpu::ActQ8x2), n_act, a.data(), 17, rows);
        kernel_for(*simd, dt)(got.panel(), panel_groups, act.data(), groups * sizeof(cpu::ActQ8x2),
                              n_act, b.data(), 17, rows);
        ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4))
            << dtype_name(dt) << " rows " << rows << " n_act " << n_act;
      }
    }
  }
}

}  // namespace
}  // namespace wick
