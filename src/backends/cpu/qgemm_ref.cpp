// Scalar reference of the prefill panels (qgemm.h): unpacking with qgemm_groups.h and the kernel
// as plain loops. Per output it does exactly the float operations of the SIMD kernel, in the same
// order (fma of the group's integer sum(s), then fma of its min term), so the two agree bit for
// bit.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/qgemm.h"
#include "backends/cpu/qgemm_groups.h"
#include "core/cpu_features.h"
#include "core/error.h"

namespace wick::cpu {
namespace {

template <DType T>
void unpack_scalar(const uint8_t* w, uint64_t row_bytes, int rows, int64_t n_groups,
                   const Panel& p) {
  uint8_t c[32];
  for (int64_t g = 0; g < n_groups; ++g)
    for (int r = 0; r < kPanelRows; ++r) {
      float scale = 0.0f, min = 0.0f;
      if (r < rows) {
        group_codes<T>(w + static_cast<uint64_t>(r) * row_bytes, g, c);
        group_params<T>(w + static_cast<uint64_t>(r) * row_bytes, g, &scale, &min);
      } else {
        std::memset(c, 0, sizeof(c));
      }
      for (int q = 0; q < 8; ++q) std::memcpy(p.codes + (g * 8 + q) * 64 + r * 4, c + 4 * q, 4);
      p.scale[g * kPanelRows + r] = scale;
      p.min[g * kPanelRows + r] = min;
    }
}

template <DType T>
void unpack16_scalar(const uint8_t* w, uint64_t row_bytes, int rows, int64_t n_groups,
                     const Panel& p) {
  int8_t c[16];
  for (int64_t g = 0; g < n_groups; ++g)
    for (int r = 0; r < kPanelRows; ++r) {
      float scale = 0.0f;
      int32_t sum = 0;
      if (r < rows) {
        group16_codes<T>(w + static_cast<uint64_t>(r) * row_bytes, g, c);
        scale = group16_scale<T>(w + static_cast<uint64_t>(r) * row_bytes, g);
        for (int l = 0; l < 16; ++l) sum += c[l];
      } else {
        std::memset(c, 0, sizeof(c));
      }
      for (int q = 0; q < 4; ++q) std::memcpy(p.codes + (g * 4 + q) * 64 + r * 4, c + 4 * q, 4);
      p.scale[g * kPanelRows + r] = scale;
      p.wsum[g * kPanelRows + r] = 128 * sum;
    }
}

void kernel16_scalar(const Panel& p, int64_t n_groups, const void* act, size_t act_stride,
                     int n_act, float* out, int64_t ldc, int n_cols) {
  for (int r = 0; r < n_act; ++r) {
    const auto* a =
        reinterpret_cast<const ActQ8x2*>(static_cast<const uint8_t*>(act) + r * act_stride);
    for (int j = 0; j < n_cols; ++j) {
      float acc = 0.0f;
      for (int64_t g = 0; g < n_groups; ++g) {
        const ActQ8x2& ab = a[g / 2];
        // = sum (a + 128) * code - 128 * sum code, as the SIMD kernel forms them
        int32_t isum1 = 0, isum2 = 0;
        for (int l = 0; l < 16; ++l) {
          const int c = static_cast<int8_t>(p.codes[(g * 4 + l / 4) * 64 + j * 4 + l % 4]);
          isum1 += c * ab.q1[16 * (g % 2) + l];
          isum2 += c * ab.q2[16 * (g % 2) + l];
        }
        acc = std::fma(static_cast<float>(isum1), p.scale[g * kPanelRows + j] * ab.d, acc);
        acc = std::fma(static_cast<float>(isum2), p.scale[g * kPanelRows + j] * ab.d2, acc);
      }
      out[r * ldc + j] = acc;
    }
  }
}

void kernel_scalar(const Panel& p, int64_t n_groups, const void* act, size_t act_stride, int n_act,
                   float* out, int64_t ldc, int n_cols) {
  for (int r = 0; r < n_act; ++r) {
    const auto* a =
        reinterpret_cast<const ActQ8x2*>(static_cast<const uint8_t*>(act) + r * act_stride);
    for (int j = 0; j < n_cols; ++j) {
      float acc = 0.0f;
      for (int64_t g = 0; g < n_groups; ++g) {
        int32_t isum1 = 0, isum2 = 0;
        for (int l = 0; l < 32; ++l) {
          const int c = p.codes[(g * 8 + l / 4) * 64 + j * 4 + l % 4];
          isum1 += c * a[g].q1[l];
          isum2 += c * a[g].q2[l];
        }
        // d q1 + d2 q2 = d2 (254 q1 + q2) up to d's rounding (d2 = d / 254): one exact int32
        // sum, |254 isum1 + isum2| <= 255 * 32 * 255 * 127 < 2^29
        const int32_t isum = 254 * isum1 + isum2;
        acc = std::fma(static_cast<float>(isum), p.scale[g * kPanelRows + j] * a[g].d2, acc);
        acc = std::fma(p.min[g * kPanelRows + j], a[g].s, acc);
      }
      out[r * ldc + j] = acc;
    }
  }
}

PanelKernels make_scalar() {
  PanelKernels k{"scalar", &quantize_act_q8x2_row, {}, {}, &kernel_scalar, &kernel16_scalar};
  k.unpack[static_cast<int>(DType::kQ6_K)] = &unpack16_scalar<DType::kQ6_K>;
  k.unpack[static_cast<int>(DType::kQ3_K)] = &unpack16_scalar<DType::kQ3_K>;
  k.unpack[static_cast<int>(DType::kQ4_0)] = &unpack_scalar<DType::kQ4_0>;
  k.unpack[static_cast<int>(DType::kQ4_1)] = &unpack_scalar<DType::kQ4_1>;
  k.unpack[static_cast<int>(DType::kQ5_0)] = &unpack_scalar<DType::kQ5_0>;
  k.unpack[static_cast<int>(DType::kQ5_1)] = &unpack_scalar<DType::kQ5_1>;
  k.unpack[static_cast<int>(DType::kQ8_0)] = &unpack_scalar<DType::kQ8_0>;
  k.unpack[static_cast<int>(DType::kIQ4_NL)] = &unpack_scalar<DType::kIQ4_NL>;
  k.unpack[static_cast<int>(DType::kQ4_K)] = &unpack_scalar<DType::kQ4_K>;
  k.unpack[static_cast<int>(DType::kQ5_K)] = &unpack_scalar<DType::kQ5_K>;
  k.unpack[static_cast<int>(DType::kIQ4_XS)] = &unpack_scalar<DType::kIQ4_XS>;
  return k;
}

}  // namespace

const PanelKernels kPanelScalar = make_scalar();

int panel_group_values(DType weight) {
  if (kPanelScalar.unpack[static_cast<int>(weight)] == nullptr) return 0;
  return weight == DType::kQ6_K || weight == DType::kQ3_K ? 16 : 32;
}

const PanelKernels* best_panel_kernels() {
  static const PanelKernels* const best = [] {
    const CpuFeatures& f = cpu_features();
    return f.has_avx512_set() && f.avx512vnni ? &avx512::kPanelKernels : nullptr;
  }();
  return best;
}

void quantize_act_q8x2_row(const float* x, int64_t k, ActQ8x2* out) {
  WICK_CHECK(k % 32 == 0, ErrorKind::kInvalidArgument,
             "activation row of {} values is not a whole number of 32-value blocks", k);
  for (int64_t b = 0; b < k / 32; ++b, x += 32) {
    float amax = 0.0f;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float d = amax / 127.0f, d2 = d / 254.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f, id2 = d2 != 0.0f ? 1.0f / d2 : 0.0f;
    int sum1 = 0, sum2 = 0;
    for (int i = 0; i < 32; ++i) {
      const int q1 = std::clamp(static_cast<int>(std::nearbyint(x[i] * id)), -127, 127);
      const float residual = x[i] - d * static_cast<float>(q1);
      const int q2 = std::clamp(static_cast<int>(std::nearbyint(residual * id2)), -127, 127);
      out[b].q1[i] = static_cast<int8_t>(q1);
      out[b].q2[i] = static_cast<int8_t>(q2);
      sum1 += q1;
      sum2 += q2;
    }
    out[b].d = d;
    out[b].d2 = d2;
    out[b].s = d * static_cast<float>(sum1) + d2 * static_cast<float>(sum2);
  }
}

}  // namespace wick::cpu
