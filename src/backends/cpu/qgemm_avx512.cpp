// AVX-512 VNNI build of the prefill panels (qgemm.h): codes unpacked with 256-bit shuffles (scale
// and min from qgemm_groups.h, as the reference), and a kernel of up to 8 activation rows x 16
// weight rows: per group and activation pass, 8 vpdpbusd per row (16 weight rows x 4 broadcast
// activation bytes each), then the group's int32 sums scaled into f32 accumulators (32-value
// groups: the two passes folded into one int32 sum 254 isum1 + isum2, one conversion and two
// fmas per group and row; 16-value groups: one per pass). Zen 4 runs the
// 512-bit vpdpbusd as two 256-bit halves, so a zmm per 16 rows costs the same per product as two
// ymm and saves instructions. Called only after qgemm_ref.cpp has checked the CPU
// (best_panel_kernels).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "backends/cpu/qgemm.h"
#include "backends/cpu/qgemm_groups.h"

namespace wick::cpu {
namespace {

#define WICK_INLINE inline __attribute__((always_inline))

WICK_INLINE __m256i loadu256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// Low nibbles of 16 bytes as values 0..15, high nibbles as 16..31.
WICK_INLINE __m256i nibbles(const uint8_t* qs) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0f));
}

// Byte j = 0x10 where bit j of the little-endian 32-bit qh is set.
WICK_INLINE __m256i fifth_bits(const uint8_t* qh_bytes) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  const __m256i bits = _mm256_movm_epi8(static_cast<__mmask32>(qh));
  return _mm256_and_si256(bits, _mm256_set1_epi8(0x10));
}

// kIQ4Values + 128 as unsigned bytes, in both 128-bit lanes.
WICK_INLINE __m256i iq4_unsigned_table() {
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(quant::kIQ4Values));
  return _mm256_broadcastsi128_si256(_mm_xor_si128(t, _mm_set1_epi8(static_cast<char>(0x80))));
}

template <DType T>
WICK_INLINE __m256i codes_simd(const void* row, int64_t g) {
  using namespace quant;
  if constexpr (T == DType::kQ4_0) {
    return nibbles(static_cast<const BlockQ4_0*>(row)[g].qs);
  } else if constexpr (T == DType::kQ4_1) {
    return nibbles(static_cast<const BlockQ4_1*>(row)[g].qs);
  } else if constexpr (T == DType::kQ5_0) {
    const BlockQ5_0& b = static_cast<const BlockQ5_0*>(row)[g];
    return _mm256_or_si256(nibbles(b.qs), fifth_bits(b.qh));
  } else if constexpr (T == DType::kQ5_1) {
    const BlockQ5_1& b = static_cast<const BlockQ5_1*>(row)[g];
    return _mm256_or_si256(nibbles(b.qs), fifth_bits(b.qh));
  } else if constexpr (T == DType::kQ8_0) {
    return _mm256_xor_si256(loadu256(static_cast<const BlockQ8_0*>(row)[g].qs),
                            _mm256_set1_epi8(static_cast<char>(0x80)));
  } else if constexpr (T == DType::kIQ4_NL) {
    return _mm256_shuffle_epi8(iq4_unsigned_table(),
                               nibbles(static_cast<const BlockIQ4_NL*>(row)[g].qs));
  } else if constexpr (T == DType::kQ4_K || T == DType::kQ5_K) {
    using B = std::conditional_t<T == DType::kQ4_K, BlockQ4_K, BlockQ5_K>;
    const B& b = static_cast<const B*>(row)[g / 8];
    const int sub = static_cast<int>(g % 8);
    __m256i raw = loadu256(b.qs + 32 * (sub / 2));
    if (sub % 2 == 1) raw = _mm256_srli_epi16(raw, 4);
    __m256i c = _mm256_and_si256(raw, _mm256_set1_epi8(0x0f));
    if constexpr (T == DType::kQ5_K) {
      const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << sub));
      const __mmask32 set = _mm256_test_epi8_mask(loadu256(b.qh), bit);
      c = _mm256_or_si256(c, _mm256_maskz_mov_epi8(set, _mm256_set1_epi8(0x10)));
    }
    return c;
  } else {
    static_assert(T == DType::kIQ4_XS);
    return _mm256_shuffle_epi8(
        iq4_unsigned_table(),
        nibbles(static_cast<const BlockIQ4_XS*>(row)[g / 8].qs + 16 * (g % 8)));
  }
}

