// Fast CPU kernels for matmul and linear: picks the AVX-512 or AVX2 build of matmul_impl.h at run
// time (core/cpu_features.h) and maps tensors onto GemmArgs. Quantized linear weights go through
// integer dot products against activations quantized to 8 bits (matmul_quant.cpp, qdot.h); block
// types without one (Q8_1, Q8_K), and prefill without a panel build (linear_qdot_applies), are
// decoded chunk by chunk into f32. GEMV (weights streamed once)
// for up to gemv_max_rows rows with contiguous weight rows, packed GEMM otherwise. Declines
// (reference runs) on CPUs without AVX2/FMA/F16C, for K == 0, and for inputs whose rows do not
// collapse into one strided matrix.
#include <algorithm>
#include <array>
#include <vector>

#include "backend/kernel_table.h"
#include "backends/cpu/matmul_simd.h"
#include "backends/cpu/qdot.h"
#include "backends/cpu/qpack.h"
#include "core/cpu_features.h"
#include "core/half.h"
#include "core/quant/quant.h"
#include "core/strided_loop.h"
#include "core/thread_pool.h"

namespace wick::cpu {
namespace {

const MatmulKernels* simd_kernels() {
  static const MatmulKernels* const kernels = []() -> const MatmulKernels* {
    const CpuFeatures& f = cpu_features();
    if (f.has_avx512_set()) return &avx512::kMatmulKernels;
    if (f.has_avx2_set()) return &avx2::kMatmulKernels;
    return nullptr;
  }();
  return kernels;
}

const char* element_ptr(const Tensor& t, int64_t offset_elems) {
  return static_cast<const char*>(t.storage()->data()) +
         offset_elems * static_cast<int64_t>(dtype_info(t.dtype()).block_bytes);
}

bool gemv_fits(const MatmulKernels& k, const GemmArgs& g) {
  return g.m <= k.gemv_max_rows && g.a.dtype == DType::kF32 && g.a.cs == 1 && g.b.rs == 1;
}

void run_gemm(const MatmulKernels& k, const GemmArgs& g) {
  (gemv_fits(k, g) ? k.gemv : k.gemm)(g);
}

void run_gemm_serial(const MatmulKernels& k, const GemmArgs& g) {
  (gemv_fits(k, g) ? k.gemv_serial : k.gemm_serial)(g);
}

// Below this many multiply-adds per batch entry, threads split the batch (attention heads)
// rather than each product's columns.
constexpr int64_t kSmallProductMacs = int64_t{1} << 21;

Shape leading(const Shape& s, int drop) {
  Shape r = s;
  r.resize(s.rank() - drop);
  return r;
}

// a: (B.., M, K), b: (B.., K, N) broadcast batch dims, any strides; out: (B.., M, N) contiguous.
bool matmul_fast(const OpCall& call) {
  const MatmulKernels* kernels = simd_kernels();
  const Tensor& a = call.inputs[0];
  const Tensor& b = call.inputs[1];
  Tensor& out = call.outputs[0];
  const int r = out.rank();
  const int64_t m = out.shape()[r - 2], n = out.shape()[r - 1], k = a.shape()[r - 1];
  if (kernels == nullptr || k == 0) return false;
  if (out.numel() == 0) return true;
  const Shape batch = leading(out.shape(), 2);
  const Shape sa = leading(a.strides(), 2), sb = leading(b.strides(), 2),
              so = leading(out.strides(), 2);
  std::vector<std::array<int64_t, 3>> offsets;
  for_each_offsets<3>(batch, {&sa, &sb, &so}, {a.offset(), b.offset(), out.offset()},
                      [&](const auto& off) { offsets.push_back(off); });
  const bool f32_out = out.dtype() == DType::kF32;
  // 16-bit outputs: computed into f32 scratch (one (M, N) slice per batch entry), rounded once.
  std::vector<float> tmp(f32_out ? 0 : static_cast<size_t>(out.numel()));
  const auto product = [&](size_t i, bool serial) {
    const std::array<int64_t, 3>& off = offsets[i];
    GemmArgs g;
    g.m = m;
    g.n = n;
    g.k = k;
    g.a = {element_ptr(a, off[0]), a.dtype(), a.strides()[r - 2], a.strides()[r - 1]};
    g.b = {element_ptr(b, off[1]), b.dtype(), b.strides()[r - 2], b.strides()[r - 1]};
    float* scratch = tmp.data() + static_cast<int64_t>(i) * m * n;
    g.c = f32_out ? static_cast<float*>(out.storage()->data()) + off[2] : scratch;
    g.ldc = n;
    (serial ? run_gemm_serial : run_gemm)(*kernels, g);
    if (f32_out) return;
    auto* dst = static_cast<uint16_t*>(out.storage()->data()) + off[2];
    const bool f16 = out.dtype() == DType::kF16;
    for (int64_t j = 0; j < m * n; ++j)
      dst[j] = f16 ? f32_to_f16(scratch[j]) : f32_to_bf16(scratch[j]);
  };
  if (offsets.size() > 1 && m * n * k < kSmallProductMacs) {
    const int64_t grain = std::max<int64_t>(1, kSmallProductMacs / std::max<int64_t>(1, m * n * k));
    parallel_for(static_cast<int64_t>(offsets.size()), grain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) product(static_cast<size_t>(i), true);
    });
  } else {
    for (size_t i = 0; i < offsets.size(); ++i) product(i, false);
  }
  return true;
}

