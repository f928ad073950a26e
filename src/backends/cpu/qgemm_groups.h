// Scalar view of one 32-value group of a quantized weight row as w = scale * code + min with an
// unsigned byte code, for the prefill panels (qgemm.h). Shared by the scalar reference and the
// AVX-512 unpacker (which computes the codes with SIMD but takes scale and min from here, so both
// produce the same bits). Anonymous namespace: each ISA translation unit keeps its own copy.
#pragma once

#include <cstdint>
#include <cstring>

#include "backends/cpu/qdot_blocks.h"
#include "core/dtype.h"
#include "core/half.h"
#include "core/quant/blocks.h"

namespace wick::cpu {
namespace {

template <DType T>
constexpr bool panel_type() {
  return T == DType::kQ4_0 || T == DType::kQ4_1 || T == DType::kQ5_0 || T == DType::kQ5_1 ||
         T == DType::kQ8_0 || T == DType::kIQ4_NL || T == DType::kQ4_K || T == DType::kQ5_K ||
         T == DType::kIQ4_XS;
}

// Scale and min of group g (32 values) of a weight row of type T.
template <DType T>
inline void group_params(const void* row, int64_t g, float* scale, float* min) {
  using namespace quant;
  if constexpr (T == DType::kQ4_0 || T == DType::kQ5_0 || T == DType::kQ8_0 ||
                T == DType::kIQ4_NL) {
    using B = std::conditional_t<
        T == DType::kQ4_0, BlockQ4_0,
        std::conditional_t<T == DType::kQ5_0, BlockQ5_0,
                           std::conditional_t<T == DType::kQ8_0, BlockQ8_0, BlockIQ4_NL>>>;
    const float d = f16_to_f32(static_cast<const B*>(row)[g].d);
    const float offset = T == DType::kQ4_0 ? 8.0f : (T == DType::kQ5_0 ? 16.0f : 128.0f);
    *scale = d;
    *min = -offset * d;
  } else if constexpr (T == DType::kQ4_1 || T == DType::kQ5_1) {
    using B = std::conditional_t<T == DType::kQ4_1, BlockQ4_1, BlockQ5_1>;
    const B& b = static_cast<const B*>(row)[g];
    *scale = f16_to_f32(b.d);
    *min = f16_to_f32(b.m);
  } else if constexpr (T == DType::kQ4_K || T == DType::kQ5_K) {
    using B = std::conditional_t<T == DType::kQ4_K, BlockQ4_K, BlockQ5_K>;
    const B& b = static_cast<const B*>(row)[g / 8];
    uint8_t sc[8], mn[8];
    unpack_scales_mins_k4(b.scales, sc, mn);
    *scale = f16_to_f32(b.d) * static_cast<float>(sc[g % 8]);
    *min = -(f16_to_f32(b.dmin) * static_cast<float>(mn[g % 8]));
  } else {
    static_assert(T == DType::kIQ4_XS);
    const BlockIQ4_XS& b = static_cast<const BlockIQ4_XS*>(row)[g / 8];
    int8_t sc[8];
    unpack_scales_iq4_xs(b, sc);
    *scale = f16_to_f32(b.d) * static_cast<float>(sc[g % 8]);
    *min = -128.0f * *scale;
  }
}

// The 32 unsigned codes of group g, in value order.
template <DType T>
inline void group_codes(const void* row, int64_t g, uint8_t* c) {
  using namespace quant;
  const auto nibbles = [&](const uint8_t* qs) {
    for (int j = 0; j < 16; ++j) {
      c[j] = qs[j] & 0x0f;
      c[j + 16] = qs[j] >> 4;
    }
  };
  const auto fifth_bits = [&](const uint8_t* qh_bytes) {
    uint32_t qh;
    std::memcpy(&qh, qh_bytes, 4);
    for (int j = 0; j < 32; ++j) c[j] = static_cast<uint8_t>(c[j] | (((qh >> j) & 1) << 4));
  };
  const auto iq4 = [&] {
    for (int j = 0; j < 32; ++j) c[j] = static_cast<uint8_t>(kIQ4Values[c[j]] + 128);
  };
  if constexpr (T == DType::kQ4_0) {
    nibbles(static_cast<const BlockQ4_0*>(row)[g].qs);
  } else if constexpr (T == DType::kQ4_1) {
    nibbles(static_cast<const BlockQ4_1*>(row)[g].qs);
  } else if constexpr (T == DType::kQ5_0) {
    nibbles(static_cast<const BlockQ5_0*>(row)[g].qs);
    fifth_bits(static_cast<const BlockQ5_0*>(row)[g].qh);
  } else if constexpr (T == DType::kQ5_1) {
    nibbles(static_cast<const BlockQ5_1*>(row)[g].qs);
    fifth_bits(static_cast<const BlockQ5_1*>(row)[g].qh);
  } else if constexpr (T == DType::kQ8_0) {
    const int8_t* qs = static_cast<const BlockQ8_0*>(row)[g].qs;
    for (int j = 0; j < 32; ++j) c[j] = static_cast<uint8_t>(qs[j] + 128);
  } else if constexpr (T == DType::kIQ4_NL) {
    nibbles(static_cast<const BlockIQ4_NL*>(row)[g].qs);
    iq4();
  } else if constexpr (T == DType::kQ4_K || T == DType::kQ5_K) {
    using B = std::conditional_t<T == DType::kQ4_K, BlockQ4_K, BlockQ5_K>;
    const B& b = static_cast<const B*>(row)[g / 8];
    const int sub = static_cast<int>(g % 8);
    const uint8_t* qs = b.qs + 32 * (sub / 2);
    for (int l = 0; l < 32; ++l) {
      c[l] = sub % 2 == 0 ? (qs[l] & 0x0f) : (qs[l] >> 4);
      if constexpr (T == DType::kQ5_K)
        c[l] = static_cast<uint8_t>(c[l] | (((b.qh[l] >> sub) & 1) << 4));
    }
  } else {
    static_assert(T == DType::kIQ4_XS);
    nibbles(static_cast<const BlockIQ4_XS*>(row)[g / 8].qs + 16 * (g % 8));
    iq4();
  }
}

// ---- 16-value groups without a min (Q6_K, Q3_K): w = scale * code, code signed ----

template <DType T>
constexpr bool panel16_type() {
  return T == DType::kQ6_K || T == DType::kQ3_K;
}

// Scale of 16-value group g (16 per super-block).
template <DType T>
inline float group16_scale(const void* row, int64_t g) {
  using namespace quant;
  if constexpr (T == DType::kQ6_K) {
    const BlockQ6_K& b = static_cast<const BlockQ6_K*>(row)[g / 16];
    return f16_to_f32(b.d) * static_cast<float>(b.scales[g % 16]);
  } else {
    static_assert(T == DType::kQ3_K);
    const BlockQ3_K& b = static_cast<const BlockQ3_K*>(row)[g / 16];
    int8_t sc[16];
    unpack_scales_q3(b.scales, sc);
    return f16_to_f32(b.d) * static_cast<float>(sc[g % 16]);
  }
}

// The 16 signed codes of group g.
template <DType T>
inline void group16_codes(const void* row, int64_t g, int8_t* c) {
  using namespace quant;
  for (int l = 0; l < 16; ++l) {
    const int p = static_cast<int>(16 * (g % 16)) + l;  // value within the super-block
    if constexpr (T == DType::kQ6_K) {
      const BlockQ6_K& b = static_cast<const BlockQ6_K*>(row)[g / 16];
      const int h = p / 128, k = (p % 128) / 32, i = p % 32;
      const uint8_t lo = b.ql[64 * h + 32 * (k & 1) + i];
      const int q = ((k < 2 ? lo : lo >> 4) & 0x0f) | (((b.qh[32 * h + i] >> (2 * k)) & 3) << 4);
      c[l] = static_cast<int8_t>(q - 32);
    } else {
      const BlockQ3_K& b = static_cast<const BlockQ3_K*>(row)[g / 16];
      const int low = (b.qs[(p / 128) * 32 + p % 32] >> (2 * ((p % 128) / 32))) & 3;
      const int high = (b.hmask[p % 32] >> (p / 32)) & 1;
      c[l] = static_cast<int8_t>(low + 4 * high - 4);
    }
  }
}

}  // namespace
}  // namespace wick::cpu
