// Row codecs between f32 and every storage dtype with a GGUF layout: f16, bf16 and the block
// types of core/quant/blocks.h. The scalar functions here are the reference: dequantization is
// bit-exact with the `gguf` Python package (and ggml), quantization is bit-exact with gguf where
// gguf quantizes (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, F16, BF16) and with ggml's reference quantizers
// (no importance matrix) for every block type. A row must hold a whole number of blocks.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/quant/blocks.h"

namespace wick {

// out[0..n_values) = decode(blocks). Types: f32, f16, bf16 and every quantized dtype.
// Throws ErrorKind::kInvalidArgument if n_values is negative or not a multiple of the block
// size, kUnsupported for integer/bool dtypes. Uses a SIMD path when the CPU has one (AVX2: Q4_0,
// Q8_0, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS); its result has the bits of dequantize_row_reference
// (a NaN scale gives NaN either way, possibly with another payload).
void dequantize_row(DType type, const void* blocks, float* out, int64_t n_values);

// The scalar reference decoder, for tests and for forcing reference kernels.
void dequantize_row_reference(DType type, const void* blocks, float* out, int64_t n_values);

// blocks = encode(in[0..n_values)); writes dtype_bytes_for(type, n_values) bytes.
void quantize_row(DType type, const float* in, void* blocks, int64_t n_values);

// Number of blocks in a row of n_values; throws kInvalidArgument unless n_values >= 0 and is a
// multiple of the block size of `type`.
int64_t quant_row_blocks(DType type, int64_t n_values);

namespace quant {

// Per-type codecs. n_values must be a multiple of the block size (checked, throws).
void dequantize_row_f16(const uint16_t* in, float* out, int64_t n_values);
void dequantize_row_bf16(const uint16_t* in, float* out, int64_t n_values);
void dequantize_row_q4_0(const BlockQ4_0* blocks, float* out, int64_t n_values);
void dequantize_row_q4_1(const BlockQ4_1* blocks, float* out, int64_t n_values);
void dequantize_row_q5_0(const BlockQ5_0* blocks, float* out, int64_t n_values);
void dequantize_row_q5_1(const BlockQ5_1* blocks, float* out, int64_t n_values);
void dequantize_row_q8_0(const BlockQ8_0* blocks, float* out, int64_t n_values);
void dequantize_row_q8_1(const BlockQ8_1* blocks, float* out, int64_t n_values);
void dequantize_row_q2_k(const BlockQ2_K* blocks, float* out, int64_t n_values);
void dequantize_row_q3_k(const BlockQ3_K* blocks, float* out, int64_t n_values);
void dequantize_row_q4_k(const BlockQ4_K* blocks, float* out, int64_t n_values);
void dequantize_row_q5_k(const BlockQ5_K* blocks, float* out, int64_t n_values);
void dequantize_row_q6_k(const BlockQ6_K* blocks, float* out, int64_t n_values);
void dequantize_row_q8_k(const BlockQ8_K* blocks, float* out, int64_t n_values);
void dequantize_row_iq4_nl(const BlockIQ4_NL* blocks, float* out, int64_t n_values);
void dequantize_row_iq4_xs(const BlockIQ4_XS* blocks, float* out, int64_t n_values);

void quantize_row_f16(const float* in, uint16_t* out, int64_t n_values);
void quantize_row_bf16(const float* in, uint16_t* out, int64_t n_values);
void quantize_row_q4_0(const float* in, BlockQ4_0* blocks, int64_t n_values);
void quantize_row_q4_1(const float* in, BlockQ4_1* blocks, int64_t n_values);
void quantize_row_q5_0(const float* in, BlockQ5_0* blocks, int64_t n_values);
void quantize_row_q5_1(const float* in, BlockQ5_1* blocks, int64_t n_values);
void quantize_row_q8_0(const float* in, BlockQ8_0* blocks, int64_t n_values);
void quantize_row_q8_1(const float* in, BlockQ8_1* blocks, int64_t n_values);
void quantize_row_q2_k(const float* in, BlockQ2_K* blocks, int64_t n_values);
void quantize_row_q3_k(const float* in, BlockQ3_K* blocks, int64_t n_values);
void quantize_row_q4_k(const float* in, BlockQ4_K* blocks, int64_t n_values);
void quantize_row_q5_k(const float* in, BlockQ5_K* blocks, int64_t n_values);
void quantize_row_q6_k(const float* in, BlockQ6_K* blocks, int64_t n_values);
void quantize_row_q8_k(const float* in, BlockQ8_K* blocks, int64_t n_values);
void quantize_row_iq4_nl(const float* in, BlockIQ4_NL* blocks, int64_t n_values);
void quantize_row_iq4_xs(const float* in, BlockIQ4_XS* blocks, int64_t n_values);

}  // namespace quant
}  // namespace wick
