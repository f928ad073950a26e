// AVX-512 VNNI kernels over packed weight tiles (qpack.h): one pass over a tile computes 16
// output rows for up to 4 activation rows. Per 32-value group and activation row, 8 vpdpbusd
// (16 rows x 4 codes x 4 broadcast activation bytes each) sum exactly in int32; the per-row f16
// scales are converted 16 at a time, so the float work is one fma per group and activation row
// for all 16 rows. Offsets (Q4_0's -8, Q8_0's stored +128) are removed exactly in int32 with the
// activation block's integer sum. Called only when qpack_enabled() (AVX-512 F/BW/DQ/VL + VNNI).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <cstring>

#include "backends/cpu/qdot.h"
#include "backends/cpu/qpack.h"
#include "core/quant/blocks.h"

namespace wick::cpu {
namespace {

#define WICK_INLINE inline __attribute__((always_inline))

WICK_INLINE __m512i bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

WICK_INLINE __m512 half16(const uint8_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

WICK_INLINE __m512i load64(const uint8_t* p) {
  return _mm512_loadu_si512(p);
}

template <int R>
WICK_INLINE void store_rows(const __m512* acc, float* out, int64_t ldc, int n_cols) {
  const __mmask16 mask = static_cast<__mmask16>((1u << n_cols) - 1u);
  for (int r = 0; r < R; ++r) _mm512_mask_storeu_ps(out + r * ldc, mask, acc[r]);
}

// Q4_0 / Q4_1 / Q8_0 tiles against ActQ8 rows.
template <DType T, int R>
void gemv32(const uint8_t* tile, int64_t nb, const void* act, size_t stride, const int32_t* asum,
            float* out, int64_t ldc, int n_cols) {
  constexpr int kBlockBytes = T == DType::kQ4_0 ? 18 : T == DType::kQ4_1 ? 20 : 34;
  constexpr int kHalves = T == DType::kQ4_1 ? 2 : 1;
  const ActQ8* a[R];
  __m512 acc[R], accm[R];
  for (int r = 0; r < R; ++r) {
    a[r] = reinterpret_cast<const ActQ8*>(static_cast<const uint8_t*>(act) + r * stride);
    acc[r] = accm[r] = _mm512_setzero_ps();
  }
  const __m512i low4 = _mm512_set1_epi8(0x0f), high4 = _mm512_set1_epi8(static_cast<char>(0xf0));
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = tile + b * (kPackRows * kBlockBytes);
    const __m512 dw = half16(p);
    const uint8_t* q = p + 32 * kHalves;
    if constexpr (T == DType::kQ8_0) {
      __m512i v[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) v[i] = load64(q + 64 * i);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int i = 0; i < 8; i += 2) {
          s0 = _mm512_dpbusd_epi32(s0, v[i], bcast4(a[r][b].qs + 4 * i));
          s1 = _mm512_dpbusd_epi32(s1, v[i + 1], bcast4(a[r][b].qs + 4 * i + 4));
        }
        // codes are stored + 128: remove 128 * sum(a) exactly.
        const __m512i isum =
            _mm512_sub_epi32(_mm512_add_epi32(s0, s1), _mm512_set1_epi32(128 * asum[r * nb + b]));
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum),
                                 _mm512_mul_ps(dw, _mm512_set1_ps(a[r][b].d)), acc[r]);
      }
    } else {
      __m512i lo[4], hi[4];
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        const __m512i v = load64(q + 64 * i);
        lo[i] = _mm512_and_si512(v, low4);
        hi[i] = _mm512_and_si512(v, high4);  // 16 x the code of value 16 + ...
      }
      [[maybe_unused]] __m512 mw;
      if constexpr (T == DType::kQ4_1) mw = half16(p + 32);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        __m512i slo = _mm512_setzero_si512(), shi = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
          slo = _mm512_dpbusd_epi32(slo, lo[i], bcast4(a[r][b].qs + 4 * i));
          shi = _mm512_dpbusd_epi32(shi, hi[i], bcast4(a[r][b].qs + 16 + 4 * i));
        }
        __m512i isum16 = _mm512_add_epi32(_mm512_slli_epi32(slo, 4), shi);  // 16 x sum(code * a)
        if constexpr (T == DType::kQ4_0)  // x = d (code - 8): remove 16 * 8 * sum(a) exactly
          isum16 = _mm512_sub_epi32(isum16, _mm512_set1_epi32(128 * asum[r * nb + b]));
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum16),
                                 _mm512_mul_ps(dw, _mm512_set1_ps(a[r][b].d * 0.0625f)), acc[r]);
        if constexpr (T == DType::kQ4_1)
          accm[r] = _mm512_fmadd_ps(mw, _mm512_set1_ps(a[r][b].s), accm[r]);
      }
    }
  }
  if constexpr (T == DType::kQ4_1)
    for (int r = 0; r < R; ++r) acc[r] = _mm512_add_ps(acc[r], accm[r]);
  store_rows<R>(acc, out, ldc, n_cols);
}

