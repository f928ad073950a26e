// KV block accounting for the engine (see kv_blocks.h). `PagedKv` detects the paged cache's
// block API at compile time, so this file is the only one that changes when the cache does.
#include "serve/kv_blocks.h"

#include <limits>

namespace wick::serve {

namespace {

template <class C>
concept PagedKv = requires(C& c, const C& cc, std::span<const int32_t> t) {
  cc.free_blocks();
  cc.used_blocks();
  cc.total_blocks();
  cc.blocks_needed(0, int64_t{1});
  c.attach_prefix(0, t);
};

constexpr bool kPaged = PagedKv<nn::KvCache>;
constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max() / 4;

template <class C>
C make_cache(const models::Model& model, int64_t block_size, int64_t max_blocks) {
  if constexpr (PagedKv<C>) {
    nn::KvCacheOptions o;
    o.block_size = block_size;
    o.max_blocks = max_blocks;
    return model.make_cache(o);
  } else {
    (void)block_size;
    (void)max_blocks;
    return model.make_cache();
  }
}

}  // namespace

KvBlocks::KvBlocks(const models::Model& model, int64_t block_size, int64_t max_blocks)
    : block_size_(block_size),
      max_blocks_(max_blocks),
      cache_(make_cache<nn::KvCache>(model, block_size, max_blocks)) {
  WICK_CHECK(block_size > 0, ErrorKind::kInvalidArgument, "kv block size {} must be > 0",
             block_size);
  WICK_CHECK(max_blocks >= 0, ErrorKind::kInvalidArgument, "kv blocks {} must be >= 0", max_blocks);
}

int64_t KvBlocks::total_blocks() const {
  if constexpr (kPaged) return cache_.total_blocks();
  return bounded() ? max_blocks_ : held_total_;
}

int64_t KvBlocks::used_blocks() const {
  if constexpr (kPaged) return cache_.used_blocks();
  return held_total_;
}

int64_t KvBlocks::free_blocks() const {
  if (!bounded()) return kUnbounded;
  if constexpr (kPaged) return cache_.free_blocks();
  return max_blocks_ - held_total_;
}

int64_t KvBlocks::blocks_needed(int seq_id, int64_t n_new) const {
  if constexpr (kPaged) return cache_.blocks_needed(seq_id, n_new);
  const int64_t len = cache_.has_sequence(seq_id) ? cache_.length(seq_id) : 0;
  return blocks_for(len + n_new) - blocks_for(len);
}

void KvBlocks::add(int seq_id) {
  cache_.add_sequence(seq_id);
  if constexpr (!kPaged) held_[seq_id] = 0;
}

void KvBlocks::remove(int seq_id) {
  cache_.remove_sequence(seq_id);
  if constexpr (!kPaged) {
    auto it = held_.find(seq_id);
    if (it != held_.end()) {
      held_total_ -= it->second;
      held_.erase(it);
    }
  }
}

int64_t KvBlocks::attach_prefix(int seq_id, std::span<const int32_t> tokens) {
  if constexpr (kPaged) {
    const int64_t cached = cache_.attach_prefix(seq_id, tokens);
    return cached;
  } else {
    (void)seq_id;
    (void)tokens;
    return 0;
  }
}

void KvBlocks::committed(int seq_id) {
  if constexpr (!kPaged) {
    int64_t& held = held_[seq_id];
    const int64_t now = blocks_for(cache_.length(seq_id));
    held_total_ += now - held;
    held = now;
  } else {
    (void)seq_id;
  }
}

}  // namespace wick::serve