// The leading dims of x as one (rows, K) matrix: true with the row stride when they collapse.
bool collapse_rows(const Tensor& x, int64_t& row_stride) {
  row_stride = 0;
  int64_t inner_extent = 0, inner_stride = 0;
  for (int d = x.rank() - 2; d >= 0; --d) {
    const int64_t extent = x.shape()[d], stride = x.strides()[d];
    if (extent == 1) continue;
    if (inner_extent == 0) {
      row_stride = stride;
    } else if (stride != inner_stride * inner_extent) {
      return false;
    }
    inner_extent = extent;
    inner_stride = stride;
  }
  return true;
}

// Quantized w (N, K): each thread decodes chunks of weight rows to f32 (core/quant's SIMD
// decoders, bit-exact with the reference) and runs the serial GEMV/GEMM on them while they are in
// cache. Integer-domain dot products (activations quantized to Q8) are the planned faster path.
void run_quantized(const MatmulKernels& kernels, const GemmArgs& g, const Tensor& w) {
  const bool use_gemv = g.m <= kernels.gemv_max_rows && g.a.dtype == DType::kF32 && g.a.cs == 1;
  const int64_t chunk = use_gemv ? 16 : 64;
  const auto* base = static_cast<const uint8_t*>(w.raw_data());
  const uint64_t row_bytes = dtype_bytes_for(w.dtype(), static_cast<uint64_t>(g.k));
  parallel_for((g.n + chunk - 1) / chunk, 1, [&](int64_t c_begin, int64_t c_end) {
    thread_local std::vector<float> rows;
    rows.resize(static_cast<size_t>(chunk * g.k));
    for (int64_t c = c_begin; c < c_end; ++c) {
      const int64_t j0 = c * chunk, nr = std::min(chunk, g.n - j0);
      for (int64_t r = 0; r < nr; ++r)
        dequantize_row(w.dtype(), base + static_cast<uint64_t>(j0 + r) * row_bytes,
                       rows.data() + r * g.k, g.k);
      GemmArgs sub = g;
      sub.n = nr;
      sub.b = {rows.data(), DType::kF32, 1, g.k};
      sub.c = g.c + j0;
      sub.bias = g.bias != nullptr ? g.bias + j0 : nullptr;
      (use_gemv ? kernels.gemv_serial : kernels.gemm_serial)(sub);
    }
  });
}

// Values of a float tensor of `n` contiguous-by-stride elements as f32 (f16/bf16 converted).
void to_f32(const void* src, DType dtype, int64_t n, int64_t stride, float* dst) {
  const auto* p16 = static_cast<const uint16_t*>(src);
  const auto* p32 = static_cast<const float*>(src);
  for (int64_t i = 0; i < n; ++i) {
    switch (dtype) {
      case DType::kF16:
        dst[i] = f16_to_f32(p16[i * stride]);
        break;
      case DType::kBF16:
        dst[i] = bf16_to_f32(p16[i * stride]);
        break;
      default:
        dst[i] = p32[i * stride];
        break;
    }
  }
}

