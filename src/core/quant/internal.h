// Helpers shared by the block codecs in core/quant/ (not part of the public API): rounding as
// ggml rounds, and the scale searches the K and IQ4 quantizers are built on (scale_search.cpp).
// The searches keep ggml's float evaluation order so their choices match ggml's reference
// quantizers; reordering a sum here changes which scale wins on near ties.
#pragma once

#include <cstdint>

#include "core/half.h"

namespace wick::quant::detail {

// Round to nearest, ties to even, for |x| < 2^22: adding 1.5 * 2^23 pushes the fraction out of
// the mantissa, so the low 23 bits hold the rounded integer + 2^22. Never UB (NaN gives junk).
inline int nearest_int(float x) {
  const float shifted = x + 12582912.0f;
  return static_cast<int>(f32_bits(shifted) & 0x7fffffu) - 0x400000;
}

inline int clamp_int(int v, int lo, int hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

inline float f16_round_trip(float x) {
  return f16_to_f32(f32_to_f16(x));
}

// Groups whose largest magnitude is below this are treated as all zero (ggml's GROUP_MAX_EPS).
inline constexpr float kGroupMaxEps = 1e-15f;

// Symmetric scale search with weights w_i = x_i^2: tries iscale = -(nmax + 0.1 k) / max for
// k = -9..9 and keeps the least-squares scale of the best. L[i] in [0, 2 nmax), x ~ scale *
// (L[i] - nmax). ggml's make_qx_quants(n, nmax, x, L, rmse_type = 1, NULL).
float search_scale_symmetric(int n, int nmax, const float* x, int8_t* L);

// Symmetric scale for 3-bit groups: rounds at -nmax / max, then moves single values while the
// weighted (x^2) fit improves, up to 5 passes. L[i] in [0, 2 nmax). ggml's make_q3_quants.
float search_scale_q3(int n, int nmax, const float* x, int8_t* L);

// Asymmetric scale + min search: x ~ scale * L[i] - *neg_min with L[i] in [0, nmax], trying
// nstep + 1 grid offsets rmin + k * rdelta and solving weighted least squares for each.
// use_mad picks |error| instead of error^2. ggml's make_qkx2_quants.
float search_scale_min(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                       float* neg_min, float rmin, float rdelta, int nstep, bool use_mad);

// Index of the codebook entry nearest to x in a sorted table of n values (ties go up).
int nearest_codebook_index(int n, const int8_t* values, float x);

}  // namespace wick::quant::detail
