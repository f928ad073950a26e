// AVX2 build of the fused attention kernel (attention_impl.h), 8 lanes.
// Called only after attention_fast.cpp has checked the CPU.
#include "backends/cpu/attention_impl.h"

namespace wick::cpu::avx2 {
const AttentionKernels kAttentionKernels = kAttention;
}  // namespace wick::cpu::avx2
