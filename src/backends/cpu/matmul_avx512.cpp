// AVX-512 build of the matmul kernels (matmul_impl.h): 12x32 micro-tiles, 16-wide GEMV.
// Called only after matmul_fast.cpp has checked the CPU.
#include "backends/cpu/matmul_impl.h"

namespace wick::cpu::avx512 {
const MatmulKernels kMatmulKernels = {&gemm, &gemv, &gemm_serial, &gemv_serial, 32};
}  // namespace wick::cpu::avx512
