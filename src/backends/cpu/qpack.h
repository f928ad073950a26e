// Packed ("prepared") quantized linear weights: GGUF rows regrouped so that one AVX-512 VNNI loop
// computes 16 output rows at once. Made once at load (backend/ops.h prepare_linear_weight), read
// only by linear; the GGUF layout stays the reference (qpack.cpp unpacks exactly).
//
// Layout (kPackedTiles16): rows are taken in tiles of 16. Tile t keeps the byte range of GGUF rows
// [16 t, 16 t + 16) (same size, so a narrow at a multiple of 16 rows stays a valid packed view);
// inside it, block b of all 16 rows lies at b * 16 * block_bytes:
//   Q4_0:  d[16] (f16)                 | qs dwords [4][16]
//   Q4_1:  d[16], m[16] (f16)          | qs dwords [4][16]
//   Q8_0:  d[16] (f16)                 | (qs ^ 0x80) dwords [8][16]  (codes + 128, unsigned)
//   Q4_K:  d[16], dmin[16] (f16), scales bytes [12][16] | qs dwords [32][16]
//   Q6_K:  d[16], scales bytes [16][16] (int8) | ql dwords [32][16], qh dwords [16][16]
// "qs dwords [n][16]": dword i of the block's code bytes for each of the 16 rows, i.e. one 64-byte
// vector per i holding 4 code bytes of every row, the operand of vpdpbusd against 4 broadcast
// activation bytes. Nibbles stay packed (low = first value, high = value + 16 / + 32 as in GGUF);
// the kernels split them with one AND each (the high half taken as 16 x code, scaled back later).
// The rows of a last partial tile (N % 16) stay in the GGUF layout.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "core/tensor.h"

namespace wick::cpu {

inline constexpr int kPackRows = 16;
inline constexpr int kPackedTiles16 = 1;  // Storage::packed_layout() of this layout

// Whether `dtype` has a packed layout (independent of the CPU).
bool qpack_has_layout(DType dtype);
// Whether prepare_linear_weight packs `dtype` on this CPU (layout + AVX-512 VNNI kernels).
bool qpack_enabled(DType dtype);

// 16 GGUF rows (row_bytes apart, n_blocks blocks each) -> one packed tile, and back.
void qpack_tile(DType dtype, const uint8_t* rows, uint64_t row_bytes, int64_t n_blocks,
                uint8_t* tile);
void qunpack_tile(DType dtype, const uint8_t* tile, int64_t n_blocks, uint8_t* rows,
                  uint64_t row_bytes);

// A packed view as the kernels see it: rows [row0, row0 + n) of a packed storage of total_rows
// rows.
struct PackedView {
  const uint8_t* base;  // storage start
  int64_t row0;         // first row of the view
  int64_t total_rows;   // rows in the storage (full tiles: total_rows / 16)
  uint64_t row_bytes;
  bool tile_aligned() const { return row0 % kPackRows == 0; }
  // Whether local tile i (rows row0 + 16 i ...) is packed (a full storage tile).
  bool tile_packed(int64_t i) const { return row0 + kPackRows * (i + 1) <= total_rows; }
  const uint8_t* tile(int64_t i) const {
    return base + static_cast<uint64_t>(row0 + kPackRows * i) * row_bytes;
  }
};
PackedView packed_view(const Tensor& w);

// Tensor-level packing (registered as the CPU's WeightPacker).
Tensor qpack_weight(const Tensor& w);
Tensor qunpack_weight(const Tensor& w);

struct ActQ8;
// One packed tile (16 rows, n_blocks blocks) against n_act (1..4) activation rows in the decode
// format of qdot.h (ActQ8 for 32-wide types, Q8_K for Q4_K), act_stride bytes apart; asum[r *
// n_blocks + b]: integer sum of activation block b of row r (32-wide types). Writes
// out[r * ldc + j] for j < n_cols.
using PackedGemvFn = void (*)(const uint8_t* tile, int64_t n_blocks, const void* act,
                              size_t act_stride, const int32_t* asum, int n_act, float* out,
                              int64_t ldc, int n_cols);
struct GemmArgs;     // matmul_simd.h
struct QDotKernels;  // qdot.h
// linear_qdot (qdot.h) over a packed weight view (tile_aligned(), qpack_enabled(weight)): decode
// (M < 16) through the packed tile kernels in groups of 4 activation rows, prefill through the
// panels of qgemm.h (each packed tile unpacked to GGUF rows first); the rows of a last partial
// tile through `kernels`' row dots. matmul_quant.cpp.
void linear_packed(const GemmArgs& g, DType weight, const PackedView& w,
                   const QDotKernels& kernels);

namespace avx512 {
PackedGemvFn packed_gemv(DType dtype);  // qpack_avx512.cpp; null without a packed layout
}

}  // namespace wick::cpu