// Group g's 16 unsigned bytes (one 128-bit lane of a 4-group vector) as 16 int32.
WICK_INLINE __m512i lane_u32(__m512i v, int lane) {
  switch (lane) {
    case 0:
      return _mm512_cvtepu8_epi32(_mm512_castsi512_si128(v));
    case 1:
      return _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(v, 1));
    case 2:
      return _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(v, 2));
    default:
      return _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(v, 3));
  }
}

// Q4_K tiles against Q8_K rows: x = d * sc_g * q - dmin * m_g over 8 groups of 32.
template <int R>
void gemv_q4k(const uint8_t* tile, int64_t nb, const void* act, size_t stride, const int32_t*,
              float* out, int64_t ldc, int n_cols) {
  const quant::BlockQ8_K* a[R];
  __m512 acc[R];
  for (int r = 0; r < R; ++r) {
    a[r] = reinterpret_cast<const quant::BlockQ8_K*>(static_cast<const uint8_t*>(act) + r * stride);
    acc[r] = _mm512_setzero_ps();
  }
  const __m512i low4 = _mm512_set1_epi8(0x0f), high4 = _mm512_set1_epi8(static_cast<char>(0xf0));
  const __m512i low6 = _mm512_set1_epi8(63), bits45 = _mm512_set1_epi8(0x30);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = tile + b * (kPackRows * 144);
    // Scale bytes j = 0..11 of the 16 rows, 4 per vector (GGUF's 6-bit packing, transposed).
    const __m512i z0 = load64(p + 64), z1 = load64(p + 128), z2 = load64(p + 192);
    const __m512i sc03 = _mm512_and_si512(z0, low6);
    const __m512i mn03 = _mm512_and_si512(z1, low6);
    const __m512i sc47 = _mm512_or_si512(_mm512_and_si512(z2, low4),
                                         _mm512_and_si512(_mm512_srli_epi16(z0, 2), bits45));
    const __m512i mn47 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(z2, 4), low4),
                                         _mm512_and_si512(_mm512_srli_epi16(z1, 2), bits45));
    __m512i isum[R], msum[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) isum[r] = msum[r] = _mm512_setzero_si512();
    const uint8_t* q = p + 256;
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const __m512i& s_src = c < 2 ? sc03 : sc47;
      const __m512i& m_src = c < 2 ? mn03 : mn47;
      // groups 2c (low nibbles) and 2c + 1 (high nibbles, summed as 16 x code: scale the low
      // group by 16 instead).
      const __m512i sc_lo = _mm512_slli_epi32(lane_u32(s_src, (2 * c) % 4), 4);
      const __m512i sc_hi = lane_u32(s_src, (2 * c + 1) % 4);
      const __m512i mn_lo = lane_u32(m_src, (2 * c) % 4);
      const __m512i mn_hi = lane_u32(m_src, (2 * c + 1) % 4);
      __m512i slo[R], shi[R];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) slo[r] = shi[r] = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) {
        const __m512i v = load64(q + 64 * (8 * c + k));
        const __m512i lo = _mm512_and_si512(v, low4), hi = _mm512_and_si512(v, high4);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          slo[r] = _mm512_dpbusd_epi32(slo[r], lo, bcast4(a[r][b].qs + 64 * c + 4 * k));
          shi[r] = _mm512_dpbusd_epi32(shi[r], hi, bcast4(a[r][b].qs + 64 * c + 32 + 4 * k));
        }
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        isum[r] = _mm512_add_epi32(isum[r], _mm512_add_epi32(_mm512_mullo_epi32(slo[r], sc_lo),
                                                             _mm512_mullo_epi32(shi[r], sc_hi)));
        const int16_t* bs = a[r][b].bsums + 4 * c;
        msum[r] = _mm512_add_epi32(
            msum[r], _mm512_add_epi32(_mm512_mullo_epi32(mn_lo, _mm512_set1_epi32(bs[0] + bs[1])),
                                      _mm512_mullo_epi32(mn_hi, _mm512_set1_epi32(bs[2] + bs[3]))));
      }
    }
    const __m512 d = half16(p), dmin = half16(p + 32);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const float da = a[r][b].d;
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[r]),
                               _mm512_mul_ps(d, _mm512_set1_ps(da * 0.0625f)), acc[r]);
      acc[r] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum[r]),
                                _mm512_mul_ps(dmin, _mm512_set1_ps(da)), acc[r]);
    }
  }
  store_rows<R>(acc, out, ldc, n_cols);
}

