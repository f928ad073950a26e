// Quantized linear through integer dot products: activations quantized once per call (rows in
// parallel), then a GEMV for decode-sized M (qdot.h: each weight row read once, all activation
// rows against it), prefill panels for M >= kPanelMinRows (qgemm.h), or else tiles of kTileCols
// weight rows (kept in L1/L2) x kQDotMaxRows activation rows of the row dots.
// Threads take contiguous runs of kTileCols output columns: no two threads write one cache line.
#include <algorithm>
#include <vector>

#include "backends/cpu/matmul_simd.h"
#include "backends/cpu/qdot.h"
#include "backends/cpu/qgemm.h"
#include "backends/cpu/qpack.h"
#include "core/half.h"
#include "core/quant/blocks.h"
#include "core/thread_pool.h"

namespace wick::cpu {
namespace {

constexpr int64_t kTileCols = 16;  // 16 f32 outputs = one 64-byte line per output row
static_assert(kTileCols == kPanelRows);
// From this many rows on, unpacking a panel per 16 weight rows pays for itself.
constexpr int64_t kPanelMinRows = 16;

// Row i of a (K values, any float dtype and column stride) as f32.
void load_row_f32(const MatView& a, int64_t i, int64_t k, float* dst) {
  const int64_t base = i * a.rs;
  switch (a.dtype) {
    case DType::kF16:
      for (int64_t p = 0; p < k; ++p)
        dst[p] = f16_to_f32(static_cast<const uint16_t*>(a.data)[base + p * a.cs]);
      return;
    case DType::kBF16:
      for (int64_t p = 0; p < k; ++p)
        dst[p] = bf16_to_f32(static_cast<const uint16_t*>(a.data)[base + p * a.cs]);
      return;
    default:
      for (int64_t p = 0; p < k; ++p) dst[p] = static_cast<const float*>(a.data)[base + p * a.cs];
      return;
  }
}

template <class Quantize>
void quantize_activations(const GemmArgs& g, size_t act_bytes, uint8_t* act, Quantize quantize) {
  const bool direct = g.a.dtype == DType::kF32 && g.a.cs == 1;
  parallel_for(g.m, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, g.k)),
               [&](int64_t begin, int64_t end) {
                 std::vector<float> row(direct ? 0 : static_cast<size_t>(g.k));
                 for (int64_t i = begin; i < end; ++i) {
                   const float* x = static_cast<const float*>(g.a.data) + i * g.a.rs;
                   if (!direct) {
                     load_row_f32(g.a, i, g.k, row.data());
                     x = row.data();
                   }
                   quantize(x, g.k, act + static_cast<size_t>(i) * act_bytes);
                 }
               });
}

void add_bias(const GemmArgs& g, int64_t j_begin, int64_t j_end) {
  if (g.bias == nullptr) return;
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = j_begin; j < j_end; ++j) g.c[i * g.ldc + j] += g.bias[j];
}

