// Picks the SIMD decoder for a dtype after the runtime CPU check of core/cpu_features.h
// (WICK_DISABLE_AVX2=1 in the environment forces the scalar reference).
#include "core/quant/dequant_fast.h"
#include "core/cpu_features.h"

namespace wick::quant {

FastDequantizer fast_dequantizer(DType type) {
  if (cpu_features().has_avx2_set()) return avx2_dequantizer(type);
  return nullptr;
}

}  // namespace wick::quant
