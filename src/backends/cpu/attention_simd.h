// Interface between the fused attention fast kernel (attention_fast.cpp, ISA-neutral: checks,
// work split, threads) and its SIMD builds (attention_avx2.cpp, attention_avx512.cpp, one copy
// of attention_impl.h each).
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace wick::cpu {

struct AttentionArgs {
  const float* q;      // (N, H, D)
  const void* k_pool;  // (S, KVH, D) of pool_dtype
  const void* v_pool;
  const int32_t* table;  // (B, M)
  const int32_t* seqs;   // (B, 3): q_begin, q_len, past
  float* out;            // (N, H, D)
  int64_t H, KVH, D, M, block_size, window;
  float scale, softcap;
  DType pool_dtype;  // f32, f16 or bf16
};

struct AttentionKernels {
  // Queries [i0, i1) of sequence b, for the query heads that share KV head g.
  void (*run)(const AttentionArgs& a, int64_t b, int64_t g, int64_t i0, int64_t i1);
};

namespace avx2 {
extern const AttentionKernels kAttentionKernels;
}
namespace avx512 {
extern const AttentionKernels kAttentionKernels;
}

}  // namespace wick::cpu
