// The paged KV cache: the fused attention over paged blocks equals the composed reference
// attention over contiguous keys; prefix caching shares blocks and gives the same logits as a
// fresh prefill; a bounded pool reports exhaustion, evicts cached blocks LRU, and never lets one
// sequence overwrite another's (copy-on-write after truncation).
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "backend/ops.h"
#include "models/registry.h"
#include "nn/attention.h"
#include "nn/kv_cache.h"

namespace wick::nn {
namespace {

Tensor random(const Shape& shape, uint32_t seed) {
  std::vector<float> v(static_cast<size_t>(shape.numel()));
  uint32_t s = seed;
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(s >> 8) / static_cast<float>(1u << 24) * 2.0f - 1.0f;
  }
  return Tensor::from_vector<float>(shape, v);
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  const std::vector<float> x = contiguous(a).to_float_vector(), y = contiguous(b).to_float_vector();
  EXPECT_EQ(x.size(), y.size());
  float m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

// Feeds one sequence in chunks through prepare/store/attention/commit and compares each chunk's
// output with attend() over the concatenated keys and values.
void check_paged_matches_contiguous(DType dtype, int64_t window, float tol) {
  const int64_t H = 4, KVH = 2, D = 16;
  KvCacheOptions opt;
  opt.block_size = 4;
  opt.dtype = dtype;
  KvCache cache(1, KVH, D, opt);
  cache.add_sequence(7);
  cache.add_sequence(9);  // interleaves its blocks with sequence 7's
  AttentionConfig cfg{H, KVH, D, 0.3f, 0.0f, window};
  std::vector<Tensor> ks, vs;
  int64_t past = 0;
  uint32_t seed = 1;
  for (int64_t n : {5, 1, 1, 7, 2, 1}) {
    Tensor q = random({n, H, D}, seed++), k = random({n, KVH, D}, seed++),
           v = random({n, KVH, D}, seed++);
    // Round k, v to the pool dtype so the reference sees what the cache holds.
    k = to_dtype(to_dtype(k, dtype), DType::kF32);
    v = to_dtype(to_dtype(v, dtype), DType::kF32);
    ks.push_back(k);
    vs.push_back(v);
    const SeqSlice slices[2] = {{7, 0, n, past}, {9, n, 1, cache.length(9)}};
    Tensor q2 = concat({q, random({1, H, D}, seed++)}, 0);
    Tensor k2 = concat({k, random({1, KVH, D}, seed++)}, 0);
    Tensor v2 = concat({v, random({1, KVH, D}, seed++)}, 0);
    KvBatch batch = cache.prepare(slices);
    EXPECT_EQ(batch.max_q_len, n);  // the longer of the two sequences' new rows
    cache.store(0, batch, k2, v2);
    AttentionParams p{cfg.scale, 0.0f, window, cache.block_size(), batch.max_q_len};
    if (n > 1) {  // a bound below a sequence's q_len is refused (checked on CPU tables)
      AttentionParams low = p;
      low.max_q_len = n - 1;
      EXPECT_THROW(
          attention(q2, cache.keys(0), cache.values(0), batch.block_table, batch.seqs, low),
          Error);
    }
    Tensor got = attention(q2, cache.keys(0), cache.values(0), batch.block_table, batch.seqs, p);
    const std::vector<int32_t> ids7(static_cast<size_t>(n), 1), ids9(1, 2);
    cache.commit(7, ids7);
    cache.commit(9, ids9);
    Tensor want = attend(q, concat(std::span<const Tensor>(ks), 0),
                         concat(std::span<const Tensor>(vs), 0), past, cfg);
    EXPECT_LT(max_abs_diff(got.narrow(0, 0, n).reshape(Shape{n, H * D}), want), tol)
        << "chunk at past " << past;
    past += n;
  }
  EXPECT_EQ(cache.length(7), past);
  EXPECT_EQ(cache.used_blocks(), cache.blocks_for(past) + cache.blocks_for(6));
}

TEST(PagedKvCache, FusedAttentionMatchesComposedReference) {
  check_paged_matches_contiguous(DType::kF32, 0, 2e-6f);
  check_paged_matches_contiguous(DType::kF32, 5, 2e-6f);
  check_paged_matches_contiguous(DType::kF16, 0, 2e-6f);
  check_paged_matches_contiguous(DType::kBF16, 3, 2e-6f);
}

TEST(PagedKvCache, BoundedPoolExhaustsEvictsAndRecovers) {
  KvCacheOptions opt;
  opt.block_size = 4;
  opt.max_blocks = 3;
  KvCache cache(2, 1, 8, opt);
  EXPECT_EQ(cache.total_blocks(), 3);
  EXPECT_EQ(cache.bytes_per_block(), 2 * 2 * 4 * 8 * 4);
  cache.add_sequence(1);
  const SeqSlice twelve[1] = {{1, 0, 12, 0}};
  cache.prepare(twelve);
  std::vector<int32_t> ids(12);
  std::iota(ids.begin(), ids.end(), 100);
  cache.commit(1, ids);
  EXPECT_EQ(cache.free_blocks(), 0);
  EXPECT_EQ(cache.blocks_needed(1, 1), 1);
  const SeqSlice one_more[1] = {{1, 12, 1, 12}};
  try {
    cache.prepare(one_more);
    FAIL() << "expected kOutOfMemory";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kOutOfMemory);
    EXPECT_NE(std::string(e.what()).find("sequence 1"), std::string::npos) << e.what();
  }
  EXPECT_EQ(cache.length(1), 12);  // nothing committed was lost
  cache.remove_sequence(1);
  EXPECT_EQ(cache.used_blocks(), 0);
  EXPECT_EQ(cache.cached_blocks(), 3);  // full blocks stay cached for reuse
  // A different sequence needs the space: cached blocks are evicted (oldest first).
  cache.add_sequence(2);
  const SeqSlice two[1] = {{2, 0, 5, 0}};
  cache.prepare(two);
  EXPECT_EQ(cache.used_blocks(), 2);
  EXPECT_EQ(cache.cached_blocks(), 1);
}

TEST(PagedKvCache, TruncateCopiesSharedBlockBeforeWriting) {
  KvCacheOptions opt;
  opt.block_size = 4;
  KvCache cache(1, 1, 4, opt);
  cache.add_sequence(1);
  std::vector<int32_t> ids = {5, 6, 7, 8, 9, 10, 11, 12, 13};
  const SeqSlice s1[1] = {{1, 0, 9, 0}};
  KvBatch b1 = cache.prepare(s1);
  Tensor k1 = random({9, 1, 4}, 11);
  cache.store(0, b1, k1, k1);
  cache.commit(1, ids);
  cache.add_sequence(2);
  EXPECT_EQ(cache.attach_prefix(2, ids), 8);  // two full blocks shared, the last token to run
  EXPECT_EQ(cache.used_blocks(), 3);
  cache.truncate(2, 6);  // block 1 is shared: sequence 2 gets its own copy
  EXPECT_EQ(cache.used_blocks(), 4);
  const SeqSlice s2[1] = {{2, 0, 2, 6}};
  KvBatch b2 = cache.prepare(s2);
  Tensor k2 = random({2, 1, 4}, 99);
  cache.store(0, b2, k2, k2);
  const std::vector<int32_t> more = {1, 2};
  cache.commit(2, more);
  // Sequence 1's keys are intact: one query at position 8 attends identically.
  const SeqSlice probe[1] = {{1, 0, 1, 9}};
  KvBatch b3 = cache.prepare(probe);
  Tensor k3 = random({1, 1, 4}, 5);
  cache.store(0, b3, k3, k3);
  Tensor q = random({1, 1, 4}, 6);
  AttentionParams p{1.0f, 0.0f, 0, 4};
  Tensor got = attention(q, cache.keys(0), cache.values(0), b3.block_table, b3.seqs, p);
  AttentionConfig cfg{1, 1, 4, 1.0f, 0.0f, 0};
  Tensor want = attend(q, concat({k1, k3}, 0), concat({k1, k3}, 0), 9, cfg);
  EXPECT_LT(max_abs_diff(got.reshape(Shape{1, 4}), want), 1e-6f);
}

TEST(PagedKvCache, PrefixCachingGivesFreshPrefillLogits) {
  const std::string dir = std::string(WICK_SOURCE_DIR) + "/tests/data/models/llama";
  models::LoadedModel m = models::load_model(dir);
  const models::Model& model = *m.model;
  std::vector<int32_t> prompt(40);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>((i * 37 + 11) % 97);
  std::vector<int32_t> longer = prompt;
  longer.insert(longer.end(), {3, 1, 4, 1, 5});

  KvCache fresh = model.make_cache();
  fresh.add_sequence(0);
  const models::BatchItem whole[1] = {{0, longer, false}};
  const Tensor want = model.forward(whole, fresh);

  KvCacheOptions opt;
  opt.block_size = 16;
  KvCache cache = model.make_cache(opt);
  cache.add_sequence(1);
  const models::BatchItem first[1] = {{1, prompt, false}};
  model.forward(first, cache);
  cache.remove_sequence(1);
  EXPECT_EQ(cache.cached_blocks(), 2);  // 40 tokens: two full blocks of 16
  cache.add_sequence(2);
  const int64_t reused = cache.attach_prefix(2, longer);
  EXPECT_EQ(reused, 32);
  const models::BatchItem rest[1] = {
      {2, std::span<const int32_t>(longer).subspan(static_cast<size_t>(reused)), false}};
  const Tensor got = model.forward(rest, cache);
  // Same logits up to the summation order of a 45-token vs a 13-token prefill.
  EXPECT_LT(max_abs_diff(got, want), 1e-4f);
  EXPECT_EQ(argmax(got, -1).item<int64_t>(), argmax(want, -1).item<int64_t>());
  EXPECT_EQ(cache.length(2), static_cast<int64_t>(longer.size()));
}

}  // namespace
}  // namespace wick::nn
