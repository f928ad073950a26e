// Properties of the row codecs beyond the golden files: round-trip RMSE on N(0,1) data per dtype
// (printed as a table, each within a stated bound and ordered by bits per value), row-length
// errors, and finite exact zeros for all-zero rows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/half.h"
#include "core/quant/quant.h"

namespace wick {
namespace {

// splitmix64 + Box-Muller: the same numbers on every platform and standard library.
class Gaussian {
 public:
  explicit Gaussian(uint64_t seed) : state_(seed) {}
  float next() {
    const double u1 = (static_cast<double>(bits() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
    const double u2 = static_cast<double>(bits() >> 11) * 0x1.0p-53;
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  }

 private:
  uint64_t bits() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

const std::vector<DType>& codec_types() {
  static const std::vector<DType> types = {
      DType::kF16,  DType::kBF16, DType::kQ4_0,   DType::kQ4_1,  DType::kQ5_0, DType::kQ5_1,
      DType::kQ8_0, DType::kQ8_1, DType::kQ2_K,   DType::kQ3_K,  DType::kQ4_K, DType::kQ5_K,
      DType::kQ6_K, DType::kQ8_K, DType::kIQ4_NL, DType::kIQ4_XS};
  return types;
}

std::vector<float> round_trip(DType type, const std::vector<float>& x) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> blocks(dtype_bytes_for(type, x.size()));
  std::vector<float> y(x.size());
  quantize_row(type, x.data(), blocks.data(), n);
  dequantize_row(type, blocks.data(), y.data(), n);
  return y;
}

double rmse(const std::vector<float>& x, const std::vector<float>& y) {
  double sum = 0.0;
  for (size_t i = 0; i < x.size(); ++i) sum += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
  return std::sqrt(sum / static_cast<double>(x.size()));
}

// RMSE of every codec on 2^18 N(0,1) values, quantized as rows of 4096.
const std::map<DType, double>& gaussian_rmse() {
  static const std::map<DType, double> table = [] {
    constexpr int kRows = 64;
    constexpr int kRow = 4096;
    Gaussian gauss(42);
    std::vector<float> x(static_cast<size_t>(kRows) * kRow);
    for (float& v : x) v = gauss.next();
    std::map<DType, double> result;
    for (DType type : codec_types()) result[type] = rmse(x, round_trip(type, x));
    return result;
  }();
  return table;
}

// Upper bounds on N(0,1) RMSE, ~3% above what the ggml reference algorithms give on this data
// (wick's quantizers are byte-identical to them, see quant_golden_test.cpp).
const std::map<DType, double>& rmse_bounds() {
  static const std::map<DType, double> bounds = {
      {DType::kF16, 0.000215},  {DType::kBF16, 0.00172}, {DType::kQ4_0, 0.0885},
      {DType::kQ4_1, 0.0805},   {DType::kQ5_0, 0.0440},  {DType::kQ5_1, 0.0390},
      {DType::kQ8_0, 0.00551},  {DType::kQ8_1, 0.00551}, {DType::kQ2_K, 0.305},
      {DType::kQ3_K, 0.1555},   {DType::kQ4_K, 0.0735},  {DType::kQ5_K, 0.0371},
      {DType::kQ6_K, 0.0183},   {DType::kQ8_K, 0.00718}, {DType::kIQ4_NL, 0.0784},
      {DType::kIQ4_XS, 0.0790},
  };
  return bounds;
}

TEST(QuantRoundTrip, GaussianRmseWithinBounds) {
  std::printf("\n  %-8s %10s %10s   (N(0,1), 262144 values)\n", "dtype", "rmse", "bound");
  for (DType type : codec_types()) {
    const double got = gaussian_rmse().at(type);
    const double bound = rmse_bounds().at(type);
    std::printf("  %-8s %10.6f %10.6f\n", dtype_name(type), got, bound);
    EXPECT_LE(got, bound) << dtype_name(type);
    EXPECT_GT(got, 0.0) << dtype_name(type);
  }
}

// More bits, less error: each chain must be strictly decreasing in RMSE.
TEST(QuantRoundTrip, RmseOrderedByBits) {
  const std::vector<std::vector<DType>> chains = {
      {DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kQ8_0,
       DType::kBF16, DType::kF16},
      {DType::kQ4_0, DType::kQ5_0, DType::kQ8_0},
      {DType::kQ4_1, DType::kQ5_1, DType::kQ8_0},
      {DType::kQ4_0, DType::kIQ4_NL},
      {DType::kQ4_0, DType::kQ4_1},
      {DType::kQ3_K, DType::kIQ4_XS, DType::kQ5_K},
      {DType::kQ8_K, DType::kQ8_0},
  };
  for (const auto& chain : chains) {
    for (size_t i = 1; i < chain.size(); ++i) {
      EXPECT_LT(gaussian_rmse().at(chain[i]), gaussian_rmse().at(chain[i - 1]))
          << dtype_name(chain[i]) << " should beat " << dtype_name(chain[i - 1]);
    }
  }
}

TEST(QuantRoundTrip, RowLengthMustBeWholeBlocks) {
  std::vector<float> x(1024, 1.0f);
  std::vector<uint8_t> blocks(4096);
  for (DType type : codec_types()) {
    const int64_t block = dtype_info(type).block_size;
    if (block == 1) continue;
    for (int64_t n : {block - 1, block + 1, int64_t{-block}}) {
      try {
        quantize_row(type, x.data(), blocks.data(), n);
        ADD_FAILURE() << dtype_name(type) << " quantize accepted n=" << n;
      } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
        EXPECT_NE(std::string(e.what()).find(dtype_name(type)), std::string::npos) << e.what();
      }
      EXPECT_THROW(dequantize_row(type, blocks.data(), x.data(), n), Error) << dtype_name(type);
      EXPECT_THROW(dequantize_row_reference(type, blocks.data(), x.data(), n), Error);
    }
  }
}

TEST(QuantRoundTrip, NonFloatDtypesAreUnsupported) {
  float x[4] = {};
  uint8_t blocks[16] = {};
  for (DType type : {DType::kI32, DType::kI64, DType::kU8, DType::kBool}) {
    try {
      dequantize_row(type, blocks, x, 4);
      ADD_FAILURE() << dtype_name(type);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    }
    EXPECT_THROW(quantize_row(type, x, blocks, 4), Error);
  }
}

TEST(QuantRoundTrip, EmptyRowIsANoOp) {
  for (DType type : codec_types()) {
    EXPECT_NO_THROW(quantize_row(type, nullptr, nullptr, 0));
    EXPECT_NO_THROW(dequantize_row(type, nullptr, nullptr, 0));
  }
}

TEST(QuantRoundTrip, ZeroRowsDecodeToExactZeros) {
  const std::vector<float> zeros(512, 0.0f);
  for (DType type : codec_types()) {
    for (float v : round_trip(type, zeros)) {
      ASSERT_TRUE(std::isfinite(v)) << dtype_name(type);
      ASSERT_EQ(v, 0.0f) << dtype_name(type);
    }
  }
}

// Tiny, large-but-representable and constant rows stay finite and close.
TEST(QuantRoundTrip, ExtremeRowsStayFinite) {
  Gaussian gauss(7);
  for (float scale : {1e-30f, 1e-8f, 1e-3f, 1e3f, 1e4f}) {  // 1e4: |x| < f16 max
    std::vector<float> x(512);
    for (float& v : x) v = scale * gauss.next();
    for (DType type : codec_types()) {
      for (float v : round_trip(type, x))
        ASSERT_TRUE(std::isfinite(v)) << dtype_name(type) << " " << scale;
    }
  }
  const std::vector<float> constant(512, -0.75f);
  for (DType type : codec_types()) {
    const std::vector<float> y = round_trip(type, constant);
    EXPECT_LT(rmse(constant, y), 0.02) << dtype_name(type);
  }
}

// Non-finite inputs are garbage in, but must not crash or hit UB (run under the asan preset):
// codes are clamped, and a block without NaN/inf keeps decoding to finite values.
TEST(QuantRoundTrip, NonFiniteInputsAreContained) {
  std::vector<float> x(512, 0.25f);
  x[3] = std::nanf("");
  x[40] = std::numeric_limits<float>::infinity();
  x[300] = -std::numeric_limits<float>::infinity();
  for (DType type : codec_types()) {
    const std::vector<float> y = round_trip(type, x);
    if (dtype_info(type).block_size == 1) continue;
    // Blocks [256, 512) of the 32-wide types hold x[300] = -inf; values 320.. are clean.
    for (size_t i = 320; i < 512 && dtype_info(type).block_size == 32; ++i) {
      ASSERT_TRUE(std::isfinite(y[i])) << dtype_name(type) << " " << i;
    }
  }
}

// The activation formats carry derived sums the dot products rely on.
TEST(QuantRoundTrip, ActivationSumsAreConsistent) {
  Gaussian gauss(3);
  std::vector<float> x(1024);
  for (float& v : x) v = gauss.next();
  std::vector<quant::BlockQ8_K> k(x.size() / quant::kQK_K);
  quant::quantize_row_q8_k(x.data(), k.data(), static_cast<int64_t>(x.size()));
  for (const quant::BlockQ8_K& b : k) {
    for (int g = 0; g < quant::kQK_K / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += b.qs[16 * g + l];
      EXPECT_EQ(b.bsums[g], sum);
    }
  }
  std::vector<quant::BlockQ8_1> one(x.size() / quant::kQK);
  quant::quantize_row_q8_1(x.data(), one.data(), static_cast<int64_t>(x.size()));
  for (const quant::BlockQ8_1& b : one) {
    int sum = 0;
    for (int8_t q : b.qs) sum += q;
    const float d = f16_to_f32(b.d);
    EXPECT_NEAR(f16_to_f32(b.s), d * static_cast<float>(sum), std::fabs(d * sum) * 2e-3f + 1e-6f);
  }
}

TEST(QuantBlocks, SizesMatchDtypeTable) {
  EXPECT_EQ(sizeof(quant::BlockQ4_0), size_t(dtype_info(DType::kQ4_0).block_bytes));
  EXPECT_EQ(sizeof(quant::BlockQ4_1), size_t(dtype_info(DType::kQ4_1).block_bytes));
  EXPECT_EQ(sizeof(quant::BlockQ5_0), size_t(dtype_info(DType::kQ5_0).block_bytes));
  EXPECT_EQ(sizeof(quant::BlockQ5_1), size_t(dtype_info(DType::kQ5_1).block_bytes));
  EXPECT_EQ(sizeof(quant::BlockQ8_0), size_t(dtype_info(DType::kQ8_0).block_bytes));
  EXPECT_EQ(sizeof(quant::BlockQ8_1), size_t(dtype_info(DType::kQ8_1).block_bytes));
  EXPECT_EQ(sizeof(quant::BlockQ2_K), size_t(dtype_info(DType::kQ2_K).block_bytes));
  EXPECT_EQ(sizeof(quant::BlockQ3_K), size_t(dtype_info(DType::kQ3_K).block_bytes));
  EXPECT_EQ(sizeof(quant::BlockQ4_K), size_t(dtype_info(DType::kQ4_K).block_bytes));
  EXPECT_EQ(sizeof(quant::BlockQ5_K), size_t(dtype_info(DType::kQ5_K).block_bytes));
  EXPECT_EQ(sizeof(quant::BlockQ6_K), size_t(dtype_info(DType::kQ6_K).block_bytes));
  EXPECT_EQ(sizeof(quant::BlockQ8_K), size_t(dtype_info(DType::kQ8_K).block_bytes));
  EXPECT_EQ(sizeof(quant::BlockIQ4_NL), size_t(dtype_info(DType::kIQ4_NL).block_bytes));
  EXPECT_EQ(sizeof(quant::BlockIQ4_XS), size_t(dtype_info(DType::kIQ4_XS).block_bytes));
  EXPECT_EQ(quant::kQK, dtype_info(DType::kQ4_0).block_size);
  EXPECT_EQ(quant::kQK_K, dtype_info(DType::kQ4_K).block_size);
}

}  // namespace
}  // namespace wick
