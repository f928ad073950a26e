// Contiguous per-sequence KV cache (see kv_cache.h).
#include "nn/kv_cache.h"

#include <algorithm>

#include "backend/ops.h"

namespace wick::nn {

KvCache::KvCache(int n_layers, int64_t n_kv_heads, int64_t head_dim)
    : n_layers_(n_layers), n_kv_heads_(n_kv_heads), head_dim_(head_dim) {}

void KvCache::add_sequence(int seq_id) {
  WICK_CHECK(!has_sequence(seq_id), ErrorKind::kInvalidArgument,
             "kv cache: sequence {} already exists", seq_id);
  Sequence seq;
  seq.keys.resize(static_cast<size_t>(n_layers_));
  seq.values.resize(static_cast<size_t>(n_layers_));
  seqs_.emplace(seq_id, std::move(seq));
}

void KvCache::remove_sequence(int seq_id) {
  seqs_.erase(seq_id);
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

void KvCache::truncate(int seq_id, int64_t length) {
  Sequence& seq = require(seq_id);
  WICK_CHECK(length >= 0 && length <= seq.length, ErrorKind::kInvalidArgument,
             "kv cache: truncate sequence {} to {} tokens, it holds {}", seq_id, length,
             seq.length);
  seq.length = length;
}

// Doubles capacity (at least `needed`), copying the committed rows of every layer.
void KvCache::grow(Sequence& seq, int64_t needed) {
  const int64_t capacity = std::max<int64_t>({needed, 2 * seq.capacity, 64});
  for (int l = 0; l < n_layers_; ++l) {
    for (auto* buffers : {&seq.keys, &seq.values}) {
      Tensor& old = (*buffers)[static_cast<size_t>(l)];
      Tensor fresh = Tensor::empty(Shape{capacity, n_kv_heads_, head_dim_}, DType::kF32);
      if (old.defined() && seq.length > 0) {
        Tensor dst = fresh.narrow(0, 0, seq.length);
        copy_into(old.narrow(0, 0, seq.length), dst);
      }
      old = fresh;
    }
  }
  seq.capacity = capacity;
}

std::pair<Tensor, Tensor> KvCache::append(int layer, int seq_id, const Tensor& k, const Tensor& v) {
  WICK_CHECK(layer >= 0 && layer < n_layers_, ErrorKind::kInvalidArgument,
             "kv cache: layer {} outside [0, {})", layer, n_layers_);
  Sequence& seq = require(seq_id);
  const int64_t n = k.dim(0);
  const Shape want{n, n_kv_heads_, head_dim_};
  WICK_CHECK(k.shape() == want && v.shape() == want, ErrorKind::kInvalidArgument,
             "kv cache: append k {} v {}, expected {}", k.shape().str(), v.shape().str(),
             want.str());
  if (seq.length + n > seq.capacity) grow(seq, seq.length + n);
  Tensor& keys = seq.keys[static_cast<size_t>(layer)];
  Tensor& values = seq.values[static_cast<size_t>(layer)];
  Tensor k_dst = keys.narrow(0, seq.length, n);
  Tensor v_dst = values.narrow(0, seq.length, n);
  copy_into(k, k_dst);
  copy_into(v, v_dst);
  return {keys.narrow(0, 0, seq.length + n), values.narrow(0, 0, seq.length + n)};
}

void KvCache::commit(int seq_id, int64_t n) {
  Sequence& seq = require(seq_id);
  WICK_CHECK(n >= 0 && seq.length + n <= seq.capacity, ErrorKind::kInternal,
             "kv cache: commit {} tokens to sequence {} beyond its appended rows", n, seq_id);
  seq.length += n;
}

}  // namespace wick::nn
