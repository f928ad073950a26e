// AVX-512 build of the fused attention kernel (attention_impl.h), 16 lanes.
// Called only after attention_fast.cpp has checked the CPU.
#include "backends/cpu/attention_impl.h"

namespace wick::cpu::avx512 {
const AttentionKernels kAttentionKernels = kAttention;
}  // namespace wick::cpu::avx512
