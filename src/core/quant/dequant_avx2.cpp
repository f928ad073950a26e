// AVX2 decoders for Q4_0, Q8_0, Q4_K, Q5_K, Q6_K, IQ4_NL and IQ4_XS, selected by dequant_fast.cpp
// only on CPUs with AVX2 and F16C. Every output is one int->float conversion and the same multiply
// (and subtract) as the scalar reference, in the same order, so the bits match it; contraction into
// FMA is switched off below because it would round once instead of twice. Only intrinsics and
// file-local functions here: an inline function from a shared header, compiled with AVX2 and kept
// out of line, could be the copy the linker picks for everyone.
#pragma GCC optimize("fp-contract=off")

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cstdint>
#include <cstring>

#include "core/quant/blocks.h"
#include "core/quant/dequant_fast.h"

#if defined(__x86_64__)
namespace wick::quant {
namespace {

// Exact for every non-NaN f16; NaN scales give NaN outputs (the payload may differ from the
// portable conversion's).
inline float half_to_float(uint16_t h) {
  return _cvtsh_ss(h);
}

// out[0..8) = float(int8 lanes 0..7 of v) * scale.
inline void store8(float* out, __m128i v, __m256 scale) {
  _mm256_storeu_ps(out, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)), scale));
}

// out[0..16) = float(int8 lanes of v) * scale.
inline void store16(float* out, __m128i v, __m256 scale) {
  store8(out, v, scale);
  store8(out + 8, _mm_srli_si128(v, 8), scale);
}

// out[0..8) = float(int8 lanes 0..7 of v) * scale - offset.
inline void store8_affine(float* out, __m128i v, __m256 scale, __m256 offset) {
  const __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v));
  _mm256_storeu_ps(out, _mm256_sub_ps(_mm256_mul_ps(scale, q), offset));
}

void dequantize_q4_0(const void* blocks, float* out, int64_t n_blocks) {
  const auto* b = static_cast<const BlockQ4_0*>(blocks);
  const __m128i low_mask = _mm_set1_epi8(0x0f);
  const __m128i eight = _mm_set1_epi8(8);
  for (int64_t i = 0; i < n_blocks; ++i, out += kQK) {
    const __m256 d = _mm256_set1_ps(half_to_float(b[i].d));
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs));
    const __m128i lo = _mm_sub_epi8(_mm_and_si128(bytes, low_mask), eight);
    const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), low_mask), eight);
    store16(out, lo, d);
    store16(out + 16, hi, d);
  }
}

void dequantize_q8_0(const void* blocks, float* out, int64_t n_blocks) {
  const auto* b = static_cast<const BlockQ8_0*>(blocks);
  for (int64_t i = 0; i < n_blocks; ++i, out += kQK) {
    const __m256 d = _mm256_set1_ps(half_to_float(b[i].d));
    const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs));
    const __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs + 16));
    store16(out, q0, d);
    store16(out + 16, q1, d);
  }
}

// The 6-bit scale and min of group j (same packing as the scalar unpack_scale_min_k4).
inline void scale_min_k4(int j, const uint8_t* q, int* scale, int* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
    *min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// 32 codes (as int8 lanes of two 128-bit halves) -> dl * q - ml.
inline void store32_affine(float* out, __m128i first, __m128i second, __m256 dl, __m256 ml) {
  store8_affine(out, first, dl, ml);
  store8_affine(out + 8, _mm_srli_si128(first, 8), dl, ml);
  store8_affine(out + 16, second, dl, ml);
  store8_affine(out + 24, _mm_srli_si128(second, 8), dl, ml);
}

void dequantize_q4_k(const void* blocks, float* out, int64_t n_blocks) {
  const auto* b = static_cast<const BlockQ4_K*>(blocks);
  const __m256i low_mask = _mm256_set1_epi8(0x0f);
  for (int64_t i = 0; i < n_blocks; ++i) {
    const float d = half_to_float(b[i].d);
    const float dmin = half_to_float(b[i].dmin);
    for (int c = 0; c < kQK_K / 64; ++c, out += 64) {
      const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qs + 32 * c));
      const __m256i lo = _mm256_and_si256(bytes, low_mask);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low_mask);
      for (int half = 0; half < 2; ++half) {
        int sc = 0;
        int m = 0;
        scale_min_k4(2 * c + half, b[i].scales, &sc, &m);
        const __m256 dl = _mm256_set1_ps(d * static_cast<float>(sc));
        const __m256 ml = _mm256_set1_ps(dmin * static_cast<float>(m));
        const __m256i q = half == 0 ? lo : hi;
        store32_affine(out + 32 * half, _mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1),
                       dl, ml);
      }
    }
  }
}

