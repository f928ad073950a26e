// SIMD integer dot products of quantized weight rows with 1..kQDotMaxRows quantized activation
// rows (qdot.h), written once over 256-bit integer vectors: qdot_avx2.cpp compiles it with
// maddubs + madd, qdot_avx512.cpp with AVX512_VNNI's vpdpbusd on ymm registers (Zen 4 splits zmm
// into two 256-bit halves anyway, and 256-bit vectors keep the 32-value block in one register).
// Each weight block is unpacked once and used for every activation row. Codes are made unsigned
// (nibbles, or |w| with the sign moved onto the activation) because the byte multiplies take one
// unsigned operand; sums are exact int32, scaled to float once per block or super-block.
#pragma once

#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <cstring>

#include "backends/cpu/qdot.h"
#include "backends/cpu/qdot_blocks.h"

#if !defined(__AVX2__) || !defined(__F16C__)
#error "qdot_impl.h needs AVX2/F16C (include it from *_avx2.cpp or *_avx512.cpp)"
#endif

namespace wick::cpu {
namespace {

#define WICK_INLINE inline __attribute__((always_inline))

using quant::kQK;
using quant::kQK_K;

// acc (8 x i32) += sums of 4 adjacent u8 x s8 products. u <= 128 so maddubs never saturates.
WICK_INLINE __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(acc, u, s);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

// (8 x i32) sums of adjacent u8 x s8 pairs, each pair sum times the i16 `scale` of its lane.
WICK_INLINE __m256i dot_u8s8_scaled(__m256i u, __m256i s, __m256i scale) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), scale);
}

WICK_INLINE float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

WICK_INLINE __m256i loadu(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

WICK_INLINE float half(uint16_t h) {
  return _cvtsh_ss(h);
}

const uint8_t* act_row(const void* act, size_t stride, int r) {
  return static_cast<const uint8_t*>(act) + static_cast<size_t>(r) * stride;
}

// Low nibbles of 16 bytes as values 0..15, high nibbles as 16..31 (the Q4_0 block order).
WICK_INLINE __m256i nibbles32(const uint8_t* qs) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0f));
}

// Byte j = 0x10 where bit j of the 32-bit little-endian qh is set (Q5_0/Q5_1 fifth bits).
WICK_INLINE __m256i fifth_bits32(const uint8_t* qh_bytes) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(qh)),
                          _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2,
                                           2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit),
                          _mm256_set1_epi8(0x10));
}

WICK_INLINE __m256i iq4_table() {
  return _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(quant::kIQ4Values)));
}

// ---- 32-wide types ----

// Codes of one block as 32 bytes in value order; kSigned: int8 codes (x = d * code), otherwise
// unsigned codes with x = d * code + m.
template <DType T>
struct W32;
// Q4_0 and Q5_0 as unsigned codes with a min of -8 d / -16 d (x = d * code + min): measured
// faster than subtracting the offset and moving the sign onto the activations.
template <>
struct W32<DType::kQ4_0> {
  using Block = quant::BlockQ4_0;
  static constexpr bool kSigned = false;
  static WICK_INLINE __m256i codes(const Block& b) { return nibbles32(b.qs); }
  static WICK_INLINE float min(const Block& b) { return -8.0f * half(b.d); }
};
template <>
struct W32<DType::kQ4_1> {
  using Block = quant::BlockQ4_1;
  static constexpr bool kSigned = false;
  static WICK_INLINE __m256i codes(const Block& b) { return nibbles32(b.qs); }
  static WICK_INLINE float min(const Block& b) { return half(b.m); }
};
template <>
struct W32<DType::kQ5_0> {
  using Block = quant::BlockQ5_0;
  static constexpr bool kSigned = false;
  static WICK_INLINE __m256i codes(const Block& b) {
    return _mm256_or_si256(nibbles32(b.qs), fifth_bits32(b.qh));
  }
  static WICK_INLINE float min(const Block& b) { return -16.0f * half(b.d); }
};
template <>
struct W32<DType::kQ5_1> {
  using Block = quant::BlockQ5_1;
  static constexpr bool kSigned = false;
  static WICK_INLINE __m256i codes(const Block& b) {
    return _mm256_or_si256(nibbles32(b.qs), fifth_bits32(b.qh));
  }
  static WICK_INLINE float min(const Block& b) { return half(b.m); }
};
template <>
struct W32<DType::kQ8_0> {
  using Block = quant::BlockQ8_0;
  static constexpr bool kSigned = true;
  static WICK_INLINE __m256i codes(const Block& b) { return loadu(b.qs); }
};
template <>
struct W32<DType::kIQ4_NL> {
  using Block = quant::BlockIQ4_NL;
  static constexpr bool kSigned = true;
  static WICK_INLINE __m256i codes(const Block& b) {
    return _mm256_shuffle_epi8(iq4_table(), nibbles32(b.qs));
  }
};

