// Paged KV cache with automatic prefix caching (see kv_cache.h).
#include "nn/kv_cache.h"

#include <algorithm>

#include "backend/ops.h"

namespace wick::nn {

KvCache::KvCache(int n_layers, int64_t n_kv_heads, int64_t head_dim, KvCacheOptions options)
    : n_layers_(n_layers), n_kv_heads_(n_kv_heads), head_dim_(head_dim), opt_(options) {
  WICK_CHECK(n_layers > 0 && n_kv_heads > 0 && head_dim > 0, ErrorKind::kInvalidArgument,
             "kv cache: {} layers, {} kv heads, head_dim {} must all be > 0", n_layers, n_kv_heads,
             head_dim);
  WICK_CHECK(opt_.block_size > 0 && opt_.max_blocks >= 0, ErrorKind::kInvalidArgument,
             "kv cache: block_size {} must be > 0 and max_blocks {} >= 0", opt_.block_size,
             opt_.max_blocks);
  WICK_CHECK(opt_.dtype == DType::kF32 || opt_.dtype == DType::kF16 || opt_.dtype == DType::kBF16,
             ErrorKind::kInvalidArgument, "kv cache: dtype {} is not f32, f16 or bf16",
             dtype_name(opt_.dtype));
  k_pools_.resize(static_cast<size_t>(n_layers));
  v_pools_.resize(static_cast<size_t>(n_layers));
  if (opt_.max_blocks > 0) grow_pool(opt_.max_blocks, /*exact=*/true);
}

int64_t KvCache::bytes_per_block(int n_layers, int64_t n_kv_heads, int64_t head_dim, DType dtype,
                                 int64_t block_size) {
  return 2 * n_layers *
         static_cast<int64_t>(
             dtype_bytes_for(dtype, static_cast<uint64_t>(block_size * n_kv_heads * head_dim)));
}

int64_t KvCache::bytes_per_block() const {
  return bytes_per_block(n_layers_, n_kv_heads_, head_dim_, opt_.dtype, opt_.block_size);
}

void KvCache::add_sequence(int seq_id) {
  WICK_CHECK(!has_sequence(seq_id), ErrorKind::kInvalidArgument,
             "kv cache: sequence {} already exists", seq_id);
  seqs_.emplace(seq_id, Sequence{});
}

void KvCache::remove_sequence(int seq_id) {
  auto it = seqs_.find(seq_id);
  if (it == seqs_.end()) return;
  for (int32_t b : it->second.blocks) release(b);
  seqs_.erase(it);
}

KvCache::Sequence& KvCache::require(int seq_id) {
  auto it = seqs_.find(seq_id);
  WICK_CHECK(it != seqs_.end(), ErrorKind::kInvalidArgument, "kv cache: no sequence {}", seq_id);
  return it->second;
}

const KvCache::Sequence& KvCache::require(int seq_id) const {
  auto it = seqs_.find(seq_id);
  WICK_CHECK(it != seqs_.end(), ErrorKind::kInvalidArgument, "kv cache: no sequence {}", seq_id);
  return it->second;
}

int64_t KvCache::length(int seq_id) const {
  return require(seq_id).length;
}

int64_t KvCache::blocks_needed(int seq_id, int64_t n_new) const {
  auto it = seqs_.find(seq_id);
  if (it == seqs_.end()) return blocks_for(n_new);
  const Sequence& s = it->second;
  return std::max<int64_t>(0, blocks_for(s.length + n_new) - static_cast<int64_t>(s.blocks.size()));
}

// ---- block bookkeeping ----

void KvCache::grow_pool(int64_t min_blocks, bool exact) {
  const int64_t old_blocks = total_blocks();
  const int64_t blocks = exact ? min_blocks : std::max<int64_t>({min_blocks, 2 * old_blocks, 4});
  const int64_t rows = blocks * opt_.block_size, old_rows = old_blocks * opt_.block_size;
  for (auto* pools : {&k_pools_, &v_pools_}) {
    for (Tensor& pool : *pools) {
      Tensor fresh = Tensor::empty(Shape{rows, n_kv_heads_, head_dim_}, opt_.dtype, opt_.device);
      if (pool.defined() && old_rows > 0) {
        Tensor dst = fresh.narrow(0, 0, old_rows);
        copy_into(pool, dst);
      }
      pool = fresh;
    }
  }
  blocks_.resize(static_cast<size_t>(blocks));
  for (int64_t b = blocks - 1; b >= old_blocks; --b) free_.push_back(static_cast<int32_t>(b));
}

int32_t KvCache::allocate(int seq_id) {
  if (free_.empty() && evictable_.empty()) {
    WICK_CHECK(opt_.max_blocks == 0, ErrorKind::kOutOfMemory,
               "kv cache: no free block for sequence {} ({} blocks of {} tokens, all in use)",
               seq_id, total_blocks(), opt_.block_size);
    grow_pool(total_blocks() + 1);
  }
  int32_t b;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else {  // evict the least recently used cached block
    b = evictable_.begin()->second;
    evictable_.erase(evictable_.begin());
    unhash(b);
  }
  Block& blk = blocks_[static_cast<size_t>(b)];
  blk.refs = 1;
  blk.last_use = ++clock_;
  ++used_;
  return b;
}

void KvCache::release(int32_t b) {
  Block& blk = blocks_[static_cast<size_t>(b)];
  if (--blk.refs > 0) return;
  --used_;
  blk.last_use = ++clock_;
  if (blk.hashed) {
    evictable_.emplace(blk.last_use, b);
  } else {
    free_.push_back(b);
  }
}

void KvCache::unhash(int32_t b) {
  Block& blk = blocks_[static_cast<size_t>(b)];
  if (!blk.hashed) return;
  auto it = by_hash_.find(blk.hash);
  if (it != by_hash_.end() && it->second == b) by_hash_.erase(it);
  blk.hashed = false;
  blk.tokens.clear();
}

void KvCache::copy_block(int32_t from, int32_t to) {
  const int64_t bs = opt_.block_size;
  for (auto* pools : {&k_pools_, &v_pools_}) {
    for (Tensor& pool : *pools) {
      Tensor dst = pool.narrow(0, to * bs, bs);
      copy_into(pool.narrow(0, from * bs, bs), dst);
    }
  }
}

void KvCache::make_own(int seq_id, int32_t& block) {
  if (blocks_[static_cast<size_t>(block)].refs <= 1) return;
  const int32_t fresh = allocate(seq_id);
  copy_block(block, fresh);
  release(block);
  block = fresh;
}

// FNV-1a over the previous hash and the block's ids, then a final avalanche (splitmix64).
uint64_t KvCache::chain_hash(uint64_t prev, std::span<const int32_t> tokens) const {
  uint64_t h = 0xcbf29ce484222325ull ^ prev;
  for (int32_t t : tokens) {
    auto u = static_cast<uint32_t>(t);
    for (int i = 0; i < 4; ++i, u >>= 8) h = (h ^ (u & 0xffu)) * 0x100000001b3ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

// ---- sequences ----

void KvCache::truncate(int seq_id, int64_t length) {
  Sequence& seq = require(seq_id);
  WICK_CHECK(length >= 0 && length <= seq.length, ErrorKind::kInvalidArgument,
             "kv cache: truncate sequence {} to {} tokens, it holds {}", seq_id, length,
             seq.length);
  const auto keep = static_cast<size_t>(blocks_for(length));
  while (seq.blocks.size() > keep) {
    release(seq.blocks.back());
    seq.blocks.pop_back();
  }
  if (length % opt_.block_size != 0) {
    // The last block is now partly overwritten by later appends: it must be this sequence's own.
    make_own(seq_id, seq.blocks.back());
    unhash(seq.blocks.back());
  }
  seq.length = length;
  seq.tokens.resize(static_cast<size_t>(length));
  seq.chain.resize(static_cast<size_t>(length / opt_.block_size));
}

int64_t KvCache::attach_prefix(int seq_id, std::span<const int32_t> tokens) {
  Sequence& seq = require(seq_id);
  WICK_CHECK(seq.length == 0 && seq.blocks.empty(), ErrorKind::kInvalidArgument,
             "kv cache: attach_prefix on sequence {} which already holds {} tokens", seq_id,
             seq.length);
  if (!opt_.prefix_caching || tokens.empty()) return 0;
  const int64_t bs = opt_.block_size;
  const auto n_full = (static_cast<int64_t>(tokens.size()) - 1) / bs;
  uint64_t prev = 0;
  for (int64_t j = 0; j < n_full; ++j) {
    const auto block_tokens = tokens.subspan(static_cast<size_t>(j * bs), static_cast<size_t>(bs));
    const uint64_t h = chain_hash(prev, block_tokens);
    auto it = by_hash_.find(h);
    if (it == by_hash_.end()) break;
    Block& blk = blocks_[static_cast<size_t>(it->second)];
    if (!std::equal(blk.tokens.begin(), blk.tokens.end(), block_tokens.begin(), block_tokens.end()))
      break;
    if (blk.refs == 0) {
      evictable_.erase({blk.last_use, it->second});
      ++used_;
    }
    ++blk.refs;
    blk.last_use = ++clock_;
    seq.blocks.push_back(it->second);
    seq.chain.push_back(h);
    seq.tokens.insert(seq.tokens.end(), block_tokens.begin(), block_tokens.end());
    seq.length += bs;
    prev = h;
  }
  return seq.length;
}

// ---- one forward ----

KvBatchHost KvCache::prepare_host(std::span<const SeqSlice> slices, int64_t min_columns) {
  const int64_t bs = opt_.block_size;
  int64_t n_tokens = 0, max_blocks = std::max<int64_t>(1, min_columns);
  for (const SeqSlice& s : slices) {
    Sequence& seq = require(s.seq_id);
    WICK_CHECK(s.past == seq.length, ErrorKind::kInternal,
               "kv cache: slice of sequence {} starts at {}, the cache holds {}", s.seq_id, s.past,
               seq.length);
    // A partly filled last block that is shared must be copied before it is appended to.
    if (seq.length % bs != 0) make_own(s.seq_id, seq.blocks[static_cast<size_t>(seq.length / bs)]);
    while (static_cast<int64_t>(seq.blocks.size()) < blocks_for(s.past + s.length))
      seq.blocks.push_back(allocate(s.seq_id));
    n_tokens += s.length;
    max_blocks = std::max<int64_t>(max_blocks, blocks_for(s.past + s.length));
  }
  const auto B = static_cast<int64_t>(slices.size());
  KvBatchHost h;
  h.batch = B;
  h.columns = max_blocks;
  h.slots.resize(static_cast<size_t>(n_tokens));
  h.block_table.assign(static_cast<size_t>(B * max_blocks), 0);
  h.seqs.reserve(static_cast<size_t>(B * 3));
  for (int64_t b = 0; b < B; ++b) {
    const SeqSlice& s = slices[static_cast<size_t>(b)];
    const Sequence& seq = seqs_.at(s.seq_id);
    const int64_t used = blocks_for(s.past + s.length);
    std::copy_n(seq.blocks.begin(), used, h.block_table.begin() + b * max_blocks);
    for (int64_t i = 0; i < s.length; ++i) {
      const int64_t t = s.past + i;
      h.slots[static_cast<size_t>(s.begin + i)] =
          static_cast<int32_t>(seq.blocks[static_cast<size_t>(t / bs)] * bs + t % bs);
    }
    h.seqs.insert(h.seqs.end(), {static_cast<int32_t>(s.begin), static_cast<int32_t>(s.length),
                                 static_cast<int32_t>(s.past)});
  }
  return h;
}

KvBatch KvCache::prepare(std::span<const SeqSlice> slices) {
  KvBatchHost h = prepare_host(slices);
  KvBatch batch;
  batch.slots = Tensor::from_vector<int32_t>(Shape{static_cast<int64_t>(h.slots.size())}, h.slots);
  batch.block_table = Tensor::from_vector<int32_t>(Shape{h.batch, h.columns}, h.block_table);
  batch.seqs = Tensor::from_vector<int32_t>(Shape{h.batch, 3}, h.seqs);
  for (const SeqSlice& s : slices) batch.max_q_len = std::max(batch.max_q_len, s.length);
  if (!opt_.device.is_cpu()) {
    batch.slots = to_device(batch.slots, opt_.device);
    batch.block_table = to_device(batch.block_table, opt_.device);
    batch.seqs = to_device(batch.seqs, opt_.device);
  }
  return batch;
}

void KvCache::store(int layer, const KvBatch& batch, const Tensor& k, const Tensor& v) {
  WICK_CHECK(layer >= 0 && layer < n_layers_, ErrorKind::kInvalidArgument,
             "kv cache: layer {} outside [0, {})", layer, n_layers_);
  const Shape want{batch.slots.dim(0), n_kv_heads_, head_dim_};
  WICK_CHECK(k.shape() == want && v.shape() == want, ErrorKind::kInvalidArgument,
             "kv cache: store k {} v {}, expected {}", k.shape().str(), v.shape().str(),
             want.str());
  store_rows(k_pools_[static_cast<size_t>(layer)], k, batch.slots);
  store_rows(v_pools_[static_cast<size_t>(layer)], v, batch.slots);
}

void KvCache::commit(int seq_id, std::span<const int32_t> tokens) {
  Sequence& seq = require(seq_id);
  const auto n = static_cast<int64_t>(tokens.size());
  WICK_CHECK(blocks_for(seq.length + n) <= static_cast<int64_t>(seq.blocks.size()),
             ErrorKind::kInternal, "kv cache: commit {} tokens to sequence {} beyond its blocks", n,
             seq_id);
  seq.tokens.insert(seq.tokens.end(), tokens.begin(), tokens.end());
  seq.length += n;
  const int64_t bs = opt_.block_size;
  // Register the blocks this commit filled, so later sequences can share them.
  while (static_cast<int64_t>(seq.chain.size()) < seq.length / bs) {
    const auto j = static_cast<int64_t>(seq.chain.size());
    const auto block_tokens = std::span<const int32_t>(seq.tokens)
                                  .subspan(static_cast<size_t>(j * bs), static_cast<size_t>(bs));
    const uint64_t h = chain_hash(j == 0 ? 0 : seq.chain.back(), block_tokens);
    seq.chain.push_back(h);
    const int32_t b = seq.blocks[static_cast<size_t>(j)];
    Block& blk = blocks_[static_cast<size_t>(b)];
    if (!opt_.prefix_caching || blk.hashed || by_hash_.count(h) != 0) continue;
    blk.hashed = true;
    blk.hash = h;
    blk.tokens.assign(block_tokens.begin(), block_tokens.end());
    by_hash_.emplace(h, b);
  }
}

}  // namespace wick::nn