template <DType T>
void unpack_avx512(const uint8_t* w, uint64_t row_bytes, int rows, int64_t n_groups,
                   const Panel& p) {
  alignas(32) uint32_t c[8];
  for (int64_t g = 0; g < n_groups; ++g) {
    uint32_t* dst = reinterpret_cast<uint32_t*>(p.codes + g * 512);
    for (int r = 0; r < kPanelRows; ++r) {
      float scale = 0.0f, min = 0.0f;
      if (r < rows) {
        const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
        _mm256_store_si256(reinterpret_cast<__m256i*>(c), codes_simd<T>(row, g));
        group_params<T>(row, g, &scale, &min);
      } else {
        std::memset(c, 0, sizeof(c));
      }
      for (int q = 0; q < 8; ++q) dst[q * kPanelRows + r] = c[q];
      p.scale[g * kPanelRows + r] = scale;
      p.min[g * kPanelRows + r] = min;
    }
  }
}

// Signed codes of 16-value groups 2 gp and 2 gp + 1 (32 values of one super-block).
template <DType T>
WICK_INLINE __m256i codes16_pair_simd(const void* row, int64_t gp) {
  using namespace quant;
  const int idx = static_cast<int>(gp % 8), h = idx / 4, k = idx % 4;
  if constexpr (T == DType::kQ6_K) {
    const BlockQ6_K& b = static_cast<const BlockQ6_K*>(row)[gp / 8];
    __m256i ql = loadu256(b.ql + 64 * h + 32 * (k & 1));
    if (k >= 2) ql = _mm256_srli_epi16(ql, 4);
    ql = _mm256_and_si256(ql, _mm256_set1_epi8(0x0f));
    const __m256i top =
        _mm256_and_si256(_mm256_srli_epi16(loadu256(b.qh + 32 * h), 2 * k), _mm256_set1_epi8(3));
    return _mm256_sub_epi8(_mm256_or_si256(ql, _mm256_slli_epi16(top, 4)), _mm256_set1_epi8(32));
  } else {
    static_assert(T == DType::kQ3_K);
    const BlockQ3_K& b = static_cast<const BlockQ3_K*>(row)[gp / 8];
    const __m256i low =
        _mm256_and_si256(_mm256_srli_epi16(loadu256(b.qs + 32 * h), 2 * k), _mm256_set1_epi8(3));
    const __m256i high =
        _mm256_and_si256(_mm256_srli_epi16(loadu256(b.hmask), 4 * h + k), _mm256_set1_epi8(1));
    return _mm256_sub_epi8(_mm256_or_si256(low, _mm256_slli_epi16(high, 2)), _mm256_set1_epi8(4));
  }
}

template <DType T>
void unpack16_avx512(const uint8_t* w, uint64_t row_bytes, int rows, int64_t n_groups,
                     const Panel& p) {
  alignas(32) int8_t c[32];
  for (int64_t gp = 0; gp < n_groups / 2; ++gp) {
    for (int r = 0; r < kPanelRows; ++r) {
      float scale[2] = {0.0f, 0.0f};
      int32_t sum[2] = {0, 0};
      if (r < rows) {
        const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
        _mm256_store_si256(reinterpret_cast<__m256i*>(c), codes16_pair_simd<T>(row, gp));
        for (int half = 0; half < 2; ++half) {
          scale[half] = group16_scale<T>(row, 2 * gp + half);
          for (int l = 0; l < 16; ++l) sum[half] += c[16 * half + l];
        }
      } else {
        std::memset(c, 0, sizeof(c));
      }
      for (int half = 0; half < 2; ++half) {
        const int64_t g = 2 * gp + half;
        auto* dst = reinterpret_cast<uint32_t*>(p.codes + g * 256);
        for (int q = 0; q < 4; ++q) std::memcpy(dst + q * kPanelRows + r, c + 16 * half + 4 * q, 4);
        p.scale[g * kPanelRows + r] = scale[half];
        p.wsum[g * kPanelRows + r] = 128 * sum[half];
      }
    }
  }
}

