// AVX2/FMA/F16C build of the matmul kernels (matmul_impl.h): 6x16 micro-tiles, 8-wide GEMV.
// Called only after matmul_fast.cpp has checked the CPU.
#include "backends/cpu/matmul_impl.h"

namespace wick::cpu::avx2 {
const MatmulKernels kMatmulKernels = {&gemm, &gemv, &gemm_serial, &gemv_serial, 16};
}  // namespace wick::cpu::avx2