// Prefill through panels (qgemm.h): ActQ8x2 activations for every weight type; each thread unpacks
// its tiles of kPanelRows weight rows once and runs all activation rows against them.
// `packed`: w is a packed view (qpack.h); each packed tile is unpacked to GGUF rows first.
void linear_panel(const GemmArgs& g, DType weight, const uint8_t* w, const PanelKernels& pk,
                  const PackedView* packed = nullptr) {
  const int group_values = panel_group_values(weight);
  const int64_t n_groups = g.k / group_values;
  const PanelKernelFn kernel = group_values == 16 ? pk.kernel16 : pk.kernel;
  const size_t act_bytes = static_cast<size_t>(g.k / 32) * sizeof(ActQ8x2);
  const uint64_t row_bytes = dtype_bytes_for(weight, static_cast<uint64_t>(g.k));
  thread_local std::vector<uint8_t> act_buf;
  act_buf.resize(act_bytes * static_cast<size_t>(g.m));
  WICK_CHECK(g.k % 32 == 0, ErrorKind::kInvalidArgument,
             "activation row of {} values is not a whole number of 32-value blocks", g.k);
  const QuantizeActQ8x2Fn quantize = pk.quantize;
  quantize_activations(g, act_bytes, act_buf.data(),
                       [quantize](const float* x, int64_t k, void* out) {
                         quantize(x, k, static_cast<ActQ8x2*>(out));
                       });
  const uint8_t* act = act_buf.data();
  const int64_t tiles = (g.n + kPanelRows - 1) / kPanelRows;
  parallel_for(tiles, 1, [&](int64_t t_begin, int64_t t_end) {
    thread_local std::vector<uint8_t> codes;
    thread_local std::vector<float> scale_min;
    thread_local std::vector<int32_t> wsum;
    thread_local std::vector<uint8_t> plain;
    if (packed != nullptr) plain.resize(static_cast<size_t>(row_bytes) * kPanelRows);
    codes.resize(static_cast<size_t>(g.k) * kPanelRows);
    scale_min.resize(static_cast<size_t>(n_groups) * 2 * kPanelRows);
    wsum.resize(static_cast<size_t>(n_groups) * kPanelRows);
    const Panel panel{codes.data(), scale_min.data(), scale_min.data() + n_groups * kPanelRows,
                      wsum.data()};
    for (int64_t t = t_begin; t < t_end; ++t) {
      const int64_t j0 = t * kPanelRows;
      const int rows = static_cast<int>(std::min<int64_t>(kPanelRows, g.n - j0));
      const uint8_t* src = w + static_cast<uint64_t>(j0) * row_bytes;
      if (packed != nullptr) {
        src = packed->tile(t);
        const PanelUnpackPackedFn direct = pk.unpack_packed[static_cast<int>(weight)];
        if (packed->tile_packed(t) && direct != nullptr) {
          direct(src, n_groups, panel);
          src = nullptr;
        } else if (packed->tile_packed(t)) {
          qunpack_tile(weight, src, g.k / dtype_info(weight).block_size, plain.data(), row_bytes);
          src = plain.data();
        }
      }
      if (src != nullptr)
        pk.unpack[static_cast<int>(weight)](src, row_bytes, rows, n_groups, panel);
      for (int64_t i = 0; i < g.m; i += kPanelMaxAct)
        kernel(panel, n_groups, act + static_cast<size_t>(i) * act_bytes, act_bytes,
               static_cast<int>(std::min<int64_t>(kPanelMaxAct, g.m - i)), g.c + i * g.ldc + j0,
               g.ldc, rows);
    }
    add_bias(g, t_begin * kPanelRows, std::min(g.n, t_end * kPanelRows));
  });
}

}  // namespace

bool linear_qdot_applies(DType weight, int64_t m) {
  if (!qdot_supported(weight)) return false;
  if (m < kPanelMinRows) return true;
  const PanelKernels* panels = best_panel_kernels();
  return panels != nullptr && panels->unpack[static_cast<int>(weight)] != nullptr;
}

void linear_qdot(const GemmArgs& g, DType weight, const void* w_data, const QDotKernels& kernels) {
  const PanelKernels* panels = best_panel_kernels();
  if (g.m >= kPanelMinRows && panels != nullptr && panels->unpack[static_cast<int>(weight)]) {
    linear_panel(g, weight, static_cast<const uint8_t*>(w_data), *panels);
    return;
  }
  const QDotFn dot = kernels.dot[static_cast<int>(weight)];
  const size_t act_bytes = qdot_act_row_bytes(weight, g.k);
  const uint64_t row_bytes = dtype_bytes_for(weight, static_cast<uint64_t>(g.k));
  const int64_t n_blocks = g.k / dtype_info(weight).block_size;
  const auto* w = static_cast<const uint8_t*>(w_data);
  thread_local std::vector<uint8_t> act_buf;
  act_buf.resize(act_bytes * static_cast<size_t>(g.m));
  uint8_t* act = act_buf.data();
  quantize_activations(g, act_bytes, act, [weight](const float* x, int64_t k, void* out) {
    quantize_activation_row(weight, x, k, out);
  });

  const int64_t tiles = (g.n + kTileCols - 1) / kTileCols;
  parallel_for(tiles, 1, [&](int64_t t_begin, int64_t t_end) {
    const int64_t j_end = std::min(g.n, t_end * kTileCols);
    if (g.m <= kQDotMaxRows) {  // GEMV: each weight row once, against every activation row
      for (int64_t j = t_begin * kTileCols; j < j_end; ++j)
        dot(w + static_cast<uint64_t>(j) * row_bytes, act, act_bytes, static_cast<int>(g.m),
            n_blocks, g.c + j, g.ldc);
    } else {
      for (int64_t j0 = t_begin * kTileCols; j0 < j_end; j0 += kTileCols) {
        const int64_t j1 = std::min(j_end, j0 + kTileCols);
        for (int64_t i = 0; i < g.m; i += kQDotMaxRows) {
          const int rows = static_cast<int>(std::min<int64_t>(kQDotMaxRows, g.m - i));
          for (int64_t j = j0; j < j1; ++j)
            dot(w + static_cast<uint64_t>(j) * row_bytes, act + static_cast<size_t>(i) * act_bytes,
                act_bytes, rows, n_blocks, g.c + i * g.ldc + j, g.ldc);
        }
      }
    }
    add_bias(g, t_begin * kTileCols, j_end);
  });
}