template <int MR>
void kernel16_mr(const Panel& p, int64_t n_groups, const uint8_t* act, size_t stride, float* out,
                 int64_t ldc, int n_cols) {
  const ActQ8x2* a[MR];
  __m512 acc[MR];
  for (int r = 0; r < MR; ++r) {
    a[r] = reinterpret_cast<const ActQ8x2*>(act + r * stride);
    acc[r] = _mm512_setzero_ps();
  }
  const __m512i k80 = _mm512_set1_epi8(static_cast<char>(0x80));
  // 4 activation bytes made unsigned (a + 128): a broadcast load and one vector xor (a broadcast
  // from a general register costs two vector uops)
  const auto bcast_unsigned = [k80](const int8_t* q) {
    return _mm512_xor_si512(_mm512_broadcastd_epi32(_mm_loadu_si32(q)), k80);
  };
  for (int64_t g = 0; g < n_groups; ++g) {
    __m512i isum1[MR], isum2[MR];
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) isum1[r] = isum2[r] = _mm512_setzero_si512();
    const uint8_t* c = p.codes + g * 256;
    const int64_t blk = g / 2, off = 16 * (g % 2);
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      const __m512i wv = _mm512_loadu_si512(c + q * 64);
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        isum1[r] = _mm512_dpbusd_epi32(isum1[r], bcast_unsigned(a[r][blk].q1 + off + 4 * q), wv);
        isum2[r] = _mm512_dpbusd_epi32(isum2[r], bcast_unsigned(a[r][blk].q2 + off + 4 * q), wv);
      }
    }
    const __m512i ws = _mm512_loadu_si512(p.wsum + g * kPanelRows);
    const __m512 sc = _mm512_loadu_ps(p.scale + g * kPanelRows);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 s1 = _mm512_mul_ps(sc, _mm512_set1_ps(a[r][blk].d));
      const __m512 s2 = _mm512_mul_ps(sc, _mm512_set1_ps(a[r][blk].d2));
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(isum1[r], ws)), s1, acc[r]);
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(isum2[r], ws)), s2, acc[r]);
    }
  }
  const __mmask16 mask = static_cast<__mmask16>((1u << n_cols) - 1u);
  for (int r = 0; r < MR; ++r) _mm512_mask_storeu_ps(out + r * ldc, mask, acc[r]);
}

template <int MR>
void kernel_mr(const Panel& p, int64_t n_groups, const uint8_t* act, size_t stride, float* out,
               int64_t ldc, int n_cols) {
  const ActQ8x2* a[MR];
  __m512 acc[MR];
  for (int r = 0; r < MR; ++r) {
    a[r] = reinterpret_cast<const ActQ8x2*>(act + r * stride);
    acc[r] = _mm512_setzero_ps();
  }
  const auto bcast = [](const int8_t* q) {
    int32_t a4;
    std::memcpy(&a4, q, 4);
    return _mm512_set1_epi32(a4);
  };
  for (int64_t g = 0; g < n_groups; ++g) {
    __m512i isum1[MR], isum2[MR];
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) isum1[r] = isum2[r] = _mm512_setzero_si512();
    const uint8_t* c = p.codes + g * 512;
#pragma GCC unroll 8
    for (int q = 0; q < 8; ++q) {
      const __m512i wv = _mm512_loadu_si512(c + q * 64);
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        isum1[r] = _mm512_dpbusd_epi32(isum1[r], wv, bcast(a[r][g].q1 + 4 * q));
        isum2[r] = _mm512_dpbusd_epi32(isum2[r], wv, bcast(a[r][g].q2 + 4 * q));
      }
    }
    const __m512 sc = _mm512_loadu_ps(p.scale + g * kPanelRows);
    const __m512 mn = _mm512_loadu_ps(p.min + g * kPanelRows);
    const __m512i k254 = _mm512_set1_epi32(254);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      // the two passes as one exact int32 sum in units of d2 (|254 isum1 + isum2| < 2^29)
      const __m512i isum = _mm512_add_epi32(_mm512_mullo_epi32(isum1[r], k254), isum2[r]);
      const __m512 s2 = _mm512_mul_ps(sc, _mm512_set1_ps(a[r][g].d2));
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), s2, acc[r]);
      acc[r] = _mm512_fmadd_ps(mn, _mm512_set1_ps(a[r][g].s), acc[r]);
    }
  }
  const __mmask16 mask = static_cast<__mmask16>((1u << n_cols) - 1u);
  for (int r = 0; r < MR; ++r) _mm512_mask_storeu_ps(out + r * ldc, mask, acc[r]);
}

using KernelMrFn = void (*)(const Panel&, int64_t, const uint8_t*, size_t, float*, int64_t, int);

template <bool kGroups16>
void kernel_any(const Panel& p, int64_t n_groups, const void* act, size_t stride, int n_act,
                float* out, int64_t ldc, int n_cols) {
  static constexpr KernelMrFn k32[] = {&kernel_mr<1>, &kernel_mr<2>, &kernel_mr<3>, &kernel_mr<4>,
                                       &kernel_mr<5>, &kernel_mr<6>, &kernel_mr<7>, &kernel_mr<8>};
  static constexpr KernelMrFn k16[] = {&kernel16_mr<1>, &kernel16_mr<2>, &kernel16_mr<3>,
                                       &kernel16_mr<4>, &kernel16_mr<5>, &kernel16_mr<6>,
                                       &kernel16_mr<7>, &kernel16_mr<8>};
  const int i = std::min(n_act, kPanelMaxAct) - 1;
  (kGroups16 ? k16[i] : k32[i])(p, n_groups, static_cast<const uint8_t*>(act), stride, out, ldc,
                                n_cols);
}

