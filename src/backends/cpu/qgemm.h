// Prefill GEMM for quantized weights: a tile of kPanelRows weight rows is unpacked once and every
// activation row runs against it in registers. Activations take two int8 passes (ActQ8x2: the
// value and the residual of its rounding), ~16-bit accurate: one Q8 pass let SmolLM2/Gemma 3
// drift to 96-97% top-1 agreement with float32 transformers, two passes keep them at the float
// path's. Two panel kinds:
//  - 32-value groups (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, Q4_K, Q5_K, IQ4_XS): unsigned byte
//    codes with an f32 scale and min per group (w = scale * code + min); vpdpbusd multiplies 16
//    weight rows' codes by 4 broadcast activation bytes; the min term uses ActQ8x2::s.
//  - 16-value groups without a min (Q6_K, Q3_K): signed codes (w = scale * code) against
//    activations made unsigned (a + 128), minus 128 * sum(codes) per group, exact in int32.
// qgemm_ref.cpp: scalar unpack + kernels (the spec); qgemm_avx512.cpp: AVX-512 VNNI.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/cpu/qdot.h"
#include "core/dtype.h"

namespace wick::cpu {

inline constexpr int kPanelRows = 16;

// One activation block of 32 values: x ~= d * q1[i] + d2 * q2[i] with d = amax / 127 and
// d2 = d / 254 (q2 rounds the residual of q1, |x - d q1| <= d / 2), s = d sum(q1) + d2 sum(q2).
struct ActQ8x2 {
  float d;
  float d2;
  float s;
  int8_t q1[32];
  int8_t q2[32];
};
static_assert(sizeof(ActQ8x2) == 76);
inline constexpr int kPanelMaxAct = 8;  // activation rows per kernel call

// One tile over n_groups groups of G (32 or 16) values: codes[(g * G / 4 + q) * 64 + row * 4 + i]
// is code 4q + i of group g for weight row `row`; scale/min/wsum[g * kPanelRows + row] (min for
// G = 32, wsum = 128 * sum of the signed codes for G = 16). Rows past the tile are zero.
struct Panel {
  uint8_t* codes;
  float* scale;
  float* min;
  int32_t* wsum;
};

// Unpacks weight rows [0, rows) (rows <= kPanelRows, row_bytes apart) of n_groups groups each.
using PanelUnpackFn = void (*)(const uint8_t* w, uint64_t row_bytes, int rows, int64_t n_groups,
                               const Panel& panel);
// 32-value groups compute per group acc = fma(float(254 isum1 + isum2), scale * d2, acc) then
// acc = fma(min, s, acc) (isum1/2: the exact int32 sums of codes x q1/q2; 254 d2 = d up to
// rounding), 16-value groups one fma per pass.
// out[r * ldc + j] = sum_g sum_l (scale * code + min)[j, 32 g + l] * act_r value 32 g + l, for
// r < n_act (<= kPanelMaxAct), j < n_cols (<= kPanelRows); act row r (ActQ8x2 blocks) at
// act + r * act_stride bytes.
using PanelKernelFn = void (*)(const Panel& panel, int64_t n_groups, const void* act,
                               size_t act_stride, int n_act, float* out, int64_t ldc, int n_cols);

// The same panel from one packed tile (backends/cpu/qpack.h: 16 rows, n_groups / groups-per-block
// blocks), bit for bit what `unpack` makes of the tile's GGUF rows.
using PanelUnpackPackedFn = void (*)(const uint8_t* tile, int64_t n_groups, const Panel& panel);

// x (k values, a multiple of 32, checked by the caller) -> k / 32 ActQ8x2 blocks.
using QuantizeActQ8x2Fn = void (*)(const float* x, int64_t k, ActQ8x2* out);

struct PanelKernels {
  const char* name;
  QuantizeActQ8x2Fn quantize;                      // bit for bit quantize_act_q8x2_row
  PanelUnpackFn unpack[kDTypeCount];               // null: no panel path for that dtype
  PanelUnpackPackedFn unpack_packed[kDTypeCount];  // null: unpack the tile to GGUF rows first
  PanelKernelFn kernel;                            // 32-value groups
  PanelKernelFn kernel16;                          // 16-value groups (n_groups counts groups of 16)
};

// Values per panel group for `weight` (32 or 16), 0 without a panel path.
int panel_group_values(DType weight);

extern const PanelKernels kPanelScalar;  // qgemm_ref.cpp
namespace avx512 {
extern const PanelKernels kPanelKernels;  // qgemm_avx512.cpp, AVX-512 VNNI only
}

// The AVX-512 VNNI build when this CPU runs it, else null (the row-dot GEMM is used instead).
const PanelKernels* best_panel_kernels();

// x (k, a multiple of 32) -> k / 32 ActQ8x2 blocks, whatever the weight type: the scalar spec
// (qgemm_ref.cpp; the AVX-512 PanelKernels::quantize computes the same bytes and floats).
void quantize_act_q8x2_row(const float* x, int64_t k, ActQ8x2* out);

}  // namespace wick::cpu
