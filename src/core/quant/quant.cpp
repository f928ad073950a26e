// The one dtype switch of the row codecs (dequantize_row / quantize_row), the f32/f16/bf16 rows,
// and the row-length check every codec shares. SIMD decoders plug in through
// fast_dequantizer(), which returns null when the CPU or the dtype has no fast path.
#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "core/quant/dequant_fast.h"
#include "core/quant/quant.h"

namespace wick {

int64_t quant_row_blocks(DType type, int64_t n_values) {
  const DTypeInfo& info = dtype_info(type);
  WICK_CHECK(n_values >= 0, ErrorKind::kInvalidArgument, "{} row: negative length {}", info.name,
             n_values);
  WICK_CHECK(n_values % info.block_size == 0, ErrorKind::kInvalidArgument,
             "{} row: {} values is not a multiple of the block size {}", info.name, n_values,
             info.block_size);
  return n_values / info.block_size;
}

namespace quant {

void dequantize_row_f16(const uint16_t* in, float* out, int64_t n_values) {
  const int64_t n = quant_row_blocks(DType::kF16, n_values);
  for (int64_t i = 0; i < n; ++i) out[i] = f16_to_f32(in[i]);
}

void dequantize_row_bf16(const uint16_t* in, float* out, int64_t n_values) {
  const int64_t n = quant_row_blocks(DType::kBF16, n_values);
  for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(in[i]);
}

void quantize_row_f16(const float* in, uint16_t* out, int64_t n_values) {
  const int64_t n = quant_row_blocks(DType::kF16, n_values);
  for (int64_t i = 0; i < n; ++i) out[i] = f32_to_f16(in[i]);
}

void quantize_row_bf16(const float* in, uint16_t* out, int64_t n_values) {
  const int64_t n = quant_row_blocks(DType::kBF16, n_values);
  for (int64_t i = 0; i < n; ++i) out[i] = f32_to_bf16(in[i]);
}

}  // namespace quant

namespace {

// Casts the untyped row to the codec's block type (deduced from the codec's signature).
template <class Block>
void decode_with(void (*decode)(const Block*, float*, int64_t), const void* blocks, float* out,
                 int64_t n_values) {
  decode(static_cast<const Block*>(blocks), out, n_values);
}

template <class Block>
void encode_with(void (*encode)(const float*, Block*, int64_t), const float* in, void* blocks,
                 int64_t n_values) {
  encode(in, static_cast<Block*>(blocks), n_values);
}

// Calls fn(decode, encode) with the dtype's codec pair: the single place that maps a DType to
// its block codecs.
template <class Fn>
void with_codec(DType type, Fn&& fn) {
  using namespace quant;
  switch (type) {
    case DType::kF16:
      return fn(dequantize_row_f16, quantize_row_f16);
    case DType::kBF16:
      return fn(dequantize_row_bf16, quantize_row_bf16);
    case DType::kQ4_0:
      return fn(dequantize_row_q4_0, quantize_row_q4_0);
    case DType::kQ4_1:
      return fn(dequantize_row_q4_1, quantize_row_q4_1);
    case DType::kQ5_0:
      return fn(dequantize_row_q5_0, quantize_row_q5_0);
    case DType::kQ5_1:
      return fn(dequantize_row_q5_1, quantize_row_q5_1);
    case DType::kQ8_0:
      return fn(dequantize_row_q8_0, quantize_row_q8_0);
    case DType::kQ8_1:
      return fn(dequantize_row_q8_1, quantize_row_q8_1);
    case DType::kQ2_K:
      return fn(dequantize_row_q2_k, quantize_row_q2_k);
    case DType::kQ3_K:
      return fn(dequantize_row_q3_k, quantize_row_q3_k);
    case DType::kQ4_K:
      return fn(dequantize_row_q4_k, quantize_row_q4_k);
    case DType::kQ5_K:
      return fn(dequantize_row_q5_k, quantize_row_q5_k);
    case DType::kQ6_K:
      return fn(dequantize_row_q6_k, quantize_row_q6_k);
    case DType::kQ8_K:
      return fn(dequantize_row_q8_k, quantize_row_q8_k);
    case DType::kIQ4_NL:
      return fn(dequantize_row_iq4_nl, quantize_row_iq4_nl);
    case DType::kIQ4_XS:
      return fn(dequantize_row_iq4_xs, quantize_row_iq4_xs);
    case DType::kF32:
    case DType::kI32:
    case DType::kI64:
    case DType::kU8:
    case DType::kBool:
    case DType::kCount:
      break;
  }
  fail(ErrorKind::kUnsupported, "no row codec for dtype {}", dtype_name(type));
}

}  // namespace

void dequantize_row_reference(DType type, const void* blocks, float* out, int64_t n_values) {
  if (type == DType::kF32) {
    const int64_t n = quant_row_blocks(type, n_values);
    if (n > 0) std::memcpy(out, blocks, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  with_codec(type,
             [&](auto decode, auto /*encode*/) { decode_with(decode, blocks, out, n_values); });
}

void dequantize_row(DType type, const void* blocks, float* out, int64_t n_values) {
  if (const quant::FastDequantizer fast = quant::fast_dequantizer(type)) {
    fast(blocks, out, quant_row_blocks(type, n_values));
    return;
  }
  dequantize_row_reference(type, blocks, out, n_values);
}

void quantize_row(DType type, const float* in, void* blocks, int64_t n_values) {
  if (type == DType::kF32) {
    const int64_t n = quant_row_blocks(type, n_values);
    if (n > 0) std::memcpy(blocks, in, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  with_codec(type,
             [&](auto /*decode*/, auto encode) { encode_with(encode, in, blocks, n_values); });
}

}  // namespace wick
