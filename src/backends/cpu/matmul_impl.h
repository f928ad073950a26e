// f32 GEMM (packed, cache-blocked, register-tiled micro-kernel) and streaming GEMV written once
// over `Vec` (simd_vec_impl.h); matmul_avx2.cpp and matmul_avx512.cpp each compile a copy.
// GEMM follows the BLIS loop order: N blocks (one or more per thread, each thread writes its own
// columns of C) > K blocks (pack B into kNr-wide panels) > M blocks (pack A into kMr-tall panels)
// > kMr x kNr micro-tiles. Packing converts f16/bf16 to f32 and absorbs any operand strides.
// GEMV (small M, weight rows contiguous) reads every weight once: 4 weight rows x kGemvRows inputs
// per step, f16 converted by F16C and bf16 by a 16-bit shift, so 16-bit weights move half the
// bytes. bf16 x bf16 GEMM on AVX512_BF16 (AMD) packs k-pairs and multiplies with vdpbf16ps instead.
// Rejected: vdpbf16ps for f32 activations (rounding x to bf16 costs ~3 significant digits).
#pragma once

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "backends/cpu/matmul_simd.h"
#include "backends/cpu/simd_vec_impl.h"
#include "core/cpu_features.h"
#include "core/half.h"
#include "core/thread_pool.h"

