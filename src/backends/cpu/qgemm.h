// Prefill GEMM for quantized weights whose groups are 32 values (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// IQ4_NL, Q4_K, Q5_K, IQ4_XS): a tile of kPanelRows weight rows is unpacked once into unsigned
// byte codes with one f32 scale and min per 32-value group (w = scale * code + min), the codes
// interleaved so one vpdpbusd multiplies 16 weight rows by 4 broadcast activation bytes. Every
// activation row (ActQ8, one block per group) then runs against the tile in registers.
// qgemm_ref.cpp: scalar unpack + kernel (the spec); qgemm_avx512.cpp: AVX-512 VNNI.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/cpu/qdot.h"
#include "core/dtype.h"

namespace wick::cpu {

inline constexpr int kPanelRows = 16;
inline constexpr int kPanelMaxAct = 8;  // activation rows per kernel call

// One tile over n_groups groups of 32: codes[(g * 8 + q) * 64 + row * 4 + i] is code 4q + i of
// group g for weight row `row`; scale/min[g * kPanelRows + row]. Rows past the tile are zero.
struct Panel {
  uint8_t* codes;
  float* scale;
  float* min;
};

// Unpacks weight rows [0, rows) (rows <= kPanelRows, row_bytes apart) of n_groups groups each.
using PanelUnpackFn = void (*)(const uint8_t* w, uint64_t row_bytes, int rows, int64_t n_groups,
                               const Panel& panel);
// out[r * ldc + j] = sum_g sum_l (scale * code + min)[j, 32 g + l] * act_r[g] value l, for
// r < n_act (<= kPanelMaxAct), j < n_cols (<= kPanelRows); act row r at act + r * act_stride bytes.
using PanelKernelFn = void (*)(const Panel& panel, int64_t n_groups, const void* act,
                               size_t act_stride, int n_act, float* out, int64_t ldc, int n_cols);

struct PanelKernels {
  const char* name;
  PanelUnpackFn unpack[kDTypeCount];  // null: no panel path for that dtype
  PanelKernelFn kernel;
};

extern const PanelKernels kPanelScalar;  // qgemm_ref.cpp
namespace avx512 {
extern const PanelKernels kPanelKernels;  // qgemm_avx512.cpp, AVX-512 VNNI only
}

// The AVX-512 VNNI build when this CPU runs it, else null (the row-dot GEMM is used instead).
const PanelKernels* best_panel_kernels();

// x (k, a multiple of 32) -> k / 32 ActQ8 blocks, whatever the weight type.
void quantize_act_q8_row(const float* x, int64_t k, ActQ8* out);

}  // namespace wick::cpu
