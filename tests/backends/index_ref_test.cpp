// Indexing ops through the op API on small hand-checked inputs: index_select / embedding
// (plain and quantized), gather, concat, where, attention_mask, topk; bounds and shape errors.
#include <gtest/gtest.h>

#include <cmath>

#include "backend/ops.h"
#include "core/quant/quant.h"

namespace wick {
namespace {

std::vector<float> iota(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return v;
}

TEST(Index, IndexSelectAndEmbedding) {
  const Tensor x = Tensor::from_floats({3, 2}, iota(6));  // [[0,1],[2,3],[4,5]]
  const Tensor idx = Tensor::from_vector<int32_t>({3}, std::vector<int32_t>{2, 0, 2});
  EXPECT_EQ(index_select(x, 0, idx).to_float_vector(), (std::vector<float>{4, 5, 0, 1, 4, 5}));
  const Tensor cols = Tensor::from_vector<int64_t>({1}, std::vector<int64_t>{1});
  EXPECT_EQ(index_select(x, -1, cols).to_float_vector(), (std::vector<float>{1, 3, 5}));
  const Tensor ids = Tensor::from_vector<int64_t>({2, 1}, std::vector<int64_t>{1, 0});
  const Tensor e = embedding(x, ids);
  EXPECT_EQ(e.shape(), (Shape{2, 1, 2}));
  EXPECT_EQ(e.to_float_vector(), (std::vector<float>{2, 3, 0, 1}));
  const Tensor bad = Tensor::from_vector<int32_t>({1}, std::vector<int32_t>{3});
  try {
    index_select(x, 0, bad);
    FAIL() << "expected an error";
  } catch (const Error& e2) {
    EXPECT_NE(std::string(e2.what()).find("index_select: index 3 out of range [0, 3)"),
              std::string::npos)
        << e2.what();
  }
}

TEST(Index, EmbeddingOfQuantizedRowsDequantizes) {
  // weight: (3, 32) Q8_0, one block per row; rows dequantize exactly as the codec does.
  std::vector<float> values(96);
  for (size_t i = 0; i < values.size(); ++i) values[i] = std::sin(static_cast<float>(i));
  const Tensor w = to_dtype(Tensor::from_floats({3, 32}, values), DType::kQ8_0);
  std::vector<float> rows(96);
  dequantize_row_reference(DType::kQ8_0, w.raw_data(), rows.data(), 96);
  const Tensor ids = Tensor::from_vector<int32_t>({2}, std::vector<int32_t>{2, 1});
  const Tensor e = embedding(w, ids);
  EXPECT_EQ(e.dtype(), DType::kF32);
  EXPECT_EQ(e.shape(), (Shape{2, 32}));
  const std::vector<float> got = e.to_float_vector();
  for (size_t i = 0; i < 32; ++i) {
    EXPECT_EQ(got[i], rows[64 + i]);
    EXPECT_EQ(got[32 + i], rows[32 + i]);
  }
  EXPECT_THROW(index_select(w, 1, ids), Error);
}

TEST(Index, GatherFollowsTorch) {
  const Tensor x = Tensor::from_floats({2, 3}, iota(6));  // [[0,1,2],[3,4,5]]
  const Tensor i1 = Tensor::from_vector<int64_t>({2, 2}, std::vector<int64_t>{2, 0, 1, 1});
  EXPECT_EQ(gather(x, 1, i1).to_float_vector(), (std::vector<float>{2, 0, 4, 4}));
  const Tensor i0 = Tensor::from_vector<int32_t>({1, 3}, std::vector<int32_t>{1, 0, 1});
  EXPECT_EQ(gather(x, 0, i0).to_float_vector(), (std::vector<float>{3, 1, 5}));
  EXPECT_THROW(gather(x, 0, Tensor::from_vector<int32_t>({3}, std::vector<int32_t>{0, 0, 0})),
               Error);
}

TEST(Index, ConcatAnyDim) {
  const Tensor a = Tensor::from_floats({2, 1}, std::vector<float>{1, 2});
  const Tensor b = Tensor::from_floats({2, 2}, std::vector<float>{3, 4, 5, 6});
  EXPECT_EQ(concat({a, b}, 1).to_float_vector(), (std::vector<float>{1, 3, 4, 2, 5, 6}));
  EXPECT_EQ(concat({b, b.t()}, 0).to_float_vector(), (std::vector<float>{3, 4, 5, 6, 3, 5, 4, 6}));
  EXPECT_THROW(concat({a, b}, 0), Error);
  EXPECT_THROW(concat({a, to_dtype(a, DType::kF16)}, 0), Error);
}

TEST(Index, WhereBroadcasts) {
  const Tensor cond_u8 = Tensor::from_vector<uint8_t>({2, 1}, std::vector<uint8_t>{7, 0});
  const Tensor cond = to_dtype(cond_u8, DType::kBool);
  const Tensor a = Tensor::from_floats({3}, std::vector<float>{1, 2, 3});
  const Tensor b = Tensor::from_floats({1}, std::vector<float>{-1});
  EXPECT_EQ(where(cond, a, b).to_float_vector(), (std::vector<float>{1, 2, 3, -1, -1, -1}));
  EXPECT_EQ(where(cond_u8, b, a).to_float_vector(), (std::vector<float>{-1, -1, -1, 1, 2, 3}));
  EXPECT_THROW(where(a, a, b), Error);
}

TEST(Index, AttentionMaskCausalOffsetWindow) {
  const float inf = INFINITY;
  // q_len 2 at positions 2, 3 over kv_len 4, window 2: query 2 sees keys 1,2; query 3 sees 2,3.
  EXPECT_EQ(attention_mask(2, 4, 2, 2).to_float_vector(),
            (std::vector<float>{-inf, 0, 0, -inf, -inf, -inf, 0, 0}));
  EXPECT_EQ(attention_mask(2, 2, 0).to_float_vector(), (std::vector<float>{0, -inf, 0, 0}));
  EXPECT_THROW(attention_mask(-1, 2, 0), Error);
}

TEST(Index, TopkSortedTiesLowerIndexFirst) {
  const Tensor x = Tensor::from_floats({2, 4}, std::vector<float>{1, 3, 3, 2, 0, -1, 5, 5});
  auto [values, indices] = topk(x, 3);
  EXPECT_EQ(values.to_float_vector(), (std::vector<float>{3, 3, 2, 5, 5, 0}));
  EXPECT_EQ(indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3, 2, 3, 0}));
  EXPECT_THROW(topk(x, 5), Error);
  // NaN ranks above every number (as torch.topk); k = 0 gives empty results.
  const Tensor n = Tensor::from_floats({4}, std::vector<float>{2, NAN, 7, NAN});
  auto [nv, ni] = topk(n, 3);
  EXPECT_EQ(ni.to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 2}));
  EXPECT_EQ(nv.to_float_vector()[2], 7.0f);
  EXPECT_EQ(topk(n, 0).first.shape(), (Shape{0}));
}

}  // namespace
}  // namespace wick
