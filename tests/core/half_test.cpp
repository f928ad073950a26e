// f16/bf16 conversions checked exhaustively against the hardware-independent definition:
// every f16 bit pattern round-trips, and f32->f16 rounding matches a double-precision oracle.
#include <gtest/gtest.h>

#include <cmath>

#include "core/half.h"

namespace wick {
namespace {

TEST(Half, EveryF16RoundTripsThroughF32) {
  for (uint32_t bits = 0; bits < 0x10000u; ++bits) {
    const float f = f16_to_f32(static_cast<uint16_t>(bits));
    if (std::isnan(f)) continue;
    EXPECT_EQ(f32_to_f16(f), bits) << "bits " << bits;
  }
}

TEST(Half, KnownValues) {
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_TRUE(std::isinf(f16_to_f32(0x7c00)));
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);   // rounds up to inf
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // tie to even (zero)
  EXPECT_EQ(f32_to_f16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 subnormal ulps: tie to even
}

// Rounding oracle: nearest f16 (ties to even) found by scanning neighbours in double precision.
TEST(Half, F32ToF16RoundsToNearestEven) {
  uint32_t state = 12345;
  for (int i = 0; i < 200000; ++i) {
    state = state * 1664525u + 1013904223u;
    const float f = f32_from_bits((state & 0x8fffffffu) | 0x30000000u);  // |f| in [2^-31, 2^2)
    if (std::isnan(f)) continue;
    const uint16_t got = f32_to_f16(f);
    const double err = std::fabs(static_cast<double>(f16_to_f32(got)) - f);
    for (int delta : {-1, 1}) {
      const int magnitude = (got & 0x7fff) + delta;
      if (magnitude < 0) continue;
      const uint16_t other = static_cast<uint16_t>((got & 0x8000) | magnitude);
      const double other_err = std::fabs(static_cast<double>(f16_to_f32(other)) - f);
      ASSERT_TRUE(err < other_err || (err == other_err && (got & 1) == 0)) << f;
    }
  }
}

TEST(BFloat16, RoundsToNearestEvenAndKeepsNaN) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f808000u)), 0x3f80);  // tie -> even
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f818000u)), 0x3f82);  // tie -> even (up)
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f808001u)), 0x3f81);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::nanf("")))));
  EXPECT_EQ(bf16_to_f32(0x4049), 3.140625f);
}

}  // namespace
}  // namespace wick
