// Element types of tensors. Quantized GGUF block types are storage dtypes: one "element" of
// storage is a block of `block_size` logical values packed into `block_bytes` bytes, so a row of
// n values takes n / block_size * block_bytes bytes. Model code never names a quant format.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace wick {

enum class DType : uint8_t {
  kF32,
  kF16,
  kBF16,
  kI32,
  kI64,
  kU8,
  kBool,
  // GGUF block types (llama.cpp's ggml layout, bit for bit).
  kQ4_0,
  kQ4_1,
  kQ5_0,
  kQ5_1,
  kQ8_0,
  kQ8_1,
  kQ2_K,
  kQ3_K,
  kQ4_K,
  kQ5_K,
  kQ6_K,
  kQ8_K,
  kIQ4_NL,
  kIQ4_XS,
  kCount,
};

inline constexpr int kDTypeCount = static_cast<int>(DType::kCount);

struct DTypeInfo {
  const char* name;     // lower-case name as users type it: "f32", "q4_k"
  int block_size;       // logical values per block (1 for plain types)
  int block_bytes;      // bytes per block (element size for plain types)
  bool is_float;        // f32/f16/bf16
  bool is_quantized;    // a GGUF block type
  int ggml_type;        // GGML_TYPE_* id used in GGUF files, -1 if none
};

const DTypeInfo& dtype_info(DType dtype);
inline const char* dtype_name(DType dtype) { return dtype_info(dtype).name; }
inline bool dtype_is_quantized(DType dtype) { return dtype_info(dtype).is_quantized; }
inline bool dtype_is_float(DType dtype) { return dtype_info(dtype).is_float; }

// Bytes for n logical values; throws if n is not a multiple of the block size or overflows.
uint64_t dtype_bytes_for(DType dtype, uint64_t n_values);

// Case-insensitive: "f32", "Q4_K", "bf16", "bool"...
std::optional<DType> dtype_from_name(std::string_view name);
std::optional<DType> dtype_from_ggml_type(uint32_t ggml_type);

}  // namespace wick
