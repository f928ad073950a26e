// Reductions and cumsum through the op API: hand-computed values, keepdim/negative-dim shape
// handling, tie and NaN rules, integer dtypes and error messages. The op-parity harness covers
// dtypes and strided layouts against double-precision loops.
#include <gtest/gtest.h>

#include <cmath>

#include "backend/ops.h"

namespace wick {
namespace {

// x: (2, 3) = [[1, 5, 5], [-2, 0, 7]]
Tensor sample() {
  return Tensor::from_floats({2, 3}, std::vector<float>{1, 5, 5, -2, 0, 7});
}

TEST(Reduce, SumMeanMaxMinAlongEachDim) {
  const Tensor x = sample();
  EXPECT_EQ(sum(x, 1).to_float_vector(), (std::vector<float>{11, 5}));
  EXPECT_EQ(sum(x, 0).to_float_vector(), (std::vector<float>{-1, 5, 12}));
  EXPECT_EQ(mean(x, -1).to_float_vector(), (std::vector<float>{11.0f / 3, 5.0f / 3}));
  EXPECT_EQ(max(x, 0).to_float_vector(), (std::vector<float>{1, 5, 7}));
  EXPECT_EQ(min(x, -1).to_float_vector(), (std::vector<float>{1, -2}));
  EXPECT_EQ(sum(x, 1).shape(), (Shape{2}));
  EXPECT_EQ(sum(x, 1, /*keepdim=*/true).shape(), (Shape{2, 1}));
  EXPECT_EQ(max(x.t(), 1).to_float_vector(), (std::vector<float>{1, 5, 7}));  // strided input
}

TEST(Reduce, ArgmaxFirstOfTiesAndNaN) {
  const Tensor x = sample();
  const Tensor a = argmax(x, 1);
  EXPECT_EQ(a.dtype(), DType::kI64);
  EXPECT_EQ(a.to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));  // tie at 1 and 2 -> 1
  EXPECT_EQ(argmax(x, 0, true).shape(), (Shape{1, 3}));
  const Tensor n = Tensor::from_floats({4}, std::vector<float>{1, NAN, 9, NAN});
  EXPECT_EQ(argmax(n, 0).item<int64_t>(), 1);
  EXPECT_TRUE(std::isnan(max(n, 0).item<float>()));
}

TEST(Reduce, IntegerDtypes) {
  const Tensor x = Tensor::from_vector<int32_t>({2, 2}, std::vector<int32_t>{3, -4, 10, 2});
  EXPECT_EQ(sum(x, 0).to_vector<int32_t>(), (std::vector<int32_t>{13, -2}));
  EXPECT_EQ(max(x, 1).to_vector<int32_t>(), (std::vector<int32_t>{3, 10}));
  EXPECT_EQ(argmax(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(cumsum(x, 1).to_vector<int32_t>(), (std::vector<int32_t>{3, -1, 10, 12}));
  EXPECT_THROW(mean(x, 0), Error);
}

TEST(Reduce, CumsumAndEmpty) {
  const Tensor x = sample();
  EXPECT_EQ(cumsum(x, -1).to_float_vector(), (std::vector<float>{1, 6, 11, -2, -2, 5}));
  EXPECT_EQ(cumsum(x, 0).to_float_vector(), (std::vector<float>{1, 5, 5, -1, 5, 12}));
  const Tensor empty = Tensor::empty({2, 0}, DType::kF32);
  EXPECT_EQ(sum(empty, 1).to_float_vector(), (std::vector<float>{0, 0}));
  EXPECT_THROW(max(empty, 1), Error);
}

TEST(Reduce, ErrorsNameTheOp) {
  const Tensor x = sample();
  try {
    sum(x, 2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sum: dim 2 out of range"), std::string::npos) << e.what();
  }
  try {
    argmax(Tensor::empty({3}, DType::kBool), 0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("argmax: unsupported dtype bool"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace wick
