// KV cache: a paged pool. Per layer, keys and values live in pools of rows (S, n_kv_heads,
// head_dim) split into fixed-size blocks; each sequence owns a list of blocks (its block table),
// so sequences of any length share one pool without fragmentation, as vLLM's PagedAttention.
// Full blocks are content-addressed (a hash chained over the tokens of the prefix), so a new
// sequence that starts with a cached prefix shares those blocks instead of recomputing them
// (automatic prefix caching); blocks no sequence uses stay cached until the pool needs them (LRU).
// A forward calls prepare() once (reserves blocks, builds the tables the attention op reads),
// store() per layer, then commit() per sequence with the tokens it ran.
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace wick::nn {

// One sequence's rows in a flattened batch of N tokens.
struct SeqSlice {
  int seq_id = 0;
  int64_t begin = 0;   // first row in the batch
  int64_t length = 0;  // new tokens
  int64_t past = 0;    // tokens already in the cache; the new ones sit at positions past + i
};

struct KvCacheOptions {
  int64_t block_size = 16;        // tokens per block
  int64_t max_blocks = 0;         // pool size; 0: the pool grows on demand (doubling)
  Device device = Device::cpu();  // where the pools live
  DType dtype = DType::kF32;      // f32, f16 or bf16
  bool prefix_caching = true;     // content-address full blocks for reuse by later sequences
};

// The tables one forward's attention reads, on the cache's device (see ops.h: attention).
struct KvBatch {
  Tensor slots;        // (N) i32: the pool row of each new token
  Tensor block_table;  // (B, M) i32: per sequence of the batch, its blocks
  Tensor seqs;         // (B, 3) i32: q_begin, q_len, past
  int64_t max_q_len = 0;  // the largest q_len in seqs (0: not known on the host)
};

// The same tables on the host, as prepare_host() builds them: slots (N), block_table (batch x
// columns, unused entries 0) and seqs (batch x 3), row-major i32.
struct KvBatchHost {
  std::vector<int32_t> slots, block_table, seqs;
  int64_t batch = 0, columns = 0;
};

class KvCache {
 public:
  KvCache(int n_layers, int64_t n_kv_heads, int64_t head_dim, KvCacheOptions options = {});

  int n_layers() const { return n_layers_; }
  const KvCacheOptions& options() const { return opt_; }
  void add_sequence(int seq_id);     // throws if it exists
  void remove_sequence(int seq_id);  // releases its blocks (full ones stay cached); no-op if absent
  bool has_sequence(int seq_id) const { return seqs_.count(seq_id) != 0; }
  int64_t length(int seq_id) const;  // committed tokens
  // Forgets all but the first `length` tokens (e.g. to reuse a prompt prefix).
  void truncate(int seq_id, int64_t length);

  // ---- blocks ----
  int64_t block_size() const { return opt_.block_size; }
  int64_t total_blocks() const { return static_cast<int64_t>(blocks_.size()); }
  int64_t used_blocks() const { return used_; }  // held by at least one sequence
  int64_t cached_blocks() const { return static_cast<int64_t>(evictable_.size()); }
  // Blocks a new allocation can take now: never-used, freed, and cached-but-unused ones. With a
  // growing pool (max_blocks == 0) more are made on demand.
  int64_t free_blocks() const { return total_blocks() - used_; }
  // Blocks that appending n_new tokens to the sequence would allocate (0 for unknown ids: the
  // count for a fresh sequence is blocks_for(n_new)).
  int64_t blocks_needed(int seq_id, int64_t n_new) const;
  int64_t blocks_for(int64_t tokens) const { return (tokens + block_size() - 1) / block_size(); }
  int64_t bytes_per_block() const;
  static int64_t bytes_per_block(int n_layers, int64_t n_kv_heads, int64_t head_dim, DType dtype,
                                 int64_t block_size);

  // Automatic prefix caching: on an empty sequence, shares the cached blocks that hold the
  // longest block-aligned prefix of `tokens` (leaving at least the last token to run, so the
  // caller gets its logits). Returns the number of tokens now in the cache.
  int64_t attach_prefix(int seq_id, std::span<const int32_t> tokens);

  // ---- one forward ----
  // Reserves blocks for every slice's new tokens (throws kOutOfMemory naming the sequence when
  // a bounded pool has no free block; nothing committed is lost) and builds the tables.
  KvBatch prepare(std::span<const SeqSlice> slices);
  // prepare() without the upload: the caller moves the tables to the device (e.g. with its other
  // step inputs in one copy). The block table gets at least `min_columns` columns.
  KvBatchHost prepare_host(std::span<const SeqSlice> slices, int64_t min_columns = 0);
  // Writes this layer's new keys and values, (N, n_kv_heads, head_dim), into their slots.
  void store(int layer, const KvBatch& batch, const Tensor& k, const Tensor& v);
  const Tensor& keys(int layer) const { return k_pools_[static_cast<size_t>(layer)]; }
  const Tensor& values(int layer) const { return v_pools_[static_cast<size_t>(layer)]; }
  // Makes the sequence's next tokens (already stored by a forward) part of it.
  void commit(int seq_id, std::span<const int32_t> tokens);

 private:
  struct Block {
    int32_t refs = 0;
    bool hashed = false;  // registered in by_hash_ (a full block with known content)
    uint64_t hash = 0;
    uint64_t last_use = 0;
    std::vector<int32_t> tokens;  // content of a hashed block (guards against hash collisions)
  };
  struct Sequence {
    int64_t length = 0;
    std::vector<int32_t> blocks;  // may run past length: reserved by prepare()
    std::vector<int32_t> tokens;  // committed ids
    std::vector<uint64_t> chain;  // hash of each full block's prefix
  };
  Sequence& require(int seq_id);
  const Sequence& require(int seq_id) const;
  int32_t allocate(int seq_id);
  void release(int32_t block);
  void unhash(int32_t block);
  void grow_pool(int64_t min_blocks, bool exact = false);  // exact: exactly min_blocks
  void copy_block(int32_t from, int32_t to);
  // Copy-on-write: a block other sequences share is replaced by this sequence's own copy.
  void make_own(int seq_id, int32_t& block);
  uint64_t chain_hash(uint64_t prev, std::span<const int32_t> tokens) const;

  int n_layers_;
  int64_t n_kv_heads_;
  int64_t head_dim_;
  KvCacheOptions opt_;
  std::vector<Tensor> k_pools_, v_pools_;  // per layer: (blocks * block_size, n_kv_heads, D)
  std::vector<Block> blocks_;
  std::vector<int32_t> free_;                         // unused, not cached
  std::set<std::pair<uint64_t, int32_t>> evictable_;  // (last_use, block): cached, unused
  std::unordered_map<uint64_t, int32_t> by_hash_;
  std::unordered_map<int, Sequence> seqs_;
  int64_t used_ = 0;
  uint64_t clock_ = 0;
};

}  // namespace wick::nn
