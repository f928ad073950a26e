// The CUDA attention kernels at model sizes the op-parity cases do not reach: long KV caches that
// the decode path splits across blocks (and merges), Llama-3 heads (32 q / 8 kv, D 128), Gemma's
// D 256 (f32 kernel), sliding windows over long prefixes, mixed prefill + decode batches, and the
// tensor-core prefill kernel (head_dim 64/128: GQA groups 1/4/7/16, odd lengths, several
// sequences at different positions, paging with block sizes 7/8/16, windows, softcap). The
// reference is the CPU attention op on the same pools (itself checked against the double formula
// by the parity harness). Every test skips without a CUDA device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "backend/backend.h"
#include "backend/ops.h"
#include "op_parity.h"

namespace wick {
namespace {

bool have_gpu() {
  const Backend* b = find_backend(DeviceType::kCuda);
  return b != nullptr && b->device_count() > 0;
}

struct Seq {
  int64_t len, past;
};

// Runs attention on both devices over a shuffled block table; returns max |cpu - gpu|.
double attention_gap(int64_t H, int64_t KVH, int64_t D, int64_t bs, const std::vector<Seq>& seqs,
                     DType pool, int64_t window, float softcap, float q_range = 1.0f,
                     bool bound_q_len = false) {
  parity::Rng rng(static_cast<uint64_t>(H * 131 + D * 7 + seqs.size() + window));
  int64_t N = 0, M = 0;
  for (const Seq& s : seqs) {
    N += s.len;
    M = std::max(M, (s.past + s.len + bs - 1) / bs);
  }
  const auto B = static_cast<int64_t>(seqs.size());
  const int64_t blocks = B * M + 2;
  std::vector<int32_t> perm(static_cast<size_t>(blocks));
  std::iota(perm.begin(), perm.end(), 0);
  for (size_t i = perm.size(); i > 1; --i)
    std::swap(perm[i - 1], perm[static_cast<size_t>(rng.integer(0, int64_t(i) - 1))]);
  std::vector<int32_t> table(perm.begin(), perm.begin() + B * M), info;
  int64_t begin = 0;
  for (const Seq& s : seqs) {
    info.insert(info.end(), {static_cast<int32_t>(begin), static_cast<int32_t>(s.len),
                             static_cast<int32_t>(s.past)});
    begin += s.len;
  }
  const Tensor q = parity::random_tensor(rng, {N, H, D}, DType::kF32, -q_range, q_range);
  const Tensor k = parity::random_tensor(rng, {blocks * bs, KVH, D}, pool, -1, 1);
  const Tensor v = parity::random_tensor(rng, {blocks * bs, KVH, D}, pool, -1, 1);
  const Tensor t = Tensor::from_vector<int32_t>(Shape{B, M}, table);
  const Tensor sq = Tensor::from_vector<int32_t>(Shape{B, 3}, info);
  AttentionParams p;
  p.scale = 1.0f / std::sqrt(static_cast<float>(D));
  p.softcap = softcap;
  p.window = window;
  p.block_size = bs;
  if (bound_q_len)  // the host's bound on one sequence's rows: fewer query tiles on the GPU
    for (const Seq& s : seqs) p.max_q_len = std::max(p.max_q_len, s.len);
  const std::vector<float> want = attention(q, k, v, t, sq, p).to_float_vector();
  const Device g = Device::cuda();
  const Tensor got = attention(to_device(q, g), to_device(k, g), to_device(v, g), to_device(t, g),
                               to_device(sq, g), p);
  const std::vector<float> have = to_device(got, Device::cpu()).to_float_vector();
  double gap = 0;
  for (size_t i = 0; i < want.size(); ++i)
    gap = std::max(gap, std::abs(static_cast<double>(want[i]) - have[i]));
  std::printf("attention_gap H %lld KVH %lld D %lld %s window %lld: %.3g\n",
              static_cast<long long>(H), static_cast<long long>(KVH), static_cast<long long>(D),
              dtype_name(pool), static_cast<long long>(window), gap);
  return gap;
}

#define REQUIRE_GPU() \
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device"

TEST(CudaAttention, LongDecodeSplitsAcrossBlocks) {
  REQUIRE_GPU();
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    EXPECT_LE(attention_gap(32, 8, 128, 16, {{1, 4000}}, dt, 0, 0.0f), 2e-5) << dtype_name(dt);
    EXPECT_LE(attention_gap(32, 8, 128, 16, {{1, 700}, {1, 3}, {1, 2500}}, dt, 0, 0.0f), 2e-5);
  }
}

// Prefill with head_dim 64/128 runs on the tensor-core kernel: Q (scaled), K, V and the softmax
// weights are rounded to f16 (unit roundoff 2^-11 = 4.9e-4) before products that accumulate in
// f32. With values in [-1, 1] each output is a convex combination of V rows, so its error is
// bounded by a few such roundings of |V| <= 1 (V's own rounding, the weights' rounding, the
// scores' rounding through exp): kTc = 2e-3 is ~4x that.
constexpr double kTc = 2e-3;

TEST(CudaAttention, PrefillLlamaHeads) {
  REQUIRE_GPU();
  EXPECT_LE(attention_gap(32, 8, 128, 16, {{300, 0}}, DType::kF16, 0, 0.0f), kTc);
  EXPECT_LE(attention_gap(32, 8, 128, 32, {{130, 77}, {33, 0}}, DType::kF32, 0, 0.0f), kTc);
}

TEST(CudaAttention, TensorCorePrefillCases) {
  REQUIRE_GPU();
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    // GQA 4, odd lengths, several sequences at different positions, block size 16.
    EXPECT_LE(attention_gap(32, 8, 128, 16, {{37, 0}, {129, 300}, {16, 5}}, dt, 0, 0.0f), kTc)
        << dtype_name(dt);
    // head_dim 64, MHA (group 1) and a group of 7 (rows of a tile not a power of two).
    EXPECT_LE(attention_gap(8, 8, 64, 8, {{100, 0}, {3, 40}}, dt, 0, 0.0f), kTc);
    EXPECT_LE(attention_gap(28, 4, 128, 16, {{75, 11}}, dt, 0, 0.0f), kTc);
    // Sliding window (shorter and longer than a key tile) with softcap; block size 7.
    EXPECT_LE(attention_gap(16, 2, 128, 7, {{200, 150}, {65, 0}}, dt, 48, 30.0f), kTc);
    EXPECT_LE(attention_gap(16, 4, 64, 16, {{300, 1000}}, dt, 130, 0.0f), kTc);
    // Mixed prefill + decode rows in one batch; group 16 (all heads of one KV head in a block).
    EXPECT_LE(attention_gap(16, 1, 64, 16, {{1, 500}, {40, 10}, {1, 3}}, dt, 0, 0.0f), kTc);
  }
}

