// The scalar reference of the integer dot products (qdot.h) and the activation quantizers every
// build shares. Each weight block is unpacked to its small integer codes; sums of code x
// activation are exact in int32 and scaled to float once per block (32-wide types) or super-block
// (256-wide types), in the order the SIMD builds use, so they differ only in float summation order.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/qdot.h"
#include "backends/cpu/qdot_blocks.h"
#include "core/cpu_features.h"
#include "core/error.h"
#include "core/half.h"
#include "core/quant/quant.h"

namespace wick::cpu {
namespace {

using quant::kQK;
using quant::kQK_K;

constexpr bool is_k_type(DType w) {
  switch (w) {
    case DType::kQ2_K:
    case DType::kQ3_K:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
    case DType::kIQ4_XS:
      return true;
    default:
      return false;
  }
}

// Round to nearest, ties to even, for |x| < 2^22 (the magic-number trick vectorises).
inline int round_nearest(float x) {
  const float shifted = x + 12582912.0f;
  uint32_t bits;
  std::memcpy(&bits, &shifted, 4);
  return static_cast<int>(bits & 0x7fffffu) - 0x400000;
}

void quantize_act_q8(const float* x, int64_t k, ActQ8* out) {
  for (int64_t b = 0; b < k / kQK; ++b, x += kQK) {
    float amax = 0.0f;
    for (int i = 0; i < kQK; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int i = 0; i < kQK; ++i) {
      const int q = std::clamp(round_nearest(x[i] * id), -127, 127);
      out[b].qs[i] = static_cast<int8_t>(q);
      sum += q;
    }
    out[b].d = d;
    out[b].s = d * static_cast<float>(sum);
  }
}

// ---- 32-wide types: codes of one block (value j of the block in c[j]) ----

void codes_q4(const uint8_t* qs, int* c) {
  for (int j = 0; j < 16; ++j) {
    c[j] = qs[j] & 0x0f;
    c[j + 16] = qs[j] >> 4;
  }
}

void codes_q5(const uint8_t* qh_bytes, const uint8_t* qs, int* c) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  for (int j = 0; j < 16; ++j) {
    c[j] = (qs[j] & 0x0f) | (((qh >> j) & 1) << 4);
    c[j + 16] = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
  }
}

int dot32(const int* c, const int8_t* a) {
  int s = 0;
  for (int j = 0; j < kQK; ++j) s += c[j] * a[j];
  return s;
}

// Scalar product of one weight row with one ActQ8 row.
template <DType kType>
float dot_row_32(const void* w_row, const ActQ8* a, int64_t n_blocks) {
  float acc = 0.0f;
  int c[kQK];
  for (int64_t b = 0; b < n_blocks; ++b) {
    float dw = 0.0f, mw = 0.0f;
    if constexpr (kType == DType::kQ4_0) {
      const auto& w = static_cast<const quant::BlockQ4_0*>(w_row)[b];
      codes_q4(w.qs, c);  // unsigned codes with a min of -8 d, as the SIMD builds
      dw = f16_to_f32(w.d);
      mw = -8.0f * dw;
    } else if constexpr (kType == DType::kQ4_1) {
      const auto& w = static_cast<const quant::BlockQ4_1*>(w_row)[b];
      codes_q4(w.qs, c);
      dw = f16_to_f32(w.d);
      mw = f16_to_f32(w.m);
    } else if constexpr (kType == DType::kQ5_0) {
      const auto& w = static_cast<const quant::BlockQ5_0*>(w_row)[b];
      codes_q5(w.qh, w.qs, c);
      dw = f16_to_f32(w.d);
      mw = -16.0f * dw;
    } else if constexpr (kType == DType::kQ5_1) {
      const auto& w = static_cast<const quant::BlockQ5_1*>(w_row)[b];
      codes_q5(w.qh, w.qs, c);
      dw = f16_to_f32(w.d);
      mw = f16_to_f32(w.m);
    } else if constexpr (kType == DType::kQ8_0) {
      const auto& w = static_cast<const quant::BlockQ8_0*>(w_row)[b];
      for (int j = 0; j < kQK; ++j) c[j] = w.qs[j];
      dw = f16_to_f32(w.d);
    } else {
      static_assert(kType == DType::kIQ4_NL);
      const auto& w = static_cast<const quant::BlockIQ4_NL*>(w_row)[b];
      for (int j = 0; j < 16; ++j) {
        c[j] = quant::kIQ4Values[w.qs[j] & 0x0f];
        c[j + 16] = quant::kIQ4Values[w.qs[j] >> 4];
      }
      dw = f16_to_f32(w.d);
    }
    acc += dw * a[b].d * static_cast<float>(dot32(c, a[b].qs));
    if (mw != 0.0f) acc += mw * a[b].s;
  }
  return acc;
}

// ---- 256-wide types: per super-block, isum = sum_g scale_g * (sum code * a - offset * bsum_g)
// and msum = sum_g min_g * bsum_g, then acc += d * da * isum - dmin * da * msum ----

int bsum32(const quant::BlockQ8_K& a, int g) {
  return a.bsums[2 * g] + a.bsums[2 * g + 1];
}

int dot_n(const uint8_t* q, const int8_t* a, int n) {
  int s = 0;
  for (int j = 0; j < n; ++j) s += q[j] * a[j];
  return s;
}

template <DType kType>
float dot_row_k(const void* w_row, const quant::BlockQ8_K* a, int64_t n_blocks) {
  float acc = 0.0f;
  uint8_t q[kQK_K];
  for (int64_t b = 0; b < n_blocks; ++b) {
    const quant::BlockQ8_K& ab = a[b];
    int isum = 0, msum = 0;
    float d = 0.0f, dmin = 0.0f;
    if constexpr (kType == DType::kQ4_K || kType == DType::kQ5_K) {
      using Block = std::conditional_t<kType == DType::kQ4_K, quant::BlockQ4_K, quant::BlockQ5_K>;
      const Block& w = static_cast<const Block*>(w_row)[b];
      for (int p = 0; p < kQK_K; ++p) {
        const uint8_t byte = w.qs[(p / 64) * 32 + p % 32];
        q[p] = (p % 64) < 32 ? (byte & 0x0f) : (byte >> 4);
        if constexpr (kType == DType::kQ5_K) q[p] |= ((w.qh[p % 32] >> (p / 32)) & 1) << 4;
      }
      uint8_t sc[8], mn[8];
      unpack_scales_mins_k4(w.scales, sc, mn);
      for (int g = 0; g < 8; ++g) {
        isum += sc[g] * dot_n(q + 32 * g, ab.qs + 32 * g, 32);
        msum += mn[g] * bsum32(ab, g);
      }
      d = f16_to_f32(w.d);
      dmin = f16_to_f32(w.dmin);
    } else if constexpr (kType == DType::kQ6_K) {
      const auto& w = static_cast<const quant::BlockQ6_K*>(w_row)[b];
      for (int p = 0; p < kQK_K; ++p) {
        const int h = p / 128, k = (p % 128) / 32, l = p % 32;
        const uint8_t lo = w.ql[64 * h + 32 * (k & 1) + l];
        q[p] = static_cast<uint8_t>(((k < 2 ? lo : lo >> 4) & 0x0f) |
                                    (((w.qh[32 * h + l] >> (2 * k)) & 3) << 4));
      }
      for (int g = 0; g < 16; ++g)
        isum += w.scales[g] * (dot_n(q + 16 * g, ab.qs + 16 * g, 16) - 32 * ab.bsums[g]);
      d = f16_to_f32(w.d);
    } else if constexpr (kType == DType::kQ3_K) {
      const auto& w = static_cast<const quant::BlockQ3_K*>(w_row)[b];
      for (int p = 0; p < kQK_K; ++p) {
        const int low = (w.qs[(p / 128) * 32 + p % 32] >> (2 * ((p % 128) / 32))) & 3;
        q[p] = static_cast<uint8_t>(low | (((w.hmask[p % 32] >> (p / 32)) & 1) << 2));
      }
      int8_t sc[16];
      unpack_scales_q3(w.scales, sc);
      for (int g = 0; g < 16; ++g)
        isum += sc[g] * (dot_n(q + 16 * g, ab.qs + 16 * g, 16) - 4 * ab.bsums[g]);
      d = f16_to_f32(w.d);
    } else if constexpr (kType == DType::kQ2_K) {
      const auto& w = static_cast<const quant::BlockQ2_K*>(w_row)[b];
      for (int p = 0; p < kQK_K; ++p)
        q[p] = (w.qs[(p / 128) * 32 + p % 32] >> (2 * ((p % 128) / 32))) & 3;
      for (int g = 0; g < 16; ++g) {
        isum += (w.scales[g] & 0x0f) * dot_n(q + 16 * g, ab.qs + 16 * g, 16);
        msum += (w.scales[g] >> 4) * ab.bsums[g];
      }
      d = f16_to_f32(w.d);
      dmin = f16_to_f32(w.dmin);
    } else {
      static_assert(kType == DType::kIQ4_XS);
      const auto& w = static_cast<const quant::BlockIQ4_XS*>(w_row)[b];
      int8_t sc[8];
      unpack_scales_iq4_xs(w, sc);
      for (int g = 0; g < 8; ++g) {
        int s = 0;
        for (int j = 0; j < 16; ++j) {
          s += quant::kIQ4Values[w.qs[16 * g + j] & 0x0f] * ab.qs[32 * g + j];
          s += quant::kIQ4Values[w.qs[16 * g + j] >> 4] * ab.qs[32 * g + j + 16];
        }
        isum += sc[g] * s;
      }
      d = f16_to_f32(w.d);
    }
    acc += d * ab.d * static_cast<float>(isum);
    if (msum != 0) acc -= dmin * ab.d * static_cast<float>(msum);
  }
  return acc;
}

template <DType kType>
void dot_scalar(const void* w_row, const void* act, size_t act_stride, int n_act, int64_t n_blocks,
                float* out, int64_t out_stride) {
  for (int r = 0; r < n_act; ++r) {
    const void* a = static_cast<const uint8_t*>(act) + static_cast<size_t>(r) * act_stride;
    if constexpr (is_k_type(kType)) {
      out[r * out_stride] =
          dot_row_k<kType>(w_row, static_cast<const quant::BlockQ8_K*>(a), n_blocks);
    } else {
      out[r * out_stride] = dot_row_32<kType>(w_row, static_cast<const ActQ8*>(a), n_blocks);
    }
  }
}

constexpr QDotKernels make_scalar() {
  QDotKernels k{"scalar", {}};
  k.dot[static_cast<int>(DType::kQ4_0)] = &dot_scalar<DType::kQ4_0>;
  k.dot[static_cast<int>(DType::kQ4_1)] = &dot_scalar<DType::kQ4_1>;
  k.dot[static_cast<int>(DType::kQ5_0)] = &dot_scalar<DType::kQ5_0>;
  k.dot[static_cast<int>(DType::kQ5_1)] = &dot_scalar<DType::kQ5_1>;
  k.dot[static_cast<int>(DType::kQ8_0)] = &dot_scalar<DType::kQ8_0>;
  k.dot[static_cast<int>(DType::kIQ4_NL)] = &dot_scalar<DType::kIQ4_NL>;
  k.dot[static_cast<int>(DType::kQ2_K)] = &dot_scalar<DType::kQ2_K>;
  k.dot[static_cast<int>(DType::kQ3_K)] = &dot_scalar<DType::kQ3_K>;
  k.dot[static_cast<int>(DType::kQ4_K)] = &dot_scalar<DType::kQ4_K>;
  k.dot[static_cast<int>(DType::kQ5_K)] = &dot_scalar<DType::kQ5_K>;
  k.dot[static_cast<int>(DType::kQ6_K)] = &dot_scalar<DType::kQ6_K>;
  k.dot[static_cast<int>(DType::kIQ4_XS)] = &dot_scalar<DType::kIQ4_XS>;
  return k;
}

}  // namespace

