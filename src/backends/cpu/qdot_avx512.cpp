// AVX-512 VNNI build of the integer dot products (qdot_impl.h): vpdpbusd on 256-bit vectors.
// Called only after qdot_ref.cpp has checked the CPU for AVX-512 (F/BW/DQ/VL) and VNNI.
#include "backends/cpu/qdot_impl.h"

namespace wick::cpu::avx512 {
const QDotKernels kQDotKernels = make_qdot_kernels("avx512-vnni");
}  // namespace wick::cpu::avx512