// One weight block against R activation rows, into acc[r] (float lanes) and accm[r] (min terms).
template <DType T, int R>
WICK_INLINE void block32(const typename W32<T>::Block& w, const void* act, size_t stride, int64_t b,
                         __m256* acc, float* accm) {
  const __m256i q = W32<T>::codes(w);
  const __m256i u = W32<T>::kSigned ? _mm256_sign_epi8(q, q) : q;
  const float dw = half(w.d);
  float mw = 0.0f;
  if constexpr (!W32<T>::kSigned) mw = W32<T>::min(w);
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    const ActQ8& a = reinterpret_cast<const ActQ8*>(act_row(act, stride, r))[b];
    __m256i av = loadu(a.qs);
    if constexpr (W32<T>::kSigned) av = _mm256_sign_epi8(av, q);
    const __m256i p = dot_u8s8(_mm256_setzero_si256(), u, av);
    acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * a.d), acc[r]);
    if constexpr (!W32<T>::kSigned) accm[r] += mw * a.s;
  }
}

template <DType T, int R>
void dot_rows_32(const void* w_row, const void* act, size_t stride, int64_t nb, float* out,
                 int64_t out_stride) {
  const auto* w = static_cast<const typename W32<T>::Block*>(w_row);
  // Two accumulators per row: one fma per block would otherwise chain on its latency.
  __m256 acc0[R], acc1[R];
  float accm[R];
  for (int r = 0; r < R; ++r) {
    acc0[r] = acc1[r] = _mm256_setzero_ps();
    accm[r] = 0.0f;
  }
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    block32<T, R>(w[b], act, stride, b, acc0, accm);
    block32<T, R>(w[b + 1], act, stride, b + 1, acc1, accm);
  }
  if (b < nb) block32<T, R>(w[b], act, stride, b, acc0, accm);
  for (int r = 0; r < R; ++r) out[r * out_stride] = hsum(_mm256_add_ps(acc0[r], acc1[r])) + accm[r];
}

// ---- 256-wide types (Q8_K activations) ----

WICK_INLINE const quant::BlockQ8_K& act_k(const void* act, size_t stride, int r, int64_t b) {
  return reinterpret_cast<const quant::BlockQ8_K*>(act_row(act, stride, r))[b];
}

// Per-lane i16 scale: sc_lo in the low 128 bits, sc_hi in the high (two groups of 16 values).
WICK_INLINE __m256i scale_pair(int sc_lo, int sc_hi) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(sc_hi)),
                          _mm_set1_epi16(static_cast<int16_t>(sc_lo)));
}

template <int R>
WICK_INLINE void finish_super(__m256i* isum, __m256i* msum, bool has_min, float d, float dmin,
                              const void* act, size_t stride, int64_t b, __m256* acc) {
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    const float da = act_k(act, stride, r, b).d;
    acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r]), _mm256_set1_ps(d * da), acc[r]);
    if (has_min)
      acc[r] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum[r]), _mm256_set1_ps(dmin * da), acc[r]);
  }
}