TEST(CudaAttention, TensorCorePeakedScores) {
  REQUIRE_GPU();
  // q in [-8, 8]: scores of std ~4 (a peaked softmax; the online max moves between key tiles).
  // The scores' f16 rounding now matters (|s| * 2^-11 each), so the bound is scaled by 4.
  EXPECT_LE(attention_gap(8, 2, 128, 16, {{200, 0}}, DType::kF16, 0, 0.0f, 8.0f), 4 * kTc);
}

// With max_q_len the kernels plan query tiles for the longest sequence instead of for all N rows:
// a decode batch (1 row each), a mixed batch and multi-sequence prefill give the same results.
TEST(CudaAttention, MaxQLenBoundsTheQueryTiles) {
  REQUIRE_GPU();
  std::vector<Seq> decode;
  for (int i = 0; i < 100; ++i) decode.push_back({1, 3 + 37 * i % 700});
  EXPECT_LE(attention_gap(32, 8, 128, 16, decode, DType::kF32, 0, 0.0f, 1.0f, true), 2e-5);
  EXPECT_LE(attention_gap(16, 1, 64, 16, {{1, 500}, {40, 10}, {1, 3}, {7, 0}}, DType::kF16, 0,
                          0.0f, 1.0f, true),
            kTc);
  EXPECT_LE(attention_gap(32, 8, 128, 16, {{37, 0}, {129, 300}, {16, 5}}, DType::kBF16, 0, 0.0f,
                          1.0f, true),
            kTc);
  EXPECT_LE(attention_gap(8, 4, 256, 16, {{1, 600}, {90, 30}, {1, 5}}, DType::kBF16, 128, 50.0f,
                          1.0f, true),
            2e-5);
}

TEST(CudaAttention, GemmaHeadDimWindowAndSoftcap) {
  REQUIRE_GPU();
  EXPECT_LE(attention_gap(8, 4, 256, 16, {{90, 600}}, DType::kBF16, 128, 50.0f), 2e-5);
  EXPECT_LE(attention_gap(8, 4, 256, 16, {{1, 3000}}, DType::kBF16, 512, 0.0f), 2e-5);
  EXPECT_LE(attention_gap(16, 1, 64, 8, {{1, 1500}, {40, 10}}, DType::kF16, 0, 30.0f), kTc);
}

TEST(CudaAttention, StoreRowsScattersIntoThePool) {
  REQUIRE_GPU();
  parity::Rng rng(5);
  const Tensor rows = parity::random_tensor(rng, {5, 4, 8}, DType::kF32, -1, 1);
  const Tensor idx = Tensor::from_vector<int32_t>(Shape{5}, {9, 0, 31, 4, 17});
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    Tensor cpu = zeros(Shape{32, 4, 8}, dt);
    Tensor gpu = zeros(Shape{32, 4, 8}, dt, Device::cuda());
    store_rows(cpu, rows, idx);
    const Tensor rows_g = to_device(rows, Device::cuda());
    store_rows(gpu, rows_g, to_device(idx, Device::cuda()));
    EXPECT_EQ(to_device(gpu, Device::cpu()).to_float_vector(), cpu.to_float_vector())
        << dtype_name(dt);
  }
}

}  // namespace
}  // namespace wick