// Q6_K tiles against Q8_K rows: x = d * sc_g * (q - 32) over 16 groups of 16, q = 4 low bits
// from ql and 2 high bits from qh (GGUF order: value 128 h + 32 k + l takes ql[64 h + 32 (k & 1)
// + l] >> 4 (k / 2) and qh[32 h + l] >> 2 k).
template <int R>
void gemv_q6k(const uint8_t* tile, int64_t nb, const void* act, size_t stride, const int32_t*,
              float* out, int64_t ldc, int n_cols) {
  const quant::BlockQ8_K* a[R];
  __m512 acc[R];
  for (int r = 0; r < R; ++r) {
    a[r] = reinterpret_cast<const quant::BlockQ8_K*>(static_cast<const uint8_t*>(act) + r * stride);
    acc[r] = _mm512_setzero_ps();
  }
  const __m512i low4 = _mm512_set1_epi8(0x0f), bits45 = _mm512_set1_epi8(0x30);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = tile + b * (kPackRows * 210);
    const uint8_t* sc = p + 32;     // [16 groups][16 rows] int8
    const uint8_t* ql = p + 288;    // dword i of ql at ql + 64 i
    const uint8_t* qh = ql + 2048;  // dword j of qh at qh + 64 j
    __m512i isum[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) isum[r] = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        __m512i s0[R], s1[R];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) s0[r] = s1[r] = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int m = 0; m < 8; ++m) {
          const __m512i lv = load64(ql + 64 * (16 * h + 8 * (k & 1) + m));
          const __m512i hv = load64(qh + 64 * (8 * h + m));
          const __m512i lo =
              k < 2 ? _mm512_and_si512(lv, low4) : _mm512_and_si512(_mm512_srli_epi16(lv, 4), low4);
          __m512i top;
          if (k == 0) {
            top = _mm512_slli_epi16(hv, 4);
          } else if (k == 1) {
            top = _mm512_slli_epi16(hv, 2);
          } else if (k == 2) {
            top = hv;
          } else {
            top = _mm512_srli_epi16(hv, 2);
          }
          const __m512i u = _mm512_or_si512(lo, _mm512_and_si512(top, bits45));
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r) {
            const __m512i av = bcast4(a[r][b].qs + 128 * h + 32 * k + 4 * m);
            if (m < 4) {
              s0[r] = _mm512_dpbusd_epi32(s0[r], u, av);
            } else {
              s1[r] = _mm512_dpbusd_epi32(s1[r], u, av);
            }
          }
        }
        const int g = 8 * h + 2 * k;
        const __m512i sc0 =
            _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc + 16 * g)));
        const __m512i sc1 = _mm512_cvtepi8_epi32(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(sc + 16 * (g + 1))));
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {  // the -32 offset: sum(q a) - 32 sum(a), per group
          const __m512i t0 = _mm512_sub_epi32(s0[r], _mm512_set1_epi32(32 * a[r][b].bsums[g]));
          const __m512i t1 = _mm512_sub_epi32(s1[r], _mm512_set1_epi32(32 * a[r][b].bsums[g + 1]));
          isum[r] = _mm512_add_epi32(
              isum[r], _mm512_add_epi32(_mm512_mullo_epi32(t0, sc0), _mm512_mullo_epi32(t1, sc1)));
        }
      }
    }
    const __m512 d = half16(p);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[r]),
                               _mm512_mul_ps(d, _mm512_set1_ps(a[r][b].d)), acc[r]);
  }
  store_rows<R>(acc, out, ldc, n_cols);
}

template <DType T, int R>
void gemv_rows(const uint8_t* tile, int64_t nb, const void* act, size_t stride, const int32_t* asum,
               float* out, int64_t ldc, int n_cols) {
  if constexpr (T == DType::kQ4_K) {
    gemv_q4k<R>(tile, nb, act, stride, asum, out, ldc, n_cols);
  } else if constexpr (T == DType::kQ6_K) {
    gemv_q6k<R>(tile, nb, act, stride, asum, out, ldc, n_cols);
  } else {
    gemv32<T, R>(tile, nb, act, stride, asum, out, ldc, n_cols);
  }
}

template <DType T>
void gemv_any(const uint8_t* tile, int64_t nb, const void* act, size_t stride, const int32_t* asum,
              int n_act, float* out, int64_t ldc, int n_cols) {
  switch (n_act) {
    case 1:
      return gemv_rows<T, 1>(tile, nb, act, stride, asum, out, ldc, n_cols);
    case 2:
      return gemv_rows<T, 2>(tile, nb, act, stride, asum, out, ldc, n_cols);
    case 3:
      return gemv_rows<T, 3>(tile, nb, act, stride, asum, out, ldc, n_cols);
    default:
      return gemv_rows<T, 4>(tile, nb, act, stride, asum, out, ldc, n_cols);
  }
}

struct Table {
  PackedGemvFn fn[kDTypeCount] = {};
  Table() {
    fn[static_cast<int>(DType::kQ4_0)] = &gemv_any<DType::kQ4_0>;
    fn[static_cast<int>(DType::kQ4_1)] = &gemv_any<DType::kQ4_1>;
    fn[static_cast<int>(DType::kQ8_0)] = &gemv_any<DType::kQ8_0>;
    fn[static_cast<int>(DType::kQ4_K)] = &gemv_any<DType::kQ4_K>;
    fn[static_cast<int>(DType::kQ6_K)] = &gemv_any<DType::kQ6_K>;
  }
};

#undef WICK_INLINE

}  // namespace

namespace avx512 {
PackedGemvFn packed_gemv(DType dtype) {
  static const Table table;
  return table.fn[static_cast<int>(dtype)];
}
}  // namespace avx512

}  // namespace wick::cpu
