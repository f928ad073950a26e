// Casts between float dtypes and every GGUF block dtype through to_dtype(): bit-exact with the
// core/quant row codecs (dequantize_row_reference / quantize_row), row by row, and rejecting
// shapes whose rows are not whole blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "backend/ops.h"
#include "core/quant/quant.h"

namespace wick {
namespace {

std::vector<DType> block_dtypes() {
  std::vector<DType> out;
  for (int i = 0; i < kDTypeCount; ++i)
    if (dtype_is_quantized(static_cast<DType>(i))) out.push_back(static_cast<DType>(i));
  return out;
}

std::vector<float> wave(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = std::sin(0.37f * static_cast<float>(i)) * (1.0f + static_cast<float>(i % 7));
  return v;
}

TEST(QuantCast, RoundTripMatchesCodecsForEveryBlockType) {
  for (DType q : block_dtypes()) {
    SCOPED_TRACE(dtype_name(q));
    const int64_t d = 2 * dtype_info(q).block_size;  // two blocks per row, three rows
    const std::vector<float> values = wave(3 * d);
    const Tensor x = Tensor::from_floats({3, d}, values);
    const Tensor packed = to_dtype(x, q);
    ASSERT_EQ(packed.dtype(), q);
    ASSERT_EQ(packed.shape(), (Shape{3, d}));
    std::vector<uint8_t> want_bytes(dtype_bytes_for(q, static_cast<uint64_t>(3 * d)));
    const size_t row_bytes = want_bytes.size() / 3;
    for (int r = 0; r < 3; ++r)
      quantize_row(q, values.data() + r * d, want_bytes.data() + r * row_bytes, d);
    EXPECT_EQ(std::memcmp(packed.raw_data(), want_bytes.data(), want_bytes.size()), 0);

    std::vector<float> want(values.size());
    dequantize_row_reference(q, want_bytes.data(), want.data(), 3 * d);
    EXPECT_EQ(to_dtype(packed, DType::kF32).to_float_vector(), want);
    const std::vector<float> half = to_dtype(packed, DType::kF16).to_float_vector();
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(half[i], f16_to_f32(f32_to_f16(want[i])));
    const std::vector<float> brain = to_dtype(packed, DType::kBF16).to_float_vector();
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(brain[i], bf16_to_f32(f32_to_bf16(want[i])));
  }
}

TEST(QuantCast, FromHalfAndStridedSources) {
  // A bf16 source quantizes the same as its f32 values; a transposed source the same as its copy.
  const std::vector<float> values = wave(64);
  const Tensor bf = Tensor::from_floats({2, 32}, values, DType::kBF16);
  const Tensor via_f32 = to_dtype(to_dtype(bf, DType::kF32), DType::kQ8_0);
  Tensor direct = Tensor::empty({2, 32}, DType::kQ8_0);
  copy_into(bf, direct);
  EXPECT_EQ(std::memcmp(direct.raw_data(), via_f32.raw_data(), via_f32.nbytes()), 0);
  const Tensor xt = Tensor::from_floats({32, 2}, values).t();  // (2, 32), strided
  Tensor from_view = Tensor::empty({2, 32}, DType::kQ4_0);
  copy_into(xt, from_view);
  const Tensor from_copy = to_dtype(copy(xt), DType::kQ4_0);
  EXPECT_EQ(std::memcmp(from_view.raw_data(), from_copy.raw_data(), from_copy.nbytes()), 0);
}

TEST(QuantCast, RejectsPartialBlocksAndIntegerTargets) {
  const Tensor x = Tensor::from_floats({2, 16}, wave(32));  // 32 values, rows of 16
  EXPECT_THROW(to_dtype(x, DType::kQ4_0), Error);
  const Tensor q = to_dtype(Tensor::from_floats({1, 32}, wave(32)), DType::kQ4_0);
  EXPECT_THROW(to_dtype(q, DType::kI32), Error);
}

}  // namespace
}  // namespace wick
