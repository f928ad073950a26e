// Decoder::hidden_states: the decoder's blocks and final norm over one sequence's new tokens,
// without the LM head, for embeddings. Kept apart from forward() (the hot path) on purpose.
#include "backend/ops.h"
#include "models/decoder.h"

namespace wick::models {

Tensor Decoder::hidden_states(std::span<const int32_t> tokens, nn::KvCache& cache,
                              int seq_id) const {
  const ModelConfig& c = config();
  WICK_CHECK(!tokens.empty(), ErrorKind::kInvalidArgument, "hidden_states: no tokens");
  nn::SeqSlice s;
  s.seq_id = seq_id;
  s.length = static_cast<int64_t>(tokens.size());
  s.past = cache.length(seq_id);
  std::vector<int32_t> ids(tokens.begin(), tokens.end()), positions;
  for (int32_t id : ids)
    WICK_CHECK(id >= 0 && id < c.vocab_size, ErrorKind::kInvalidArgument,
               "hidden_states: token id {} outside the vocabulary [0, {})", id, c.vocab_size);
  for (int64_t i = 0; i < s.length; ++i) positions.push_back(static_cast<int32_t>(s.past + i));
  const int64_t max_position = s.past + s.length - 1;
  if (pos_embed.defined())
    WICK_CHECK(max_position < pos_embed.dim(0), ErrorKind::kInvalidArgument,
               "hidden_states: position {} beyond the model's {} learned positions", max_position,
               pos_embed.dim(0));
  const Device dev = embed.weight.device();
  Tensor pos = to_device(Tensor::from_vector<int32_t>(Shape{s.length}, positions), dev);
  Tensor x = embed_tokens(to_device(Tensor::from_vector<int32_t>(Shape{s.length}, ids), dev), pos);
  const nn::KvBatch kv = cache.prepare({&s, 1});
  for (size_t l = 0; l < layers.size(); ++l) {
    const DecoderLayer& layer = layers[l];
    Tensor h = layer.attn(layer.attn_norm(x), pos, max_position, kv, cache, static_cast<int>(l));
    if (layer.post_attn_norm.defined()) h = layer.post_attn_norm(h);
    x = add(x, h);
    h = (*layer.ffn)(layer.ffn_norm(x));
    if (layer.post_ffn_norm.defined()) h = layer.post_ffn_norm(h);
    x = add(x, h);
  }
  cache.commit(seq_id, tokens);
  return to_device(final_norm(x), Device::cpu());
}

}  // namespace wick::models
