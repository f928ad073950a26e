// Picks the SIMD decoder for a dtype after a runtime CPU check (see dequant_fast.h).
#include "core/quant/dequant_fast.h"

namespace wick::quant {

FastDequantizer fast_dequantizer(DType type) {
#if defined(__x86_64__)
  static const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
  if (has_avx2) return avx2_dequantizer(type);
#endif
  return nullptr;
}

}  // namespace wick::quant