void dequantize_q5_k(const void* blocks, float* out, int64_t n_blocks) {
  const auto* b = static_cast<const BlockQ5_K*>(blocks);
  const __m256i low_mask = _mm256_set1_epi8(0x0f);
  const __m256i one = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < n_blocks; ++i) {
    const float d = half_to_float(b[i].d);
    const float dmin = half_to_float(b[i].dmin);
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qh));
    for (int c = 0; c < kQK_K / 64; ++c, out += 64) {
      const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qs + 32 * c));
      for (int half = 0; half < 2; ++half) {
        const int group = 2 * c + half;
        int sc = 0;
        int m = 0;
        scale_min_k4(group, b[i].scales, &sc, &m);
        const __m256 dl = _mm256_set1_ps(d * static_cast<float>(sc));
        const __m256 ml = _mm256_set1_ps(dmin * static_cast<float>(m));
        // Bit `group` of every qh byte is the fifth bit; the 16-bit shift only moves bits of
        // the neighbouring byte above bit 0, which the mask drops.
        const __m256i fifth = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(group)), one);
        const __m256i nibble =
            _mm256_and_si256(half == 0 ? bytes : _mm256_srli_epi16(bytes, 4), low_mask);
        const __m256i q = _mm256_or_si256(nibble, _mm256_slli_epi16(fifth, 4));
        store32_affine(out + 32 * half, _mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1),
                       dl, ml);
      }
    }
  }
}

// 32 IQ4 codes packed like Q4_0 -> scale * kIQ4Values[code], the table lookup done by pshufb.
inline void store32_iq4(float* out, const uint8_t* qs, __m256 scale) {
  const __m128i table = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIQ4Values));
  const __m128i low_mask = _mm_set1_epi8(0x0f);
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i lo = _mm_shuffle_epi8(table, _mm_and_si128(bytes, low_mask));
  const __m128i hi = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(bytes, 4), low_mask));
  store16(out, lo, scale);
  store16(out + 16, hi, scale);
}

void dequantize_iq4_nl(const void* blocks, float* out, int64_t n_blocks) {
  const auto* b = static_cast<const BlockIQ4_NL*>(blocks);
  for (int64_t i = 0; i < n_blocks; ++i, out += kQK) {
    store32_iq4(out, b[i].qs, _mm256_set1_ps(half_to_float(b[i].d)));
  }
}

void dequantize_iq4_xs(const void* blocks, float* out, int64_t n_blocks) {
  const auto* b = static_cast<const BlockIQ4_XS*>(blocks);
  for (int64_t i = 0; i < n_blocks; ++i) {
    const float d = half_to_float(b[i].d);
    for (int g = 0; g < kQK_K / 32; ++g, out += 32) {
      const int ls = ((b[i].scales_l[g / 2] >> (4 * (g % 2))) & 0x0f) |
                     (((b[i].scales_h >> (2 * g)) & 3) << 4);
      store32_iq4(out, b[i].qs + 16 * g, _mm256_set1_ps(d * static_cast<float>(ls - 32)));
    }
  }
}

void dequantize_q6_k(const void* blocks, float* out, int64_t n_blocks) {
  const auto* b = static_cast<const BlockQ6_K*>(blocks);
  const __m256i low_mask = _mm256_set1_epi8(0x0f);
  const __m256i two_bits = _mm256_set1_epi8(3);
  const __m256i bias = _mm256_set1_epi8(32);
  for (int64_t i = 0; i < n_blocks; ++i) {
    const float d = half_to_float(b[i].d);
    for (int h = 0; h < 2; ++h, out += 128) {
      const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].ql + 64 * h));
      const __m256i ql1 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].ql + 64 * h + 32));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qh + 32 * h));
      // Top two bits of value k sit at bits 2k of qh; move them to bits 4-5 of a byte.
      const __m256i high[4] = {
          _mm256_slli_epi16(_mm256_and_si256(qh, two_bits), 4),
          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), two_bits), 4),
          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), two_bits), 4),
          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), two_bits), 4)};
      const __m256i low[4] = {_mm256_and_si256(ql0, low_mask), _mm256_and_si256(ql1, low_mask),
                              _mm256_and_si256(_mm256_srli_epi16(ql0, 4), low_mask),
                              _mm256_and_si256(_mm256_srli_epi16(ql1, 4), low_mask)};
      for (int k = 0; k < 4; ++k) {
        const __m256i q = _mm256_sub_epi8(_mm256_or_si256(low[k], high[k]), bias);
        const int group = 8 * h + 2 * k;  // scale of values 32k + 0..15, then 32k + 16..31
        const __m256 d0 = _mm256_set1_ps(d * static_cast<float>(b[i].scales[group]));
        const __m256 d1 = _mm256_set1_ps(d * static_cast<float>(b[i].scales[group + 1]));
        store16(out + 32 * k, _mm256_castsi256_si128(q), d0);
        store16(out + 32 * k + 16, _mm256_extracti128_si256(q, 1), d1);
      }
    }
  }
}

}  // namespace

FastDequantizer avx2_dequantizer(DType type) {
  switch (type) {
    case DType::kQ4_0:
      return dequantize_q4_0;
    case DType::kQ8_0:
      return dequantize_q8_0;
    case DType::kQ4_K:
      return dequantize_q4_k;
    case DType::kQ5_K:
      return dequantize_q5_k;
    case DType::kIQ4_NL:
      return dequantize_iq4_nl;
    case DType::kIQ4_XS:
      return dequantize_iq4_xs;
    case DType::kQ6_K:
      return dequantize_q6_k;
    default:
      return nullptr;
  }
}

}  // namespace wick::quant
#endif  // __x86_64__
