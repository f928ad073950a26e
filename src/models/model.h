// Model: a causal LM that maps a batch of token chunks, each appended to its own sequence's KV
// cache, to logits. One prompt is a batch of one item; a server with continuous batching passes
// several sequences at different positions in one call (prefill chunks and decode steps mixed).
#pragma once

#include <cstdint>
#include <span>

#include "core/tensor.h"
#include "models/config.h"
#include "nn/kv_cache.h"

namespace wick::models {

struct BatchItem {
  int seq_id = 0;
  std::span<const int32_t> tokens;  // new tokens, appended after what the sequence's cache holds
  bool all_logits = false;          // logits for every token (else only the last)
};

class Model {
 public:
  explicit Model(ModelConfig config) : config_(std::move(config)) {}
  virtual ~Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const { return config_; }
  // Where the weights live (models::load_model sets it); forward() runs there.
  Device device() const { return device_; }
  void set_device(Device device) { device_ = device; }
  // An empty cache shaped for this model, its pools on the model's device; add sequences with
  // add_sequence().
  nn::KvCache make_cache() const {
    nn::KvCacheOptions options;
    options.device = device_;
    return make_cache(options);
  }
  nn::KvCache make_cache(const nn::KvCacheOptions& options) const {
    return nn::KvCache(static_cast<int>(config_.n_layers), config_.n_kv_heads, config_.head_dim,
                       options);
  }
  // Logits (M, vocab) f32: per item in order, one row for its last token, or one per token
  // when all_logits. Commits the items' tokens to their sequences in `cache`. Every seq_id must
  // exist in the cache and appear at most once in the batch.
  virtual Tensor forward(std::span<const BatchItem> batch, nn::KvCache& cache) const = 0;

 private:
  ModelConfig config_;
  Device device_ = Device::cpu();
};

}  // namespace wick::models