void linear_packed(const GemmArgs& g, DType weight, const PackedView& w,
                   const QDotKernels& kernels) {
  const PanelKernels* panels = best_panel_kernels();
  if (g.m >= kPanelMinRows && panels != nullptr && panels->unpack[static_cast<int>(weight)]) {
    linear_panel(g, weight, nullptr, *panels, &w);
    return;
  }
  const PackedGemvFn gemv = avx512::packed_gemv(weight);
  const QDotFn dot = kernels.dot[static_cast<int>(weight)];
  WICK_CHECK(gemv != nullptr && dot != nullptr, ErrorKind::kInternal,
             "linear: no packed kernel for {}", dtype_name(weight));
  const size_t act_bytes = qdot_act_row_bytes(weight, g.k);
  const int64_t n_blocks = g.k / dtype_info(weight).block_size;
  thread_local std::vector<uint8_t> act_buf;
  thread_local std::vector<int32_t> asum;
  act_buf.resize(act_bytes * static_cast<size_t>(g.m));
  uint8_t* act = act_buf.data();
  quantize_activations(g, act_bytes, act, [weight](const float* x, int64_t k, void* out) {
    quantize_activation_row(weight, x, k, out);
  });
  const bool with_sums = qdot_act_block_values(weight) == quant::kQK;
  if (with_sums) {  // integer block sums for the offsets
    asum.resize(static_cast<size_t>(g.m * n_blocks));
    for (int64_t i = 0; i < g.m; ++i) {
      const auto* blocks = reinterpret_cast<const ActQ8*>(act + static_cast<size_t>(i) * act_bytes);
      for (int64_t b = 0; b < n_blocks; ++b) {
        int32_t s = 0;
        for (int l = 0; l < quant::kQK; ++l) s += blocks[b].qs[l];
        asum[static_cast<size_t>(i * n_blocks + b)] = s;
      }
    }
  }
  const int32_t* sums = asum.data();
  const int64_t tiles = (g.n + kPackRows - 1) / kPackRows;
  parallel_for(tiles, 1, [&](int64_t t_begin, int64_t t_end) {
    for (int64_t t = t_begin; t < t_end; ++t) {
      const int64_t j0 = t * kPackRows;
      const int cols = static_cast<int>(std::min<int64_t>(kPackRows, g.n - j0));
      for (int64_t i = 0; i < g.m; i += kQDotMaxRows) {
        const int rows = static_cast<int>(std::min<int64_t>(kQDotMaxRows, g.m - i));
        const uint8_t* a = act + static_cast<size_t>(i) * act_bytes;
        if (w.tile_packed(t)) {
          gemv(w.tile(t), n_blocks, a, act_bytes, with_sums ? sums + i * n_blocks : nullptr, rows,
               g.c + i * g.ldc + j0, g.ldc, cols);
        } else {  // rows of the last partial tile, GGUF layout
          for (int j = 0; j < cols; ++j)
            dot(w.tile(t) + static_cast<uint64_t>(j) * w.row_bytes, a, act_bytes, rows, n_blocks,
                g.c + i * g.ldc + j0 + j, g.ldc);
        }
      }
    }
    add_bias(g, t_begin * kPackRows, std::min(g.n, t_end * kPackRows));
  });
}

}  // namespace wick::cpu
