// The shared transformer decoder: embedding (optionally scaled, optionally plus learned
// positions) -> blocks -> final norm -> LM head. A block is
//   h = x + post_attn_norm(attn(attn_norm(x)));  out = h + post_ffn_norm(ffn(ffn_norm(h)))
// with the post norms present only for Gemma-style models. Architecture files fill a Decoder
// from their weight names; helpers here load the pieces that use llama-family names.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "formats/weight_source.h"
#include "models/model.h"
#include "nn/attention.h"
#include "nn/linear.h"
#include "nn/mlp.h"
#include "nn/norm.h"

namespace wick::models {

struct DecoderLayer {
  nn::Norm attn_norm;
  nn::Attention attn;
  nn::Norm post_attn_norm;  // optional
  nn::Norm ffn_norm;
  std::unique_ptr<nn::FeedForward> ffn;
  nn::Norm post_ffn_norm;  // optional
};

class Decoder : public Model {
 public:
  explicit Decoder(ModelConfig config);
  ~Decoder() override;

  nn::Embedding embed;
  float embed_scale = 1.0f;  // Gemma: sqrt(hidden_size)
  Tensor pos_embed;          // (max_positions, hidden) f32, learned positions (GPT-2); optional
  std::vector<DecoderLayer> layers;
  nn::Norm final_norm;
  nn::Linear lm_head;

  Tensor forward(std::span<const BatchItem> batch, nn::KvCache& cache) const override;
  // Final-norm hidden states (N, hidden) f32 on the host of `tokens` appended to sequence
  // `seq_id` (the LM head is skipped): what embeddings pool (decoder_hidden.cpp).
  Tensor hidden_states(std::span<const int32_t> tokens, nn::KvCache& cache, int seq_id) const;

  // Decode steps (one token per sequence) on a GPU replay a recorded CUDA graph per batch size
  // and block-table width (decoder_step.cpp). On by default; WICK_CUDA_GRAPHS=0 turns it off.
  void set_step_graphs(bool enabled);
  bool step_graphs() const;
  // Graphs recorded so far (replays reuse them): for tests and reports.
  int64_t step_graphs_recorded() const;

 private:
  struct StepInputs;
  struct StepState;
  Tensor embed_tokens(const Tensor& ids, const Tensor& positions) const;
  // The layers, final norm and LM head over prepared inputs: logits (rows, vocab) on the device.
  Tensor run_step(const StepInputs& in, nn::KvCache& cache) const;
  std::unique_ptr<StepState> step_;  // upload staging and recorded graphs (decoder_step.cpp)
};

// ---- loading helpers for llama-style names (model.layers.N.self_attn.q_proj, ...) ----

// AttentionConfig for layer `layer`: heads, scale (config.attn_scale or 1/sqrt(head_dim)),
// softcap and the sliding window when the layer slides.
nn::AttentionConfig attention_config(const ModelConfig& c, int64_t layer);
nn::Rope rope_for_layer(const ModelConfig& c, int64_t layer);
// `<prefix>.{q,k,v,o}_proj` and, when `qk_norm`, `<prefix>.{q,k}_norm` (RMSNorm over head_dim
// with `norm_offset`).
nn::Attention load_attention(const WeightSource& ws, const ModelConfig& c,
                             const std::string& prefix, int64_t layer, bool qk_norm,
                             float norm_offset = 0.0f);
// `<prefix>.{gate,up,down}_proj` with the config's activation.
std::unique_ptr<nn::GatedMlp> load_gated_mlp(const WeightSource& ws, const ModelConfig& c,
                                             const std::string& prefix, int64_t intermediate);
// Token embedding `model.embed_tokens.weight`, `model.norm` and the LM head (tied or
// `lm_head.weight`) for a decoder with RMS norms.
void load_llama_ends(const WeightSource& ws, Decoder& d, float norm_offset = 0.0f);

}  // namespace wick::models
