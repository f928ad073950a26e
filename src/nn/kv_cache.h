// KV cache: for every sequence and layer, contiguous key and value buffers (T, n_kv_heads,
// head_dim) f32 that grow by doubling. Sequences are independent, so a server can batch
// sequences at different positions. The interface (append -> views, commit, truncate) is what a
// paged cache will implement too; callers never see the buffers.
#pragma once

#include <cstdint>
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

class KvCache {
 public:
  KvCache(int n_layers, int64_t n_kv_heads, int64_t head_dim);

  int n_layers() const { return n_layers_; }
  void add_sequence(int seq_id);     // throws if it exists
  void remove_sequence(int seq_id);  // frees its buffers; no-op if absent
  bool has_sequence(int seq_id) const { return seqs_.count(seq_id) != 0; }
  int64_t length(int seq_id) const;  // committed tokens
  // Forgets all but the first `length` tokens (e.g. to reuse a prompt prefix).
  void truncate(int seq_id, int64_t length);

  // Writes k, v: (n, n_kv_heads, head_dim) after the committed tokens of `layer` and returns views
  // of all keys and values, (length + n, n_kv_heads, head_dim). Called once per layer in a
  // forward; commit() then makes the n tokens part of the sequence.
  std::pair<Tensor, Tensor> append(int layer, int seq_id, const Tensor& k, const Tensor& v);
  void commit(int seq_id, int64_t n);

 private:
  struct Sequence {
    int64_t length = 0;
    int64_t capacity = 0;
    std::vector<Tensor> keys, values;  // per layer: (capacity, n_kv_heads, head_dim)
  };
  Sequence& require(int seq_id);
  const Sequence& require(int seq_id) const;
  void grow(Sequence& seq, int64_t needed);

  int n_layers_;
  int64_t n_kv_heads_;
  int64_t head_dim_;
  std::unordered_map<int, Sequence> seqs_;
};

}  // namespace wick::nn
