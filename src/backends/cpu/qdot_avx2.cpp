// AVX2 build of the integer dot products (qdot_impl.h): maddubs + madd on 256-bit vectors.
// Called only after qdot_ref.cpp has checked the CPU (runnable_qdot_builds).
#include "backends/cpu/qdot_impl.h"

namespace wick::cpu::avx2 {
const QDotKernels kQDotKernels = make_qdot_kernels("avx2");
}  // namespace wick::cpu::avx2