const QDotKernels kQDotScalar = make_scalar();

bool qdot_supported(DType weight) {
  return kQDotScalar.dot[static_cast<int>(weight)] != nullptr;
}

int qdot_act_block_values(DType weight) {
  return is_k_type(weight) ? kQK_K : kQK;
}

size_t qdot_act_row_bytes(DType weight, int64_t k) {
  const int64_t per = qdot_act_block_values(weight);
  return static_cast<size_t>(k / per) *
         (is_k_type(weight) ? sizeof(quant::BlockQ8_K) : sizeof(ActQ8));
}

void quantize_activation_row(DType weight, const float* x, int64_t k, void* out) {
  WICK_CHECK(qdot_supported(weight), ErrorKind::kUnsupported,
             "no integer dot product for weight dtype {}", dtype_name(weight));
  WICK_CHECK(k % qdot_act_block_values(weight) == 0, ErrorKind::kInvalidArgument,
             "activation row of {} values is not a whole number of {}-value blocks ({} weights)", k,
             qdot_act_block_values(weight), dtype_name(weight));
  if (is_k_type(weight)) {
    quant::quantize_row_q8_k(x, static_cast<quant::BlockQ8_K*>(out), k);
  } else {
    quantize_act_q8(x, k, static_cast<ActQ8*>(out));
  }
}

int runnable_qdot_builds(const QDotKernels** out, int capacity) {
  const CpuFeatures& f = cpu_features();
  int n = 0;
  const auto add = [&](const QDotKernels* k) {
    if (n < capacity) out[n++] = k;
  };
  add(&kQDotScalar);
  if (f.has_avx2_set()) add(&avx2::kQDotKernels);
  if (f.has_avx512_set() && f.avx512vnni) add(&avx512::kQDotKernels);
  return n;
}

const QDotKernels& best_qdot_kernels() {
  static const QDotKernels* const best = [] {
    const QDotKernels* builds[3];
    const int n = runnable_qdot_builds(builds, 3);
    return builds[n - 1];
  }();
  return *best;
}

}  // namespace wick::cpu
