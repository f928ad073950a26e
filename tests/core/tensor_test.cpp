// Tensor views against index arithmetic done by hand: every view must address the same elements
// a NumPy-style definition says it does, without copying.
#include <gtest/gtest.h>

#include <numeric>

#include "core/tensor.h"

namespace wick {
namespace {

Tensor iota(const Shape& shape) {
  std::vector<float> v(static_cast<size_t>(shape.numel()));
  std::iota(v.begin(), v.end(), 0.0f);
  return Tensor::from_floats(shape, v);
}

TEST(Tensor, ContiguousBasics) {
  Tensor t = iota({2, 3, 4});
  EXPECT_EQ(t.numel(), 24);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.strides(), Shape({12, 4, 1}));
  EXPECT_EQ(t.dim(-1), 4);
  EXPECT_EQ(t.nbytes(), 96u);
}

TEST(Tensor, TransposeAndPermuteAddressTheRightElements) {
  Tensor t = iota({2, 3, 4});
  Tensor p = t.permute({2, 0, 1});  // (4, 2, 3)
  EXPECT_FALSE(p.is_contiguous());
  const std::vector<float> got = p.to_float_vector();
  size_t k = 0;
  for (int c = 0; c < 4; ++c)
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 3; ++b) EXPECT_EQ(got[k++], static_cast<float>(a * 12 + b * 4 + c));
  Tensor tt = t.transpose(0, 2);
  EXPECT_EQ(tt.shape(), Shape({4, 3, 2}));
  EXPECT_EQ(tt.to_float_vector()[1], 12.0f);
}

TEST(Tensor, NarrowSelectSqueezeUnsqueeze) {
  Tensor t = iota({3, 4});
  Tensor n = t.narrow(1, 1, 2);
  EXPECT_EQ(n.to_float_vector(), (std::vector<float>{1, 2, 5, 6, 9, 10}));
  Tensor s = t.select(0, 2);
  EXPECT_EQ(s.shape(), Shape({4}));
  EXPECT_EQ(s.to_float_vector(), (std::vector<float>{8, 9, 10, 11}));
  Tensor u = s.unsqueeze(0).unsqueeze(-1);
  EXPECT_EQ(u.shape(), Shape({1, 4, 1}));
  EXPECT_EQ(u.squeeze(0).squeeze(-1).to_float_vector(), s.to_float_vector());
  EXPECT_THROW(t.narrow(0, 2, 2), Error);
  EXPECT_THROW(t.squeeze(0), Error);
}

TEST(Tensor, BroadcastUsesZeroStrides) {
  Tensor row = iota({1, 3});
  Tensor b = row.broadcast_to({2, 2, 3});
  EXPECT_EQ(b.strides()[0], 0);
  EXPECT_EQ(b.to_float_vector(), (std::vector<float>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}));
  EXPECT_THROW(iota({2, 3}).broadcast_to({3, 3}), Error);
  EXPECT_EQ(broadcast_shapes({4, 1, 3}, {2, 1}), Shape({4, 2, 3}));
  EXPECT_THROW(broadcast_shapes({4, 3}, {2}), Error);
}

TEST(Tensor, ReshapeViewsOrRefuses) {
  Tensor t = iota({2, 3, 4});
  Tensor r = t.reshape({6, -1});
  EXPECT_EQ(r.shape(), Shape({6, 4}));
  EXPECT_EQ(r.storage(), t.storage());
  EXPECT_THROW(t.reshape({5, -1}), Error);
  EXPECT_THROW(t.transpose(0, 2).reshape({24}), Error);  // needs a copy
  Tensor v = t.narrow(2, 1, 1).reshape({2, 3});           // only a size-1 dim dropped
  EXPECT_EQ(v.to_float_vector(), (std::vector<float>{1, 5, 9, 13, 17, 21}));
}

TEST(Tensor, QuantizedViewsKeepWholeBlocks) {
  Tensor q = Tensor::empty({4, 64}, DType::kQ4_0);
  EXPECT_EQ(q.nbytes(), 4u * 2 * 18);
  Tensor row = q.narrow(0, 1, 2);
  EXPECT_EQ(static_cast<uint8_t*>(row.raw_data()) - static_cast<uint8_t*>(q.raw_data()), 36);
  EXPECT_THROW(q.narrow(1, 0, 16), Error);
  EXPECT_THROW(q.t(), Error);
  EXPECT_THROW(Tensor::empty({3, 33}, DType::kQ8_0), Error);
}

TEST(Tensor, TypedAccessChecksDtype) {
  Tensor t = Tensor::from_vector<int32_t>({3}, std::vector<int32_t>{1, 2, 3});
  EXPECT_EQ(t.to_vector<int32_t>(), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_THROW(t.data<float>(), Error);
  EXPECT_THROW(Tensor::from_vector<int32_t>({2}, std::vector<int32_t>{1, 2, 3}), Error);
  Tensor h = Tensor::from_floats({2}, std::vector<float>{1.5f, -2.0f}, DType::kBF16);
  EXPECT_EQ(h.to_float_vector(), (std::vector<float>{1.5f, -2.0f}));
}

}  // namespace
}  // namespace wick
