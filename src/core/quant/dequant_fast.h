// Runtime-selected SIMD decoders for the hottest block types. Each one must produce exactly the
// bits of the scalar reference in quant.h (tested block by block); dequantize_row() picks one
// through fast_dequantizer() after checking the CPU, so ISA code never runs on a CPU without it.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace wick::quant {

// Decodes n_blocks whole blocks (the caller has validated the row length).
using FastDequantizer = void (*)(const void* blocks, float* out, int64_t n_blocks);

// The fastest decoder this CPU runs for `type`, or null when only the reference exists.
FastDequantizer fast_dequantizer(DType type);

// The AVX2 decoders (dequant_avx2.cpp: Q4_0, Q8_0, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS; else null).
// Built with the AVX2 set (AVX2, FMA, F16C): only call what it returns when
// cpu_features().has_avx2_set().
FastDequantizer avx2_dequantizer(DType type);

}  // namespace wick::quant
