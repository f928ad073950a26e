// KvBlocks: the engine's view of KV memory in blocks — the one place where the paged cache's
// block pool and automatic prefix caching meet the scheduler (admission, preemption, metrics).
// A bounded pool is what --kv-memory buys; an unbounded one (max_blocks 0) grows on demand.
#pragma once

#include <cstdint>
#include <span>

#include "models/model.h"
#include "nn/kv_cache.h"

namespace wick::serve {

class KvBlocks {
 public:
  // max_blocks 0: unbounded (the pool grows on demand).
  KvBlocks(const models::Model& model, int64_t block_size, int64_t max_blocks, bool prefix_caching);

  // Bytes one block of `block_size` tokens takes (f32 keys and values, every layer).
  static int64_t bytes_per_block(const models::ModelConfig& c, int64_t block_size) {
    return nn::KvCache::bytes_per_block(static_cast<int>(c.n_layers), c.n_kv_heads, c.head_dim,
                                        DType::kF32, block_size);
  }

  nn::KvCache& cache() { return cache_; }
  int64_t block_size() const { return cache_.block_size(); }
  bool bounded() const { return max_blocks_ > 0; }
  int64_t total_blocks() const { return cache_.total_blocks(); }
  int64_t used_blocks() const { return cache_.used_blocks(); }
  // Blocks new tokens can take now (cached-but-unused prefix blocks count as free).
  int64_t free_blocks() const;
  int64_t blocks_for(int64_t tokens) const { return cache_.blocks_for(tokens); }
  // Blocks appending n_new tokens to the sequence allocates.
  int64_t blocks_needed(int seq_id, int64_t n_new) const {
    return cache_.blocks_needed(seq_id, n_new);
  }

  void add(int seq_id) { cache_.add_sequence(seq_id); }
  void remove(int seq_id) { cache_.remove_sequence(seq_id); }  // frees its blocks at once
  // On a fresh sequence: shares cached blocks holding a prefix of `tokens`; returns the tokens
  // now cached, leaving at least the last token to run.
  int64_t attach_prefix(int seq_id, std::span<const int32_t> tokens) {
    return cache_.attach_prefix(seq_id, tokens);
  }

 private:
  int64_t max_blocks_;
  nn::KvCache cache_;
};

}  // namespace wick::serve