namespace wick::cpu {
namespace {

constexpr int kW = Vec::kWidth;
constexpr int kNr = 2 * kW;
#if defined(__AVX512F__)
constexpr int kMr = 12;  // 24 accumulators of 32 zmm
#else
constexpr int kMr = 6;  // 12 accumulators of 16 ymm
#endif
constexpr int64_t kKc = 256;
// GEMV input rows per pass over 4 weight rows: 4 x kGemvRows accumulators + 4 weight vectors.
#if defined(__AVX512F__)
constexpr int kGemvRows = 4;
#else
constexpr int kGemvRows = 2;
#endif
constexpr int64_t kMc = kMr * 16;
constexpr int64_t kNc = kNr * 64;

// Vector and scalar element loads for the operand types.
inline Vec::R vload(const float* p) {
  return Vec::load(p);
}
inline Vec::R vload(const f16_t* p) {
  return Vec::load_f16(reinterpret_cast<const uint16_t*>(p));
}
inline Vec::R vload(const bf16_t* p) {
  return Vec::load_bf16(reinterpret_cast<const uint16_t*>(p));
}
inline float sload(float v) {
  return v;
}
inline float sload(f16_t v) {
  return f16_to_f32(v.bits);
}
inline float sload(bf16_t v) {
  return bf16_to_f32(v.bits);
}

// The first n (< kW) elements at p as a vector, zeros after.
template <class T>
inline Vec::R vload_n(const T* p, int n) {
  if constexpr (std::is_same_v<T, float>) {
    return Vec::load_n(p, n);
  } else {
    T tmp[kW] = {};
    std::memcpy(tmp, p, static_cast<size_t>(n) * sizeof(T));
    return vload(tmp);
  }
}

template <class T>
void convert_run(const T* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + kW <= n; i += kW) Vec::store(dst + i, vload(src + i));
  for (; i < n; ++i) dst[i] = sload(src[i]);
}

// In-register transpose of an 8x8 block: rows r[0..8) become columns.
inline void transpose8x8(__m256 r[8]) {
  __m256 t[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  __m256 u[8];
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

// Eight consecutive elements as f32 (256-bit in both builds: the transposes work on 8x8 blocks).
inline __m256 load8(const float* p) {
  return _mm256_loadu_ps(p);
}
inline __m256 load8(const f16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline __m256 load8(const bf16_t* p) {
  const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

// One panel (P values per k, rows <= P of them real) from k-contiguous rows: 8 rows x 8 k at a
// time are loaded, converted, transposed in registers and stored as runs of up to 8 floats
// (a scalar scatter with stride P thrashes L1 for wide panels).
template <class T>
void pack_rows_transposed(const T* src, int64_t rs, int rows, int64_t cols, int P, float* dst) {
  for (int i0 = 0; i0 < P; i0 += 8) {
    const int width = std::min(8, P - i0);                     // panel columns this group fills
    const int real = std::max(0, std::min(width, rows - i0));  // of which come from src rows
    const __m256i store_mask =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(width), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    int64_t k = 0;
    for (; k + 8 <= cols; k += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i)
        r[i] = i < real ? load8(src + (i0 + i) * rs + k) : _mm256_setzero_ps();
      transpose8x8(r);
      if (width == 8) {
        for (int t = 0; t < 8; ++t) _mm256_storeu_ps(dst + (k + t) * P + i0, r[t]);
      } else {
        for (int t = 0; t < 8; ++t) _mm256_maskstore_ps(dst + (k + t) * P + i0, store_mask, r[t]);
      }
    }
    for (; k < cols; ++k)
      for (int i = 0; i < width; ++i)
        dst[k * P + i0 + i] = i < real ? sload(src[(i0 + i) * rs + k]) : 0.0f;
  }
}

// Packs rows [r0, r0+rows) x cols [c0, c0+cols) of a strided matrix into panels of P rows:
// panel p holds, for each col, P consecutive values (rows past the end are zero).
template <class T>
void pack_panels(const T* base, int64_t rs, int64_t cs, int64_t r0, int64_t rows, int64_t c0,
                 int64_t cols, int P, float* out) {
  for (int64_t p0 = 0; p0 < rows; p0 += P) {
    const int pr = static_cast<int>(std::min<int64_t>(P, rows - p0));
    float* dst = out + p0 * cols;
    if (cs == 1) {
      pack_rows_transposed(base + (r0 + p0) * rs + c0, rs, pr, cols, P, dst);
      continue;
    }
    if (rs == 1) {
      for (int64_t k = 0; k < cols; ++k)
        convert_run(base + (c0 + k) * cs + r0 + p0, dst + k * P, pr);
    } else {
      for (int i = 0; i < pr; ++i)
        for (int64_t k = 0; k < cols; ++k)
          dst[k * P + i] = sload(base[(r0 + p0 + i) * rs + (c0 + k) * cs]);
    }
    if (pr < P)
      for (int64_t k = 0; k < cols; ++k)
        for (int i = pr; i < P; ++i) dst[k * P + i] = 0.0f;
  }
}

// c (MRV x nr) = or += the accumulator tile (two vectors per row).
template <int MRV>
inline void store_tile(Vec::R* acc0, Vec::R* acc1, float* c, int64_t ldc, bool accumulate, int nr) {
  const int n0 = std::min(nr, kW), n1 = nr - kW;
#pragma GCC unroll 16
  for (int i = 0; i < MRV; ++i) {
    float* ci = c + i * ldc;
    if (nr == kNr) {
      if (accumulate) {
        acc0[i] = Vec::add(acc0[i], Vec::load(ci));
        acc1[i] = Vec::add(acc1[i], Vec::load(ci + kW));
      }
      Vec::store(ci, acc0[i]);
      Vec::store(ci + kW, acc1[i]);
      continue;
    }
    if (accumulate) acc0[i] = Vec::add(acc0[i], Vec::load_n(ci, n0));
    Vec::store_n(ci, acc0[i], n0);
    if (n1 > 0) {
      if (accumulate) acc1[i] = Vec::add(acc1[i], Vec::load_n(ci + kW, n1));
      Vec::store_n(ci + kW, acc1[i], n1);
    }
  }
}

// c (MRV x nr, row stride ldc) = or += packed A panel (kc x kMr) @ packed B panel (kc x kNr).
template <int MRV>
void micro_kernel(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc,
                  bool accumulate, int nr) {
  Vec::R acc0[MRV], acc1[MRV];
#pragma GCC unroll 16
  for (int i = 0; i < MRV; ++i) acc0[i] = acc1[i] = Vec::zero();
  for (int64_t k = 0; k < kc; ++k) {
    const Vec::R b0 = Vec::load(pb), b1 = Vec::load(pb + kW);
#pragma GCC unroll 16
    for (int i = 0; i < MRV; ++i) {
      const Vec::R a = Vec::set1(pa[i]);
      acc0[i] = Vec::fma(a, b0, acc0[i]);
      acc1[i] = Vec::fma(a, b1, acc1[i]);
    }
    pa += kMr;
    pb += kNr;
  }
  store_tile<MRV>(acc0, acc1, c, ldc, accumulate, nr);
}

using MicroKernelFn = void (*)(int64_t, const float*, const float*, float*, int64_t, bool, int);

template <int... I>
constexpr std::array<MicroKernelFn, sizeof...(I)> micro_kernel_table(
    std::integer_sequence<int, I...>) {
  return {&micro_kernel<I + 1>...};
}
constexpr auto kMicroKernels = micro_kernel_table(std::make_integer_sequence<int, kMr>{});

void add_bias(const GemmArgs& g, int64_t n_begin, int64_t n_end) {
  if (g.bias == nullptr) return;
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = n_begin; j < n_end; ++j) g.c[i * g.ldc + j] += g.bias[j];
}

struct PackBuffers {
  std::vector<float> a, b;
};

#if defined(__AVX512BF16__)
// bf16 x bf16 with AVX512_BF16: panels hold k-pairs of bf16 as 32-bit lanes, and vdpbf16ps adds
// both products of a pair into the f32 accumulators (products of bf16 values are exact in f32, so
// only the summation order differs from the f32 path). Used when both operands are k-contiguous
// bf16 with even K, where packing is the same 8x8 transpose on 32-bit pairs.
template <int MRV>
void micro_kernel_bf16(int64_t kpairs, const uint32_t* pa, const uint32_t* pb, float* c,
                       int64_t ldc, bool accumulate, int nr) {
  Vec::R acc0[MRV], acc1[MRV];
#pragma GCC unroll 16
  for (int i = 0; i < MRV; ++i) acc0[i] = acc1[i] = Vec::zero();
  for (int64_t p = 0; p < kpairs; ++p) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(pb);
    const __m512bh b1 = (__m512bh)_mm512_loadu_si512(pb + kW);
#pragma GCC unroll 16
    for (int i = 0; i < MRV; ++i) {
      const __m512bh a = (__m512bh)_mm512_set1_epi32(static_cast<int>(pa[i]));
      acc0[i] = _mm512_dpbf16_ps(acc0[i], a, b0);
      acc1[i] = _mm512_dpbf16_ps(acc1[i], a, b1);
    }
    pa += kMr;
    pb += kNr;
  }
  store_tile<MRV>(acc0, acc1, c, ldc, accumulate, nr);
}

using MicroKernelBf16Fn = void (*)(int64_t, const uint32_t*, const uint32_t*, float*, int64_t, bool,
                                   int);
template <int... I>
constexpr std::array<MicroKernelBf16Fn, sizeof...(I)> micro_kernel_bf16_table(
    std::integer_sequence<int, I...>) {
  return {&micro_kernel_bf16<I + 1>...};
}
constexpr auto kMicroKernelsBf16 = micro_kernel_bf16_table(std::make_integer_sequence<int, kMr>{});

bool bf16_dot_applies(const GemmArgs& g) {
  const auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 4 == 0; };
  // Zen 4 retires vdpbf16ps (two products per lane) at the FMA rate, so it doubles throughput;
  // Intel cores issue it on one port instead of two, and measured slower than converting to f32.
  const CpuFeatures& f = cpu_features();
  return f.avx512bf16 && f.vendor_amd && g.a.cs == 1 && g.b.rs == 1 && g.k % 2 == 0 &&
         g.a.rs % 2 == 0 && g.b.cs % 2 == 0 && aligned(g.a.data) && aligned(g.b.data);
}

// gemm_columns for bf16 x bf16 (bf16_dot_applies): the same blocking over k-pairs.
void gemm_columns_bf16(const GemmArgs& g, int64_t n_begin, int64_t n_end, float* buf_a,
                       float* buf_b) {
  // Rows of both operands as runs of 32-bit pairs, viewed as floats for the bit-exact transposes.
  const float* a = static_cast<const float*>(g.a.data);
  const float* b = static_cast<const float*>(g.b.data);
  const int64_t a_rs = g.a.rs / 2, b_rs = g.b.cs / 2;
  for (int64_t jc = n_begin; jc < n_end; jc += kNc) {
    const int64_t nc = std::min(kNc, n_end - jc);
    for (int64_t pc = 0; pc < g.k; pc += kKc) {
      const int64_t kp = std::min(kKc, g.k - pc) / 2;
      pack_panels(b, b_rs, 1, jc, nc, pc / 2, kp, kNr, buf_b);
      for (int64_t ic = 0; ic < g.m; ic += kMc) {
        const int64_t mc = std::min(kMc, g.m - ic);
        pack_panels(a, a_rs, 1, ic, mc, pc / 2, kp, kMr, buf_a);
        for (int64_t jr = 0; jr < nc; jr += kNr) {
          const int nr = static_cast<int>(std::min<int64_t>(kNr, nc - jr));
          for (int64_t ir = 0; ir < mc; ir += kMr) {
            const int mr = static_cast<int>(std::min<int64_t>(kMr, mc - ir));
            kMicroKernelsBf16[static_cast<size_t>(mr - 1)](
                kp, reinterpret_cast<const uint32_t*>(buf_a + ir * kp),
                reinterpret_cast<const uint32_t*>(buf_b + jr * kp),
                g.c + (ic + ir) * g.ldc + jc + jr, g.ldc, pc > 0, nr);
          }
        }
      }
    }
  }
}
#endif

// One thread's share: columns [n_begin, n_end) of C.
template <class TA, class TB>
void gemm_columns(const GemmArgs& g, int64_t n_begin, int64_t n_end, PackBuffers& buf) {
#if defined(__AVX512BF16__)
  if constexpr (std::is_same_v<TA, bf16_t> && std::is_same_v<TB, bf16_t>) {
    if (bf16_dot_applies(g)) {
      gemm_columns_bf16(g, n_begin, n_end, buf.a.data(), buf.b.data());
      add_bias(g, n_begin, n_end);
      return;
    }
  }
#endif
  const TA* a = static_cast<const TA*>(g.a.data);
  const TB* b = static_cast<const TB*>(g.b.data);
  for (int64_t jc = n_begin; jc < n_end; jc += kNc) {
    const int64_t nc = std::min(kNc, n_end - jc);
    for (int64_t pc = 0; pc < g.k; pc += kKc) {
      const int64_t kc = std::min(kKc, g.k - pc);
      // B as an (N, K) matrix: rows are b's columns.
      pack_panels(b, g.b.cs, g.b.rs, jc, nc, pc, kc, kNr, buf.b.data());
      for (int64_t ic = 0; ic < g.m; ic += kMc) {
        const int64_t mc = std::min(kMc, g.m - ic);
        pack_panels(a, g.a.rs, g.a.cs, ic, mc, pc, kc, kMr, buf.a.data());
        for (int64_t jr = 0; jr < nc; jr += kNr) {
          const int nr = static_cast<int>(std::min<int64_t>(kNr, nc - jr));
          for (int64_t ir = 0; ir < mc; ir += kMr) {
            const int mr = static_cast<int>(std::min<int64_t>(kMr, mc - ir));
            kMicroKernels[static_cast<size_t>(mr - 1)](
                kc, buf.a.data() + ir * kc, buf.b.data() + jr * kc,
                g.c + (ic + ir) * g.ldc + jc + jr, g.ldc, pc > 0, nr);
          }
        }
      }
    }
  }
  add_bias(g, n_begin, n_end);
}

template <class TA, class TB>
void gemm_typed(const GemmArgs& g) {
  const int64_t panels = (g.n + kNr - 1) / kNr;
  // Below ~64 kFLOP per panel a thread hand-off costs more than it saves.
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, 2 * g.m * g.k * kNr));
  parallel_for(panels, grain, [&](int64_t p_begin, int64_t p_end) {
    thread_local PackBuffers buf;
    buf.a.resize(static_cast<size_t>(kMc * kKc));
    buf.b.resize(static_cast<size_t>(kNc * kKc));

    gemm_columns<TA, TB>(g, p_begin * kNr, std::min(g.n, p_end * kNr), buf);
  });
}

