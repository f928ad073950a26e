// AVX-512 loops of simd_peak.h. 16 accumulators, so the loop is bound by the issue rate of the
// multiply-add, not by its latency; the asm barrier keeps them in registers and live.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include "core/simd_peak.h"

namespace wick::avx512 {

long long simd_peak_loop_int8(long long iters) {
  __m512i a0 = _mm512_set1_epi32(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0,
          a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
  const __m512i u = _mm512_set1_epi8(1), s = _mm512_set1_epi8(1);
  for (long long it = 0; it < iters; ++it) {
    a0 = _mm512_dpbusd_epi32(a0, u, s);
    a1 = _mm512_dpbusd_epi32(a1, u, s);
    a2 = _mm512_dpbusd_epi32(a2, u, s);
    a3 = _mm512_dpbusd_epi32(a3, u, s);
    a4 = _mm512_dpbusd_epi32(a4, u, s);
    a5 = _mm512_dpbusd_epi32(a5, u, s);
    a6 = _mm512_dpbusd_epi32(a6, u, s);
    a7 = _mm512_dpbusd_epi32(a7, u, s);
    a8 = _mm512_dpbusd_epi32(a8, u, s);
    a9 = _mm512_dpbusd_epi32(a9, u, s);
    a10 = _mm512_dpbusd_epi32(a10, u, s);
    a11 = _mm512_dpbusd_epi32(a11, u, s);
    a12 = _mm512_dpbusd_epi32(a12, u, s);
    a13 = _mm512_dpbusd_epi32(a13, u, s);
    a14 = _mm512_dpbusd_epi32(a14, u, s);
    a15 = _mm512_dpbusd_epi32(a15, u, s);
    __asm__ volatile(""
                     : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6),
                       "+v"(a7));
    __asm__ volatile(""
                     : "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11), "+v"(a12), "+v"(a13), "+v"(a14),
                       "+v"(a15));
  }
  const __m512i t = _mm512_add_epi32(
      _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)),
                       _mm512_add_epi32(_mm512_add_epi32(a4, a5), _mm512_add_epi32(a6, a7))),
      _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a8, a9), _mm512_add_epi32(a10, a11)),
                       _mm512_add_epi32(_mm512_add_epi32(a12, a13), _mm512_add_epi32(a14, a15))));
  return _mm512_reduce_add_epi32(t);
}

long long simd_peak_loop_f32(long long iters) {
  __m512 a0 = _mm512_set1_ps(0.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0,
         a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
  const __m512 x = _mm512_set1_ps(1.0f), y = _mm512_set1_ps(1e-6f);
  for (long long it = 0; it < iters; ++it) {
    a0 = _mm512_fmadd_ps(x, y, a0);
    a1 = _mm512_fmadd_ps(x, y, a1);
    a2 = _mm512_fmadd_ps(x, y, a2);
    a3 = _mm512_fmadd_ps(x, y, a3);
    a4 = _mm512_fmadd_ps(x, y, a4);
    a5 = _mm512_fmadd_ps(x, y, a5);
    a6 = _mm512_fmadd_ps(x, y, a6);
    a7 = _mm512_fmadd_ps(x, y, a7);
    a8 = _mm512_fmadd_ps(x, y, a8);
    a9 = _mm512_fmadd_ps(x, y, a9);
    a10 = _mm512_fmadd_ps(x, y, a10);
    a11 = _mm512_fmadd_ps(x, y, a11);
    a12 = _mm512_fmadd_ps(x, y, a12);
    a13 = _mm512_fmadd_ps(x, y, a13);
    a14 = _mm512_fmadd_ps(x, y, a14);
    a15 = _mm512_fmadd_ps(x, y, a15);
    __asm__ volatile(""
                     : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6),
                       "+v"(a7));
    __asm__ volatile(""
                     : "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11), "+v"(a12), "+v"(a13), "+v"(a14),
                       "+v"(a15));
  }
  const __m512 t =
      _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                                  _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7))),
                    _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)),
                                  _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15))));
  return static_cast<long long>(_mm512_reduce_add_ps(t));
}

}  // namespace wick::avx512
