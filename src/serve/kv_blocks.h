// KvBlocks: the engine's view of KV memory in blocks — the one place where the paged cache's
// block pool and prefix caching plug into the scheduler. With the paged nn::KvCache it asks the
// pool; with a cache that has no pool it keeps the same per-sequence block accounting itself, so
// the scheduler (admission, preemption) behaves identically either way.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>

#include "models/model.h"
#include "nn/kv_cache.h"

namespace wick::serve {

class KvBlocks {
 public:
  // max_blocks 0: unbounded (the pool grows on demand).
  KvBlocks(const models::Model& model, int64_t block_size, int64_t max_blocks);

  // Bytes one block of `block_size` tokens takes (f32 keys and values, every layer).
  static int64_t bytes_per_block(const models::ModelConfig& c, int64_t block_size) {
    return 2 * c.n_layers * c.n_kv_heads * c.head_dim * 4 * block_size;
  }

  nn::KvCache& cache() { return cache_; }
  int64_t block_size() const { return block_size_; }
  bool bounded() const { return max_blocks_ > 0; }
  int64_t total_blocks() const;
  int64_t used_blocks() const;
  // Blocks new tokens can take now (cached-but-unused prefix blocks count as free).
  int64_t free_blocks() const;
  int64_t blocks_for(int64_t tokens) const { return (tokens + block_size_ - 1) / block_size_; }
  // Blocks appending n_new tokens to the sequence allocates.
  int64_t blocks_needed(int seq_id, int64_t n_new) const;

  void add(int seq_id);
  void remove(int seq_id);  // frees its blocks at once
  int64_t length(int seq_id) const { return cache_.length(seq_id); }
  // On a fresh sequence: shares cached blocks holding a prefix of `tokens`; returns the tokens
  // now cached (0 without prefix caching), leaving at least the last token to run.
  int64_t attach_prefix(int seq_id, std::span<const int32_t> tokens);
  // After a forward committed tokens to the sequence.
  void committed(int seq_id);

 private:
  int64_t block_size_;
  int64_t max_blocks_;
  nn::KvCache cache_;
  std::unordered_map<int, int64_t> held_;  // own accounting when the cache has no pool
  int64_t held_total_ = 0;
};

}  // namespace wick::serve