template <class TA, class TB>
void gemm_typed_serial(const GemmArgs& g) {
  thread_local PackBuffers buf;
  buf.a.resize(static_cast<size_t>(kMc * kKc));
  buf.b.resize(static_cast<size_t>(kNc * kKc));
  gemm_columns<TA, TB>(g, 0, g.n, buf);
}

template <bool kSerial, class TA>
void gemm_b_dispatch(const GemmArgs& g) {
  switch (g.b.dtype) {
    case DType::kF16:
      (kSerial ? gemm_typed_serial<TA, f16_t> : gemm_typed<TA, f16_t>)(g);
      return;
    case DType::kBF16:
      (kSerial ? gemm_typed_serial<TA, bf16_t> : gemm_typed<TA, bf16_t>)(g);
      return;
    default:
      (kSerial ? gemm_typed_serial<TA, float> : gemm_typed<TA, float>)(g);
      return;
  }
}

template <bool kSerial>
void gemm_any(const GemmArgs& g) {
  switch (g.a.dtype) {
    case DType::kF16:
      gemm_b_dispatch<kSerial, f16_t>(g);
      return;
    case DType::kBF16:
      gemm_b_dispatch<kSerial, bf16_t>(g);
      return;
    default:
      gemm_b_dispatch<kSerial, float>(g);
      return;
  }
}
void gemm(const GemmArgs& g) {
  gemm_any<false>(g);
}
void gemm_serial(const GemmArgs& g) {
  gemm_any<true>(g);
}

