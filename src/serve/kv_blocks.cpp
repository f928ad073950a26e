// KV block accounting for the engine (see kv_blocks.h).
#include "serve/kv_blocks.h"

#include <limits>

namespace wick::serve {

namespace {

nn::KvCacheOptions cache_options(int64_t block_size, int64_t max_blocks, bool prefix_caching,
                                 Device device) {
  WICK_CHECK(block_size > 0, ErrorKind::kInvalidArgument, "kv block size {} must be > 0",
             block_size);
  WICK_CHECK(max_blocks >= 0, ErrorKind::kInvalidArgument, "kv blocks {} must be >= 0", max_blocks);
  nn::KvCacheOptions o;
  o.block_size = block_size;
  o.max_blocks = max_blocks;
  o.prefix_caching = prefix_caching;
  o.device = device;  // the pool lives with the weights (GPU memory for a model on the GPU)
  return o;
}

}  // namespace

KvBlocks::KvBlocks(const models::Model& model, int64_t block_size, int64_t max_blocks,
                   bool prefix_caching)
    : max_blocks_(max_blocks),
      cache_(model.make_cache(cache_options(block_size, max_blocks, prefix_caching, model.device()))) {}

int64_t KvBlocks::free_blocks() const {
  if (!bounded()) return std::numeric_limits<int64_t>::max() / 4;
  return cache_.free_blocks();
}

}  // namespace wick::serve
