// Integer dot products between GGUF block-quantized weight rows and activations quantized on the
// fly to 8 bits: the 32-wide types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) against ActQ8 blocks,
// the 256-wide ones (Q2_K..Q6_K, IQ4_XS) against Q8_K blocks. qdot_ref.cpp holds the scalar
// integer reference of the same math; qdot_impl.h the AVX2 (maddubs/madd) and AVX-512 VNNI
// (vpdpbusd) builds. matmul_quant.cpp runs them as the GEMV of decode (and the GEMM of prefill
// where qgemm.h's panels do not apply).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "core/quant/blocks.h"

namespace wick::cpu {

// Activation block for the 32-wide weight types: x ~= d * q, s = d * sum(q). An f32 scale (not
// Q8_0's f16) since the block never leaves memory: it only costs 2 bytes per 32 values.
struct ActQ8 {
  float d;
  float s;
  int8_t qs[quant::kQK];
};
static_assert(sizeof(ActQ8) == 40);

// True when linear with this weight dtype has an integer-dot path.
bool qdot_supported(DType weight);
// Values per activation block (32 or 256) and bytes of one quantized activation row of k values.
int qdot_act_block_values(DType weight);
size_t qdot_act_row_bytes(DType weight, int64_t k);
// x (k) -> the activation blocks that weight type `weight` multiplies with (k a multiple of the
// weight's block size). Deterministic plain C++, shared by every kernel build.
void quantize_activation_row(DType weight, const float* x, int64_t k, void* out);

// out[r * out_stride] = dot(weight row, activation row r) for r < n_act (<= kQDotMaxRows);
// activation row r starts at act + r * act_stride bytes; n_blocks weight blocks per row.
using QDotFn = void (*)(const void* w_row, const void* act, size_t act_stride, int n_act,
                        int64_t n_blocks, float* out, int64_t out_stride);
inline constexpr int kQDotMaxRows = 4;

struct QDotKernels {
  const char* name;
  QDotFn dot[kDTypeCount];  // null for dtypes without an integer path
};

extern const QDotKernels kQDotScalar;  // qdot_ref.cpp
namespace avx2 {
extern const QDotKernels kQDotKernels;
}
namespace avx512 {
extern const QDotKernels kQDotKernels;  // 256-bit vectors with AVX512_VNNI + VL (vpdpbusd)
}

// The fastest build this CPU runs (AVX-512 VNNI, AVX2, else the scalar reference);
// WICK_REFERENCE_KERNELS does not change it (the linear reference kernel is float).
const QDotKernels& best_qdot_kernels();
// Every build this CPU runs (scalar first, best last), for tests and benchmarks.
int runnable_qdot_builds(const QDotKernels** out, int capacity);

struct GemmArgs;  // matmul_simd.h
// g.c (M, N) = g.a (M, K) @ w (N, K)^T + g.bias, w `weight`-typed rows at w_data (qdot_supported),
// g.a any float dtype with any strides. M <= 4: GEMV over these dot products (each weight row
// streamed once); M >= 16 with a panel build (qgemm.h, AVX-512 VNNI): prefill panels; otherwise
// tiles of 16 weight rows x 4 activation rows. Threads split N in runs of 16 outputs (whole
// 64-byte lines of each output row). matmul_quant.cpp.
void linear_qdot(const GemmArgs& g, DType weight, const void* w_data, const QDotKernels& kernels);
// Whether linear_qdot takes an M-row product with this weight type: decode-sized M always;
// prefill-sized M (>= 16) only through the panels (two-pass activations), so that without a panel
// build (no AVX-512 VNNI, or Q2_K) prefill keeps the float path's accuracy instead of one Q8 pass.
bool linear_qdot_applies(DType weight, int64_t m);

}  // namespace wick::cpu
