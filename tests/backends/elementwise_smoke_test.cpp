// Spot checks of elementwise ops against values computed by hand (the op-parity harness covers
// dtypes and layouts exhaustively).
#include <gtest/gtest.h>

#include <cmath>

#include "backend/ops.h"

namespace wick {
namespace {

TEST(Elementwise, BroadcastAddAndScalar) {
  Tensor a = Tensor::from_floats({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from_floats({3}, std::vector<float>{10, 20, 30});
  EXPECT_EQ(add(a, b).to_float_vector(), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ(mul(a.t(), 2.0).to_float_vector(), (std::vector<float>{2, 8, 4, 10, 6, 12}));
  EXPECT_EQ(maximum(a, 3.5).to_float_vector(), (std::vector<float>{3.5, 3.5, 3.5, 4, 5, 6}));
  EXPECT_THROW(add(a, Tensor::from_floats({2}, std::vector<float>{1, 2})), Error);
  EXPECT_THROW(add(a, to_dtype(a, DType::kF16)), Error);
}

TEST(Elementwise, UnaryAndCasts) {
  Tensor x = Tensor::from_floats({3}, std::vector<float>{-1.0f, 0.0f, 2.0f});
  const std::vector<float> s = silu(x).to_float_vector();
  EXPECT_NEAR(s[0], -1.0 / (1.0 + std::exp(1.0)), 1e-6);
  EXPECT_NEAR(s[2], 2.0 / (1.0 + std::exp(-2.0)), 1e-6);
  EXPECT_EQ(to_dtype(x, DType::kI32).to_vector<int32_t>(), (std::vector<int32_t>{-1, 0, 2}));
  EXPECT_EQ(to_dtype(to_dtype(x, DType::kBF16), DType::kF32).to_float_vector(), x.to_float_vector());
  EXPECT_EQ(full({2}, 7.0, DType::kI64).to_vector<int64_t>(), (std::vector<int64_t>{7, 7}));
  EXPECT_THROW(exp(to_dtype(x, DType::kI32)), Error);
}

}  // namespace
}  // namespace wick
