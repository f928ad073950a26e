// Scalar pieces of the quantized dot products shared by the reference (qdot_ref.cpp) and the SIMD
// builds (qdot_impl.h): the per-group scales of the super-block types, unpacked to small ints.
// Everything sits in an anonymous namespace so each ISA translation unit keeps its own copy (an
// ODR merge could otherwise run AVX-512 code on an AVX2-only CPU).
#pragma once

#include <cstdint>

#include "core/quant/blocks.h"

namespace wick::cpu {
namespace {

// Q4_K/Q5_K: the 8 six-bit scales and mins packed in 12 bytes (see core/quant/k_quants.cpp).
inline void unpack_scales_mins_k4(const uint8_t* q, uint8_t* sc, uint8_t* mn) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = q[j] & 63;
    mn[j] = q[j + 4] & 63;
  }
  for (int j = 4; j < 8; ++j) {
    sc[j] = static_cast<uint8_t>((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
    mn[j] = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Q3_K: the 16 six-bit scales, minus 32.
inline void unpack_scales_q3(const uint8_t* q, int8_t* sc) {
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? (q[j] & 0x0f) : (q[j - 8] >> 4);
    sc[j] = static_cast<int8_t>((low | (((q[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
  }
}

// IQ4_XS: the 8 six-bit scales, minus 32.
inline void unpack_scales_iq4_xs(const quant::BlockIQ4_XS& b, int8_t* sc) {
  for (int g = 0; g < 8; ++g) {
    const int ls =
        ((b.scales_l[g / 2] >> (4 * (g % 2))) & 0x0f) | (((b.scales_h >> (2 * g)) & 3) << 4);
    sc[g] = static_cast<int8_t>(ls - 32);
  }
}

}  // namespace
}  // namespace wick::cpu