// Q4_K / Q5_K: 8 groups of 32, x = d * sc * q - dmin * m.
template <DType T, int R>
WICK_INLINE void super_q45k(const void* wp, const void* act, size_t stride, int64_t b,
                            __m256* acc) {
  using Block = std::conditional_t<T == DType::kQ4_K, quant::BlockQ4_K, quant::BlockQ5_K>;
  const Block& w = static_cast<const Block*>(wp)[b];
  uint8_t sc[8], mn[8];
  unpack_scales_mins_k4(w.scales, sc, mn);
  __m256i isum[R], msum[R];
  // mins per 16-value bsum: each of the 8 mins twice.
  const __m128i m8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(mn));
  const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8));
  for (int r = 0; r < R; ++r) {
    isum[r] = _mm256_setzero_si256();
    msum[r] = _mm256_madd_epi16(loadu(act_k(act, stride, r, b).bsums), mins16);
  }
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  [[maybe_unused]] __m256i qh;
  if constexpr (T == DType::kQ5_K) qh = loadu(w.qh);
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    const __m256i raw = loadu(w.qs + 32 * c);
    __m256i lo = _mm256_and_si256(raw, low4);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
    if constexpr (T == DType::kQ5_K) {
      const __m256i one = _mm256_set1_epi8(1);
      lo = _mm256_or_si256(
          lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4));
      hi = _mm256_or_si256(
          hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4));
    }
    const __m256i s0 = _mm256_set1_epi16(sc[2 * c]), s1 = _mm256_set1_epi16(sc[2 * c + 1]);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const int8_t* a = act_k(act, stride, r, b).qs + 64 * c;
      isum[r] = _mm256_add_epi32(isum[r], dot_u8s8_scaled(lo, loadu(a), s0));
      isum[r] = _mm256_add_epi32(isum[r], dot_u8s8_scaled(hi, loadu(a + 32), s1));
    }
  }
  finish_super<R>(isum, msum, true, half(w.d), half(w.dmin), act, stride, b, acc);
}

// Q6_K: 16 groups of 16, x = d * sc * (q - 32), q 6 bits.
template <int R>
WICK_INLINE void super_q6k(const void* wp, const void* act, size_t stride, int64_t b, __m256* acc) {
  const quant::BlockQ6_K& w = static_cast<const quant::BlockQ6_K*>(wp)[b];
  const __m256i sc16 =
      _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w.scales)));
  __m256i isum[R];
  for (int r = 0; r < R; ++r)  // the -32 offset: -32 * sum_g sc_g * bsum_g
    isum[r] = _mm256_sub_epi32(
        _mm256_setzero_si256(),
        _mm256_slli_epi32(_mm256_madd_epi16(loadu(act_k(act, stride, r, b).bsums), sc16), 5));
  const __m256i low4 = _mm256_set1_epi8(0x0f), low2 = _mm256_set1_epi8(3);
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    const __m256i ql0 = loadu(w.ql + 64 * h), ql1 = loadu(w.ql + 64 * h + 32);
    const __m256i qh = loadu(w.qh + 32 * h);
    __m256i q[4];
    q[0] = _mm256_and_si256(ql0, low4);
    q[1] = _mm256_and_si256(ql1, low4);
    q[2] = _mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4);
    q[3] = _mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4);
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const __m256i top = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), low2);
      const __m256i u = _mm256_or_si256(q[k], _mm256_slli_epi16(top, 4));
      const int g = 8 * h + 2 * k;
      const __m256i s = scale_pair(w.scales[g], w.scales[g + 1]);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const int8_t* a = act_k(act, stride, r, b).qs + 128 * h + 32 * k;
        isum[r] = _mm256_add_epi32(isum[r], dot_u8s8_scaled(u, loadu(a), s));
      }
    }
  }
  finish_super<R>(isum, nullptr, false, half(w.d), 0.0f, act, stride, b, acc);
}

