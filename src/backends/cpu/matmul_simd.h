// Interface between the matmul/linear fast kernels (matmul_fast.cpp, ISA-neutral) and their SIMD
// implementations (matmul_avx2.cpp, matmul_avx512.cpp, one copy of matmul_impl.h each).
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace wick::cpu {

// A 2-D operand: element (r, c) lives at data + r * rs + c * cs (in elements); dtype f32/f16/bf16.
struct MatView {
  const void* data = nullptr;
  DType dtype = DType::kF32;
  int64_t rs = 0;
  int64_t cs = 0;
};

// c (M, N) f32 with row stride ldc = a (M, K) @ b (K, N) + bias (N, optional, f32).
struct GemmArgs {
  int64_t m = 0, n = 0, k = 0;
  MatView a;
  MatView b;
  float* c = nullptr;
  int64_t ldc = 0;
  const float* bias = nullptr;
};

struct MatmulKernels {
  // Packed, cache-blocked GEMM; any strides and float dtypes; threads over N.
  void (*gemm)(const GemmArgs& args);
  // Streaming row dots for small M: needs a.dtype f32 with a.cs == 1 and b.rs == 1 (each column
  // of b, i.e. each row of a linear weight (N, K), contiguous); threads over N.
  void (*gemv)(const GemmArgs& args);
  // The same two on the calling thread only, for callers that split the work themselves.
  void (*gemm_serial)(const GemmArgs& args);
  void (*gemv_serial)(const GemmArgs& args);
  // Up to this many rows of a, GEMV beats GEMM (it reads the weights once, GEMM also packs them).
  int64_t gemv_max_rows;
};

namespace avx2 {
extern const MatmulKernels kMatmulKernels;
}
namespace avx512 {
extern const MatmulKernels kMatmulKernels;
}

}  // namespace wick::cpu
