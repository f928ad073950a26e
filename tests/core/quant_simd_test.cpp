// The runtime-selected SIMD decoders against the scalar reference, bit for bit, on random blocks
// (every byte random except finite scales) for every dtype; types without a fast path simply
// compare the reference with itself through the dispatching entry point.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "core/half.h"
#include "core/quant/dequant_fast.h"
#include "core/quant/quant.h"

namespace wick {
namespace {

uint64_t next_random(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Byte offsets of the f16 scale fields, which must stay finite for a bitwise comparison.
std::vector<int> f16_scale_offsets(DType type) {
  switch (type) {
    case DType::kQ4_0:
    case DType::kQ5_0:
    case DType::kQ8_0:
    case DType::kIQ4_NL:
    case DType::kIQ4_XS:
      return {0};
    case DType::kQ4_1:
    case DType::kQ5_1:
    case DType::kQ8_1:
    case DType::kQ4_K:
    case DType::kQ5_K:
      return {0, 2};
    case DType::kQ2_K:
      return {80, 82};
    case DType::kQ3_K:
      return {108};
    case DType::kQ6_K:
      return {208};
    default:
      return {};
  }
}

std::vector<uint8_t> random_blocks(DType type, int64_t n_blocks, uint64_t seed) {
  const DTypeInfo& info = dtype_info(type);
  std::vector<uint8_t> bytes(static_cast<size_t>(n_blocks * info.block_bytes));
  uint64_t state = seed;
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(next_random(&state));
  for (int64_t i = 0; i < n_blocks; ++i) {
    uint8_t* block = bytes.data() + i * info.block_bytes;
    for (int off : f16_scale_offsets(type)) {
      // Finite: clear one exponent bit so the exponent is never all ones.
      const auto h = static_cast<uint16_t>(next_random(&state) & 0xbfffu);
      std::memcpy(block + off, &h, 2);
    }
    if (type == DType::kQ8_K) {
      const float d = static_cast<float>(next_random(&state) % 2001) * 1e-3f - 1.0f;
      std::memcpy(block, &d, 4);
    }
  }
  return bytes;
}

class QuantSimd : public testing::TestWithParam<DType> {};

TEST_P(QuantSimd, DispatchMatchesReferenceBitForBit) {
  const DType type = GetParam();
  const int64_t block = dtype_info(type).block_size;
  for (int64_t n_blocks : {int64_t{1}, int64_t{3}, int64_t{64}}) {
    const std::vector<uint8_t> bytes = random_blocks(type, n_blocks, 1234 + uint64_t(n_blocks));
    const int64_t n = n_blocks * block;
    std::vector<float> ref(static_cast<size_t>(n));
    std::vector<float> fast(static_cast<size_t>(n));
    dequantize_row_reference(type, bytes.data(), ref.data(), n);
    dequantize_row(type, bytes.data(), fast.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(f32_bits(fast[size_t(i)]), f32_bits(ref[size_t(i)]))
          << dtype_name(type) << " value " << i << ": " << fast[size_t(i)] << " vs "
          << ref[size_t(i)];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantSimd,
                         testing::Values(DType::kF16, DType::kBF16, DType::kQ4_0, DType::kQ4_1,
                                         DType::kQ5_0, DType::kQ5_1, DType::kQ8_0, DType::kQ8_1,
                                         DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K,
                                         DType::kQ6_K, DType::kQ8_K, DType::kIQ4_NL,
                                         DType::kIQ4_XS),
                         [](const testing::TestParamInfo<DType>& param_info) {
                           return std::string(dtype_name(param_info.param));
                         });

// On an AVX2 machine the fast path must actually be taken for the types it covers.
TEST(QuantSimdDispatch, Avx2CoversTheHotTypes) {
  if (!cpu_features().has_avx2_set()) GTEST_SKIP() << "no AVX2/FMA/F16C (or WICK_DISABLE_AVX2)";
  for (DType type : {DType::kQ4_0, DType::kQ8_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,
                     DType::kIQ4_NL, DType::kIQ4_XS}) {
    EXPECT_NE(quant::fast_dequantizer(type), nullptr) << dtype_name(type);
  }
  EXPECT_EQ(quant::fast_dequantizer(DType::kQ2_K), nullptr);
}

}  // namespace
}  // namespace wick
