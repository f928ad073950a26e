// Interface between the hot elementwise/norm fast kernels (hot_ops_fast.cpp, ISA-neutral) and
// their SIMD builds (hot_ops_avx2.cpp, hot_ops_avx512.cpp, one copy of hot_ops_impl.h each).
// Every function works on contiguous f32 data over a range the caller picked (for threading).
#pragma once

#include <cstdint>

namespace wick::cpu {

struct HotOpKernels {
  // out (rows, d) = a (rows, d) op b, where b's row r starts at b + r * b_row_stride
  // (b_row_stride = d: same shape; 0: one row broadcast over all rows).
  void (*add_rows)(const float* a, const float* b, int64_t b_row_stride, float* out, int64_t rows,
                   int64_t d);
  void (*mul_rows)(const float* a, const float* b, int64_t b_row_stride, float* out, int64_t rows,
                   int64_t d);
  // out (n) = a (n) op s.
  void (*add_scalar)(const float* a, float s, float* out, int64_t n);
  void (*mul_scalar)(const float* a, float s, float* out, int64_t n);
  // out (n) = x / (1 + e^-x).
  void (*silu)(const float* x, float* out, int64_t n);
  // Per row of (rows, d): softmax over d.
  void (*softmax_rows)(const float* x, float* out, int64_t rows, int64_t d);
  // Per row: x / sqrt(mean(x^2) + eps) * (w + w_offset); w (d) or null (then no scaling at all).
  void (*rms_norm_rows)(const float* x, const float* w, float w_offset, float eps, float* out,
                        int64_t rows, int64_t d);
};

namespace avx2 {
extern const HotOpKernels kHotOpKernels;
}
namespace avx512 {
extern const HotOpKernels kHotOpKernels;
}

}  // namespace wick::cpu
