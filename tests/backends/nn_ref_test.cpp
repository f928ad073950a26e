// softmax, log_softmax, rms_norm, layer_norm and rope through the op API on small inputs whose
// results are worked out by hand (or from the formula in the test), plus their input checks.
#include <gtest/gtest.h>

#include <cmath>

#include "backend/ops.h"

namespace wick {
namespace {

void expect_near_all(const std::vector<float>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

TEST(Nn, SoftmaxIsShiftInvariantAndStable) {
  // Row 2 is row 1 shifted by 1000: a naive exp would overflow.
  const Tensor x = Tensor::from_floats({2, 3}, std::vector<float>{0, 1, 2, 1000, 1001, 1002});
  const double z = 1 + std::exp(1.0) + std::exp(2.0);
  const std::vector<double> p = {1 / z, std::exp(1.0) / z, std::exp(2.0) / z};
  expect_near_all(softmax(x).to_float_vector(), {p[0], p[1], p[2], p[0], p[1], p[2]}, 1e-6);
  expect_near_all(log_softmax(x).to_float_vector(),
                  {std::log(p[0]), std::log(p[1]), std::log(p[2]), std::log(p[0]), std::log(p[1]),
                   std::log(p[2])},
                  1e-5);
  EXPECT_THROW(softmax(Tensor::from_vector<int32_t>({2}, std::vector<int32_t>{1, 2})), Error);
}

TEST(Nn, RmsNormWithWeightAndGemmaOffset) {
  const Tensor x = Tensor::from_floats({1, 2}, std::vector<float>{3, 4});  // rms = sqrt(12.5)
  const Tensor w = Tensor::from_floats({2}, std::vector<float>{2, -1});
  const double r = 1 / std::sqrt(12.5 + 0.5);
  expect_near_all(rms_norm(x, Tensor(), 0.5f).to_float_vector(), {3 * r, 4 * r}, 1e-6);
  expect_near_all(rms_norm(x, w, 0.5f).to_float_vector(), {6 * r, -4 * r}, 1e-6);
  expect_near_all(rms_norm(x, w, 0.5f, 1.0f).to_float_vector(), {9 * r, 0}, 1e-6);
  EXPECT_THROW(rms_norm(x, Tensor::from_floats({3}, std::vector<float>{1, 1, 1}), 0.f), Error);
  EXPECT_THROW(rms_norm(x, to_dtype(w, DType::kF16), 0.f), Error);
}

TEST(Nn, LayerNormWithOptionalAffine) {
  const Tensor x = Tensor::from_floats({3}, std::vector<float>{1, 2, 6});  // mean 3, var 14/3
  const double s = 1 / std::sqrt(14.0 / 3 + 1e-5);
  expect_near_all(layer_norm(x, Tensor(), Tensor(), 1e-5f).to_float_vector(),
                  {-2 * s, -1 * s, 3 * s}, 1e-6);
  const Tensor w = Tensor::from_floats({3}, std::vector<float>{1, 2, 3});
  const Tensor b = Tensor::from_floats({3}, std::vector<float>{0, 1, -1});
  expect_near_all(layer_norm(x, w, b, 1e-5f).to_float_vector(), {-2 * s, -2 * s + 1, 9 * s - 1},
                  1e-6);
}

TEST(Nn, RopeNeoxInterleavedAndPartial) {
  // x: (T=2, H=1, D=4); positions (2); inv_freq (1): R = 2 rotated dims, 2 pass through.
  const Tensor x = Tensor::from_floats({2, 1, 4}, std::vector<float>{1, 2, 3, 4, 1, 2, 3, 4});
  const Tensor pos = Tensor::from_vector<int64_t>({2}, std::vector<int64_t>{0, 3});
  const Tensor inv = Tensor::from_floats({1}, std::vector<float>{0.5f});
  const double c = std::cos(1.5), s = std::sin(1.5);
  // neox with R = 2: pair (0, 1); interleaved with R = 2: pair (0, 1) as well.
  const std::vector<double> want = {1, 2, 3, 4, 1 * c - 2 * s, 2 * c + 1 * s, 3, 4};
  expect_near_all(rope(x, pos, inv, true).to_float_vector(), want, 1e-6);
  expect_near_all(rope(x, pos, inv, false).to_float_vector(), want, 1e-6);
  // Full rotation, R = D = 4: neox pairs (0, 2), (1, 3); interleaved pairs (0, 1), (2, 3).
  const Tensor inv2 = Tensor::from_floats({2}, std::vector<float>{0.5f, 0.25f});
  const double c2 = std::cos(0.75), s2 = std::sin(0.75);
  expect_near_all(rope(x, pos, inv2, true).to_float_vector(),
                  {1, 2, 3, 4, 1 * c - 3 * s, 2 * c2 - 4 * s2, 3 * c + 1 * s, 4 * c2 + 2 * s2},
                  1e-6);
  expect_near_all(rope(x, pos, inv2, false).to_float_vector(),
                  {1, 2, 3, 4, 1 * c - 2 * s, 2 * c + 1 * s, 3 * c2 - 4 * s2, 4 * c2 + 3 * s2},
                  1e-6);
  const Tensor inv3 = Tensor::from_floats({3}, std::vector<float>{1, 1, 1});
  EXPECT_THROW(rope(x, pos, inv3, true), Error);  // 6 rotated dims > D = 4
  EXPECT_THROW(rope(x, Tensor::from_vector<int64_t>({3}, std::vector<int64_t>{0, 1, 2}), inv, true),
               Error);
}

TEST(Nn, RopeBroadcastsPositionsOverBatch) {
  // x: (B=2, T=1, H=1, D=2); positions (T=1) broadcast over B.
  const Tensor x = Tensor::from_floats({2, 1, 1, 2}, std::vector<float>{1, 0, 0, 1});
  const Tensor pos = Tensor::from_vector<int32_t>({1}, std::vector<int32_t>{2});
  const Tensor inv = Tensor::from_floats({1}, std::vector<float>{1.0f});
  expect_near_all(rope(x, pos, inv, true).to_float_vector(),
                  {std::cos(2.0), std::sin(2.0), -std::sin(2.0), std::cos(2.0)}, 1e-6);
}

}  // namespace
}  // namespace wick