// x: (R.., K) float; w: (N, K) f32/f16/bf16; bias: (N) float or undefined; out: (R.., N)
// contiguous, x's dtype. f16/bf16 activations: the GEMM packs them directly, the GEMV takes an
// f32 copy (at most gemv_max_rows rows); a 16-bit output is computed in f32 and rounded once.
bool linear_fast(const OpCall& call) {
  const MatmulKernels* kernels = simd_kernels();
  const Tensor& x = call.inputs[0];
  const Tensor& w = call.inputs[1];
  const bool packed = is_packed(w);
  if (packed && (!packed_view(w).tile_aligned() || !qpack_enabled(w.dtype()))) {
    // A row view not starting at a tile, or a CPU without the packed kernels: plain copy.
    const Tensor inputs[3] = {x, qunpack_weight(w), call.inputs[2]};
    return linear_fast(OpCall{call.op, inputs, call.outputs, call.attrs});
  }
  const Tensor& bias = call.inputs[2];
  Tensor& out = call.outputs[0];
  const int64_t n = w.shape()[0], k = w.shape()[1];
  if (kernels == nullptr || k == 0) return false;
  int64_t row_stride = 0;
  if (!collapse_rows(x, row_stride)) return false;
  if (out.numel() == 0) return true;
  GemmArgs g;
  g.m = out.numel() / n;
  g.n = n;
  g.k = k;
  g.a = {element_ptr(x, x.offset()), x.dtype(), row_stride, x.strides()[x.rank() - 1]};
  const bool quantized = dtype_is_quantized(w.dtype());
  if (!quantized) g.b = {element_ptr(w, w.offset()), w.dtype(), w.strides()[1], w.strides()[0]};
  g.ldc = n;
  std::vector<float> x_f32, out_f32, bias_f32;
  if (x.dtype() != DType::kF32 && g.m <= kernels->gemv_max_rows && (quantized || g.b.rs == 1)) {
    x_f32.resize(static_cast<size_t>(g.m * k));
    for (int64_t i = 0; i < g.m; ++i)
      to_f32(static_cast<const uint16_t*>(g.a.data) + i * row_stride, x.dtype(), k, g.a.cs,
             x_f32.data() + i * k);
    g.a = {x_f32.data(), DType::kF32, k, 1};
  }
  if (out.dtype() == DType::kF32) {
    g.c = static_cast<float*>(out.storage()->data()) + out.offset();
  } else {
    out_f32.resize(static_cast<size_t>(g.m * n));
    g.c = out_f32.data();
  }
  if (bias.defined()) {
    if (bias.dtype() == DType::kF32 && (n == 1 || bias.strides()[0] == 1)) {
      g.bias = static_cast<const float*>(bias.storage()->data()) + bias.offset();
    } else {
      bias_f32.resize(static_cast<size_t>(n));
      to_f32(element_ptr(bias, bias.offset()), bias.dtype(), n, bias.strides()[0], bias_f32.data());
      g.bias = bias_f32.data();
    }
  }
  if (packed) {
    linear_packed(g, w.dtype(), packed_view(w), best_qdot_kernels());
  } else if (quantized && linear_qdot_applies(w.dtype(), g.m)) {
    linear_qdot(g, w.dtype(), w.raw_data(), best_qdot_kernels());
  } else if (quantized) {
    run_quantized(*kernels, g, w);
  } else {
    run_gemm(*kernels, g);
  }
  if (!out_f32.empty()) {
    auto* dst = static_cast<uint16_t*>(out.storage()->data()) + out.offset();
    const bool f16 = out.dtype() == DType::kF16;
    for (size_t i = 0; i < out_f32.size(); ++i)
      dst[i] = f16 ? f32_to_f16(out_f32[i]) : f32_to_bf16(out_f32[i]);
  }
  return true;
}

const bool kRegistered = [] {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    register_fast_kernel(Op::kMatmul, DeviceType::kCpu, dt, &matmul_fast);
    register_fast_kernel(Op::kLinear, DeviceType::kCpu, dt, &linear_fast);
  }
  // Every block type (the op-parity harness has a linear case for each): run_quantized decodes
  // chunks of rows with core/quant's fastest decoder for the type, then runs the float GEMV/GEMM.
  for (int i = 0; i < kDTypeCount; ++i) {
    const auto dt = static_cast<DType>(i);
    if (dtype_is_quantized(dt))
      register_fast_kernel(Op::kLinear, DeviceType::kCpu, dt, &linear_fast);
  }
  return true;
}();

}  // namespace
}  // namespace wick::cpu