// Q3_K (x = d * sc * (q - 4), q 3 bits) and Q2_K (x = d * sc * q - dmin * m, q 2 bits): 16 groups
// of 16 with the low 2 bits packed alike.
template <DType T, int R>
WICK_INLINE void super_q23k(const void* wp, const void* act, size_t stride, int64_t b,
                            __m256* acc) {
  using Block = std::conditional_t<T == DType::kQ3_K, quant::BlockQ3_K, quant::BlockQ2_K>;
  const Block& w = static_cast<const Block*>(wp)[b];
  int8_t sc[16];
  __m256i isum[R], msum[R];
  if constexpr (T == DType::kQ3_K) {
    unpack_scales_q3(w.scales, sc);
    const __m256i sc16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)));
    for (int r = 0; r < R; ++r)  // the -4 offset: -4 * sum_g sc_g * bsum_g
      isum[r] = _mm256_sub_epi32(
          _mm256_setzero_si256(),
          _mm256_slli_epi32(_mm256_madd_epi16(loadu(act_k(act, stride, r, b).bsums), sc16), 2));
  } else {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.scales));
    const __m256i mins16 = _mm256_cvtepu8_epi16(
        _mm_srli_epi16(_mm_and_si128(packed, _mm_set1_epi8(static_cast<char>(0xf0))), 4));
    for (int g = 0; g < 16; ++g) sc[g] = static_cast<int8_t>(w.scales[g] & 0x0f);
    for (int r = 0; r < R; ++r) {
      isum[r] = _mm256_setzero_si256();
      msum[r] = _mm256_madd_epi16(loadu(act_k(act, stride, r, b).bsums), mins16);
    }
  }
  const __m256i low2 = _mm256_set1_epi8(3);
  [[maybe_unused]] __m256i hm;
  if constexpr (T == DType::kQ3_K) hm = loadu(w.hmask);
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    const __m256i q2 = loadu(w.qs + 32 * h);
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      __m256i u = _mm256_and_si256(_mm256_srli_epi16(q2, 2 * j), low2);
      if constexpr (T == DType::kQ3_K) {
        const __m256i bit = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + j), _mm256_set1_epi8(1));
        u = _mm256_or_si256(u, _mm256_slli_epi16(bit, 2));
      }
      const int g = 8 * h + 2 * j;
      const __m256i s = scale_pair(sc[g], sc[g + 1]);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const int8_t* a = act_k(act, stride, r, b).qs + 128 * h + 32 * j;
        isum[r] = _mm256_add_epi32(isum[r], dot_u8s8_scaled(u, loadu(a), s));
      }
    }
  }
  if constexpr (T == DType::kQ3_K) {
    finish_super<R>(isum, nullptr, false, half(w.d), 0.0f, act, stride, b, acc);
  } else {
    finish_super<R>(isum, msum, true, half(w.d), half(w.dmin), act, stride, b, acc);
  }
}

// IQ4_XS: 8 groups of 32, x = d * (s - 32) * kIQ4Values[q].
template <int R>
WICK_INLINE void super_iq4xs(const void* wp, const void* act, size_t stride, int64_t b,
                             __m256* acc) {
  const quant::BlockIQ4_XS& w = static_cast<const quant::BlockIQ4_XS*>(wp)[b];
  int8_t sc[8];
  unpack_scales_iq4_xs(w, sc);
  __m256i isum[R];
  for (int r = 0; r < R; ++r) isum[r] = _mm256_setzero_si256();
  const __m256i table = iq4_table();
#pragma GCC unroll 8
  for (int g = 0; g < 8; ++g) {
    const __m256i q = _mm256_shuffle_epi8(table, nibbles32(w.qs + 16 * g));
    const __m256i u = _mm256_sign_epi8(q, q);
    const __m256i s = _mm256_set1_epi16(sc[g]);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256i a = _mm256_sign_epi8(loadu(act_k(act, stride, r, b).qs + 32 * g), q);
      isum[r] = _mm256_add_epi32(isum[r], dot_u8s8_scaled(u, a, s));
    }
  }
  finish_super<R>(isum, nullptr, false, half(w.d), 0.0f, act, stride, b, acc);
}