// out[i * NW + j] = dot(x[i], w[j]) over k_dim values; x f32, w of type T.
template <class T, int NW, int NX>
void dot_block(const float* const* x, const T* const* w, int64_t k_dim, float* out) {
  Vec::R acc[NX][NW];
  for (int i = 0; i < NX; ++i)
    for (int j = 0; j < NW; ++j) acc[i][j] = Vec::zero();
  int64_t k = 0;
  for (; k + kW <= k_dim; k += kW) {
    Vec::R wv[NW];
    for (int j = 0; j < NW; ++j) wv[j] = vload(w[j] + k);
    for (int i = 0; i < NX; ++i) {
      const Vec::R xv = Vec::load(x[i] + k);
      for (int j = 0; j < NW; ++j) acc[i][j] = Vec::fma(xv, wv[j], acc[i][j]);
    }
  }
  if (k < k_dim) {
    const int rem = static_cast<int>(k_dim - k);
    Vec::R wv[NW];
    for (int j = 0; j < NW; ++j) wv[j] = vload_n(w[j] + k, rem);
    for (int i = 0; i < NX; ++i) {
      const Vec::R xv = Vec::load_n(x[i] + k, rem);
      for (int j = 0; j < NW; ++j) acc[i][j] = Vec::fma(xv, wv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < NX; ++i)
    for (int j = 0; j < NW; ++j) out[i * NW + j] = Vec::hsum(acc[i][j]);
}

// Output columns [n_begin, n_end) for every row of a.
// Input rows [i, i + NX) against weight rows w (output columns j..j+NW).
template <class T, int NW, int NX>
void gemv_rows(const GemmArgs& g, const float* a, const T* const* w, int64_t i, int64_t j) {
  const float* x[NX];
  for (int r = 0; r < NX; ++r) x[r] = a + (i + r) * g.a.rs;
  float out[NX * NW];
  dot_block<T, NW, NX>(x, w, g.k, out);
  for (int r = 0; r < NX; ++r)
    for (int t = 0; t < NW; ++t)
      g.c[(i + r) * g.ldc + j + t] = out[r * NW + t] + (g.bias ? g.bias[j + t] : 0.0f);
}

template <class T, int NW>
void gemv_columns_step(const GemmArgs& g, const float* a, const T* b, int64_t j) {
  const T* w[NW];
  for (int t = 0; t < NW; ++t) w[t] = b + (j + t) * g.b.cs;
  int64_t i = 0;
  for (; i + kGemvRows <= g.m; i += kGemvRows) gemv_rows<T, NW, kGemvRows>(g, a, w, i, j);
  if (kGemvRows > 2 && i + 2 <= g.m) {
    gemv_rows<T, NW, 2>(g, a, w, i, j);
    i += 2;
  }
  if (i < g.m) gemv_rows<T, NW, 1>(g, a, w, i, j);
}

// Columns [n_begin, n_end) of every row.
template <class T>
void gemv_range(const GemmArgs& g, int64_t n_begin, int64_t n_end) {
  const float* a = static_cast<const float*>(g.a.data);
  const T* b = static_cast<const T*>(g.b.data);
  int64_t j = n_begin;
  for (; j + 4 <= n_end; j += 4) gemv_columns_step<T, 4>(g, a, b, j);
  for (; j < n_end; ++j) gemv_columns_step<T, 1>(g, a, b, j);
}

template <class T>
void gemv_typed(const GemmArgs& g) {
  constexpr int64_t kBlock = 16;  // columns per scheduling unit: whole cache lines of C per thread
  const int64_t blocks = (g.n + kBlock - 1) / kBlock;
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, g.m * g.k * kBlock));
  parallel_for(blocks, grain, [&](int64_t b_begin, int64_t b_end) {
    gemv_range<T>(g, b_begin * kBlock, std::min(g.n, b_end * kBlock));
  });
}

template <bool kSerial>
void gemv_any(const GemmArgs& g) {
  switch (g.b.dtype) {
    case DType::kF16:
      kSerial ? gemv_range<f16_t>(g, 0, g.n) : gemv_typed<f16_t>(g);
      return;
    case DType::kBF16:
      kSerial ? gemv_range<bf16_t>(g, 0, g.n) : gemv_typed<bf16_t>(g);
      return;
    default:
      kSerial ? gemv_range<float>(g, 0, g.n) : gemv_typed<float>(g);
      return;
  }
}
void gemv(const GemmArgs& g) {
  gemv_any<false>(g);
}
void gemv_serial(const GemmArgs& g) {
  gemv_any<true>(g);
}

}  // namespace
}  // namespace wick::cpu
