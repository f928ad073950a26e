// AVX2/FMA build of the hot elementwise/norm kernels (hot_ops_impl.h), 8 lanes.
// Called only after hot_ops_fast.cpp has checked the CPU.
#include "backends/cpu/hot_ops_impl.h"

namespace wick::cpu::avx2 {
const HotOpKernels kHotOpKernels = kHotOps;
}  // namespace wick::cpu::avx2