template <DType T, int R>
void dot_rows_k(const void* w_row, const void* act, size_t stride, int64_t nb, float* out,
                int64_t out_stride) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    if constexpr (T == DType::kQ4_K || T == DType::kQ5_K) {
      super_q45k<T, R>(w_row, act, stride, b, acc);
    } else if constexpr (T == DType::kQ6_K) {
      super_q6k<R>(w_row, act, stride, b, acc);
    } else if constexpr (T == DType::kQ3_K || T == DType::kQ2_K) {
      super_q23k<T, R>(w_row, act, stride, b, acc);
    } else {
      static_assert(T == DType::kIQ4_XS);
      super_iq4xs<R>(w_row, act, stride, b, acc);
    }
  }
  for (int r = 0; r < R; ++r) out[r * out_stride] = hsum(acc[r]);
}

template <DType T, int R>
void dot_rows(const void* w_row, const void* act, size_t stride, int64_t nb, float* out,
              int64_t out_stride) {
  if constexpr (T == DType::kQ2_K || T == DType::kQ3_K || T == DType::kQ4_K || T == DType::kQ5_K ||
                T == DType::kQ6_K || T == DType::kIQ4_XS) {
    dot_rows_k<T, R>(w_row, act, stride, nb, out, out_stride);
  } else {
    dot_rows_32<T, R>(w_row, act, stride, nb, out, out_stride);
  }
}

template <DType T>
void dot_simd(const void* w_row, const void* act, size_t stride, int n_act, int64_t nb, float* out,
              int64_t out_stride) {
  switch (n_act) {
    case 1:
      return dot_rows<T, 1>(w_row, act, stride, nb, out, out_stride);
    case 2:
      return dot_rows<T, 2>(w_row, act, stride, nb, out, out_stride);
    case 3:
      return dot_rows<T, 3>(w_row, act, stride, nb, out, out_stride);
    default:
      return dot_rows<T, 4>(w_row, act, stride, nb, out, out_stride);
  }
}

QDotKernels make_qdot_kernels(const char* name) {
  QDotKernels k{name, {}};
  k.dot[static_cast<int>(DType::kQ4_0)] = &dot_simd<DType::kQ4_0>;
  k.dot[static_cast<int>(DType::kQ4_1)] = &dot_simd<DType::kQ4_1>;
  k.dot[static_cast<int>(DType::kQ5_0)] = &dot_simd<DType::kQ5_0>;
  k.dot[static_cast<int>(DType::kQ5_1)] = &dot_simd<DType::kQ5_1>;
  k.dot[static_cast<int>(DType::kQ8_0)] = &dot_simd<DType::kQ8_0>;
  k.dot[static_cast<int>(DType::kIQ4_NL)] = &dot_simd<DType::kIQ4_NL>;
  k.dot[static_cast<int>(DType::kQ2_K)] = &dot_simd<DType::kQ2_K>;
  k.dot[static_cast<int>(DType::kQ3_K)] = &dot_simd<DType::kQ3_K>;
  k.dot[static_cast<int>(DType::kQ4_K)] = &dot_simd<DType::kQ4_K>;
  k.dot[static_cast<int>(DType::kQ5_K)] = &dot_simd<DType::kQ5_K>;
  k.dot[static_cast<int>(DType::kQ6_K)] = &dot_simd<DType::kQ6_K>;
  k.dot[static_cast<int>(DType::kIQ4_XS)] = &dot_simd<DType::kIQ4_XS>;
  return k;
}

#undef WICK_INLINE

}  // namespace
}  // namespace wick::cpu