// Packed tiles (qpack.h) -> panels: the packed code dwords are already 16 rows x 4 codes, so a
// group is 4 (nibbles) or 8 (Q8_0) vector loads and masks, and the 16 scales convert at once.
template <DType T>
void unpack_packed_avx512(const uint8_t* tile, int64_t n_groups, const Panel& p) {
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  if constexpr (T == DType::kQ4_K) {
    const __m512i low6 = _mm512_set1_epi8(63), bits45 = _mm512_set1_epi8(0x30);
    alignas(64) uint8_t scb[128], mnb[128];
    for (int64_t b = 0; b < n_groups / 8; ++b) {
      const uint8_t* t = tile + b * (16 * 144);
      const __m512i z0 = _mm512_loadu_si512(t + 64), z1 = _mm512_loadu_si512(t + 128),
                    z2 = _mm512_loadu_si512(t + 192);
      _mm512_store_si512(scb, _mm512_and_si512(z0, low6));
      _mm512_store_si512(mnb, _mm512_and_si512(z1, low6));
      _mm512_store_si512(scb + 64,
                         _mm512_or_si512(_mm512_and_si512(z2, low4),
                                         _mm512_and_si512(_mm512_srli_epi16(z0, 2), bits45)));
      _mm512_store_si512(mnb + 64,
                         _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(z2, 4), low4),
                                         _mm512_and_si512(_mm512_srli_epi16(z1, 2), bits45)));
      const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(t)));
      const __m512 dmin =
          _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + 32)));
      for (int j = 0; j < 8; ++j) {
        const int64_t g = 8 * b + j;
        const __m512 sc = _mm512_cvtepi32_ps(
            _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(scb + 16 * j))));
        const __m512 mn = _mm512_cvtepi32_ps(
            _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(mnb + 16 * j))));
        _mm512_storeu_ps(p.scale + g * kPanelRows, _mm512_mul_ps(d, sc));
        // -(dmin * mn), as group_params computes it
        _mm512_storeu_ps(p.min + g * kPanelRows,
                         _mm512_xor_ps(_mm512_mul_ps(dmin, mn), _mm512_set1_ps(-0.0f)));
      }
      const uint8_t* q = t + 256;
      for (int c = 0; c < 4; ++c)
        for (int k = 0; k < 8; ++k) {
          const __m512i v = _mm512_loadu_si512(q + 64 * (8 * c + k));
          _mm512_storeu_si512(p.codes + (8 * b + 2 * c) * 512 + 64 * k, _mm512_and_si512(v, low4));
          _mm512_storeu_si512(p.codes + (8 * b + 2 * c + 1) * 512 + 64 * k,
                              _mm512_and_si512(_mm512_srli_epi16(v, 4), low4));
        }
    }
  } else {
    constexpr int kBlockBytes = T == DType::kQ4_0 ? 18 : T == DType::kQ4_1 ? 20 : 34;
    constexpr int kHalves = T == DType::kQ4_1 ? 2 : 1;
    for (int64_t g = 0; g < n_groups; ++g) {
      const uint8_t* t = tile + g * (16 * kBlockBytes);
      const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(t)));
      _mm512_storeu_ps(p.scale + g * kPanelRows, d);
      __m512 mn;
      if constexpr (T == DType::kQ4_1) {
        mn = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + 32)));
      } else {
        mn = _mm512_mul_ps(_mm512_set1_ps(T == DType::kQ4_0 ? -8.0f : -128.0f), d);
      }
      _mm512_storeu_ps(p.min + g * kPanelRows, mn);
      const uint8_t* q = t + 32 * kHalves;
      uint8_t* dst = p.codes + g * 512;
      if constexpr (T == DType::kQ8_0) {
        for (int k = 0; k < 8; ++k)
          _mm512_storeu_si512(dst + 64 * k, _mm512_loadu_si512(q + 64 * k));
      } else {
        for (int k = 0; k < 4; ++k) {
          const __m512i v = _mm512_loadu_si512(q + 64 * k);
          _mm512_storeu_si512(dst + 64 * k, _mm512_and_si512(v, low4));
          _mm512_storeu_si512(dst + 64 * (k + 4), _mm512_and_si512(_mm512_srli_epi16(v, 4), low4));
        }
      }
    }
  }
}

