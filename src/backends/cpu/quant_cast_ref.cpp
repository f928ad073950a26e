// Reference CPU casts between GGUF block dtypes and the float dtypes, row by row through the
// core/quant codecs: quantized -> f32/f16/bf16 dequantizes (registered here as kCast keyed by
// each block dtype), f32/f16/bf16 -> quantized quantizes (reached through layout_ref.cpp's cast,
// which owns the float-keyed slots). Quantized tensors are contiguous rows of whole blocks.
#include <vector>

#include "backend/kernel_table.h"
#include "backends/cpu/dispatch.h"
#include "backends/cpu/quant_cast.h"
#include "core/quant/quant.h"
#include "core/strided_loop.h"

namespace wick::cpu {
namespace {

// Row length of a quantized tensor of this shape, checked to be whole blocks.
int64_t block_row_values(const char* what, DType qtype, const Tensor& t) {
  const int64_t block = dtype_info(qtype).block_size;
  WICK_CHECK(t.rank() >= 1 && t.shape().back() % block == 0, ErrorKind::kInvalidArgument,
             "cast {}: shape {} does not split into rows of whole {} blocks of {}", what,
             t.shape().str(), dtype_name(qtype), block);
  return t.shape().back();
}

// in: (.., D) block dtype, contiguous; out: (.., D) f32/f16/bf16, contiguous.
void cast_quantized_to_float_ref(const OpCall& call) {
  const Tensor& in = call.inputs[0];
  const Tensor& out = call.outputs[0];
  WICK_CHECK(dtype_is_float(out.dtype()), ErrorKind::kUnsupported,
             "cast {} -> {}: quantized tensors dequantize to f32/f16/bf16 only",
             dtype_name(in.dtype()), dtype_name(out.dtype()));
  WICK_CHECK(in.is_contiguous() && out.is_contiguous(), ErrorKind::kUnsupported,
             "cast {} -> {}: needs contiguous tensors (shape {})", dtype_name(in.dtype()),
             dtype_name(out.dtype()), in.shape().str());
  const int64_t d = block_row_values("dequantize", in.dtype(), in);
  if (d == 0) return;
  const int64_t rows = in.numel() / d;
  const uint64_t row_bytes = dtype_bytes_for(in.dtype(), static_cast<uint64_t>(d));
  const auto* src = static_cast<const uint8_t*>(in.raw_data());
  std::vector<float> row(static_cast<size_t>(d));
  dispatch_float(out.dtype(), [&]<class T>() {
    T* dst = static_cast<T*>(out.raw_data());
    for (int64_t r = 0; r < rows; ++r) {
      dequantize_row_reference(in.dtype(), src + static_cast<uint64_t>(r) * row_bytes, row.data(),
                               d);
      for (int64_t i = 0; i < d; ++i) store(dst[r * d + i], row[static_cast<size_t>(i)]);
    }
  });
}

const bool kRegistered = [] {
  for (int i = 0; i < kDTypeCount; ++i) {
    const auto dt = static_cast<DType>(i);
    if (dtype_is_quantized(dt))
      register_reference_kernel(Op::kCast, DeviceType::kCpu, dt, &cast_quantized_to_float_ref);
  }
  return true;
}();

}  // namespace

void cast_float_to_quantized_ref(const OpCall& call) {
  const Tensor& in = call.inputs[0];
  const Tensor& out = call.outputs[0];
  WICK_CHECK(out.is_contiguous(), ErrorKind::kUnsupported,
             "cast {} -> {}: the quantized output (shape {}) must be contiguous",
             dtype_name(in.dtype()), dtype_name(out.dtype()), out.shape().str());
  const int64_t d = block_row_values("quantize", out.dtype(), out);
  if (d == 0 || out.numel() == 0) return;
  const uint64_t row_bytes = dtype_bytes_for(out.dtype(), static_cast<uint64_t>(d));
  auto* dst = static_cast<uint8_t*>(out.raw_data());
  Shape rows = in.shape();  // x: (.., D) -> one iteration per row
  rows[rows.rank() - 1] = 1;
  const int64_t step = in.strides()[in.rank() - 1];
  std::vector<float> row(static_cast<size_t>(d));
  int64_t r = 0;
  dispatch_float(in.dtype(), [&]<class T>() {
    const T* src = typed<T>(in);
    for_each_offsets<1>(rows, {&in.strides()}, {in.offset()}, [&](const auto& off) {
      for (int64_t i = 0; i < d; ++i) row[static_cast<size_t>(i)] = load(src[off[0] + i * step]);
      quantize_row(out.dtype(), row.data(), dst + static_cast<uint64_t>(r++) * row_bytes, d);
    });
  });
}

}  // namespace wick::cpu