// quantize_act_q8x2_row, 32 values in two zmm: the same IEEE operations in the same order (max of
// |x|, divisions, products rounded to nearest even, clamp, residual as a product then a
// difference), so the bytes and floats are identical. fp-contract off: GCC would otherwise fuse
// d * q1 and the subtraction (and s's terms) into FMAs, which round once instead of twice.
__attribute__((optimize("fp-contract=off"))) void quantize_q8x2_avx512(const float* x, int64_t k,
                                                                       ActQ8x2* out) {
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
  for (int64_t b = 0; b < k / 32; ++b, x += 32) {
    const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
    const float amax = _mm512_reduce_max_ps(
        _mm512_max_ps(_mm512_and_ps(x0, abs_mask), _mm512_and_ps(x1, abs_mask)));
    const float d = amax / 127.0f, d2 = d / 254.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f, id2 = d2 != 0.0f ? 1.0f / d2 : 0.0f;
    const __m512 vd = _mm512_set1_ps(d), vid = _mm512_set1_ps(id), vid2 = _mm512_set1_ps(id2);
    __m512i s1 = _mm512_setzero_si512(), s2 = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      const __m512 xv = h == 0 ? x0 : x1;
      const __m512i q1 = _mm512_min_epi32(
          _mm512_max_epi32(_mm512_cvt_roundps_epi32(_mm512_mul_ps(xv, vid),
                                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
                           lo),
          hi);
      const __m512 prod = _mm512_mul_ps(vd, _mm512_cvtepi32_ps(q1));
      const __m512 residual = _mm512_sub_ps(xv, prod);
      const __m512i q2 = _mm512_min_epi32(
          _mm512_max_epi32(_mm512_cvt_roundps_epi32(_mm512_mul_ps(residual, vid2),
                                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
                           lo),
          hi);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].q1 + 16 * h), _mm512_cvtepi32_epi8(q1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].q2 + 16 * h), _mm512_cvtepi32_epi8(q2));
      s1 = _mm512_add_epi32(s1, q1);
      s2 = _mm512_add_epi32(s2, q2);
    }
    out[b].d = d;
    out[b].d2 = d2;
    // two statements: clang (which ignores the optimize attribute) contracts only within one
    const float t1 = d * static_cast<float>(_mm512_reduce_add_epi32(s1));
    const float t2 = d2 * static_cast<float>(_mm512_reduce_add_epi32(s2));
    out[b].s = t1 + t2;
  }
}

PanelKernels make_kernels() {
  PanelKernels k{"avx512-vnni",      &quantize_q8x2_avx512, {}, {},
                 &kernel_any<false>, &kernel_any<true>};
  k.unpack_packed[static_cast<int>(DType::kQ4_0)] = &unpack_packed_avx512<DType::kQ4_0>;
  k.unpack_packed[static_cast<int>(DType::kQ4_1)] = &unpack_packed_avx512<DType::kQ4_1>;
  k.unpack_packed[static_cast<int>(DType::kQ8_0)] = &unpack_packed_avx512<DType::kQ8_0>;
  k.unpack_packed[static_cast<int>(DType::kQ4_K)] = &unpack_packed_avx512<DType::kQ4_K>;
  k.unpack[static_cast<int>(DType::kQ6_K)] = &unpack16_avx512<DType::kQ6_K>;
  k.unpack[static_cast<int>(DType::kQ3_K)] = &unpack16_avx512<DType::kQ3_K>;
  k.unpack[static_cast<int>(DType::kQ4_0)] = &unpack_avx512<DType::kQ4_0>;
  k.unpack[static_cast<int>(DType::kQ4_1)] = &unpack_avx512<DType::kQ4_1>;
  k.unpack[static_cast<int>(DType::kQ5_0)] = &unpack_avx512<DType::kQ5_0>;
  k.unpack[static_cast<int>(DType::kQ5_1)] = &unpack_avx512<DType::kQ5_1>;
  k.unpack[static_cast<int>(DType::kQ8_0)] = &unpack_avx512<DType::kQ8_0>;
  k.unpack[static_cast<int>(DType::kIQ4_NL)] = &unpack_avx512<DType::kIQ4_NL>;
  k.unpack[static_cast<int>(DType::kQ4_K)] = &unpack_avx512<DType::kQ4_K>;
  k.unpack[static_cast<int>(DType::kQ5_K)] = &unpack_avx512<DType::kQ5_K>;
  k.unpack[static_cast<int>(DType::kIQ4_XS)] = &unpack_avx512<DType::kIQ4_XS>;
  return k;
}

#undef WICK_INLINE

}  // namespace

namespace avx512 {
const PanelKernels kPanelKernels = make_kernels();
}  // namespace avx512

}  // namespace wick::cpu
