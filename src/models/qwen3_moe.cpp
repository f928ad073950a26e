// Qwen3-MoE: Qwen3 attention (per-head q/k RMSNorm) with a routed mixture of SwiGLU experts in
// the sparse layers (every decoder_sparse_step-th layer not in mlp_only_layers). Experts come
// one tensor per expert (HF) or as stacked (n_experts, rows, cols) tensors (GGUF *_exps).
#include <algorithm>

#include "models/decoder.h"
#include "models/registry.h"
#include "nn/moe.h"
#include "nn/weights.h"

namespace wick::models {

namespace {

ModelConfig qwen3_moe_from_hf(const HfConfig& hf) {
  ModelConfig c = parse_hf_common(hf, false);
  apply_hf_max_window_layers(hf, c);
  c.n_experts = hf.integer_or("num_experts", hf.integer_or("num_local_experts", 0));
  WICK_CHECK(c.n_experts > 0, ErrorKind::kInvalidArgument,
             "{}: num_experts (or num_local_experts) must be positive", hf.file());
  c.n_experts_used = hf.integer("num_experts_per_tok");
  c.moe_intermediate_size = hf.integer("moe_intermediate_size");
  c.norm_topk_prob = hf.boolean_or("norm_topk_prob", false);
  const int64_t step = hf.integer_or("decoder_sparse_step", 1);
  std::vector<int64_t> dense;
  if (hf.has("mlp_only_layers")) {
    const auto& list = hf.raw()["mlp_only_layers"];
    WICK_CHECK(list.is_array(), ErrorKind::kParse, "{}: mlp_only_layers is not a list", hf.file());
    for (const auto& v : list) {
      WICK_CHECK(v.is_number_integer(), ErrorKind::kParse,
                 "{}: mlp_only_layers holds a non-integer ({})", hf.file(), v.dump());
      dense.push_back(v.get<int64_t>());
    }
  }
  for (int64_t i = 0; i < c.n_layers; ++i)
    c.layer_moe.push_back(std::find(dense.begin(), dense.end(), i) == dense.end() && step > 0 &&
                          (i + 1) % step == 0);
  return c;
}

ModelConfig qwen3_moe_from_gguf(const GgufConfig& gg) {
  ModelConfig c = parse_gguf_common(gg);
  c.norm_topk_prob = true;  // llama.cpp always renormalises for qwen3moe
  c.layer_moe.assign(static_cast<size_t>(c.n_layers), true);
  return c;
}

std::unique_ptr<nn::MoeMlp> load_moe(const WeightSource& ws, const ModelConfig& c, int64_t layer) {
  auto m = std::make_unique<nn::MoeMlp>();
  const std::string p = "model.layers." + std::to_string(layer) + ".mlp";
  const int64_t H = c.hidden_size, I = c.moe_intermediate_size, E = c.n_experts;
  m->top_k = static_cast<int>(c.n_experts_used);
  m->norm_topk_prob = c.norm_topk_prob;
  const std::string blk = "blk." + std::to_string(layer);
  const bool stacked =
      !ws.contains(p + ".gate.weight") && ws.contains(blk + ".ffn_gate_inp.weight");
  m->router = nn::Linear::load(ws, stacked ? blk + ".ffn_gate_inp" : p + ".gate", E, H, false);
  Tensor gate, up, down;
  if (stacked) {
    gate = nn::load_weight(ws, blk + ".ffn_gate_exps.weight", {E, I, H});
    up = nn::load_weight(ws, blk + ".ffn_up_exps.weight", {E, I, H});
    down = nn::load_weight(ws, blk + ".ffn_down_exps.weight", {E, H, I});
  }
  for (int64_t e = 0; e < E; ++e) {
    nn::GatedMlp expert;
    expert.act = nn::activation_from_name(c.hidden_act, c.source);
    if (stacked) {
      expert.gate.weight = gate.select(0, e);
      expert.up.weight = up.select(0, e);
      expert.down.weight = down.select(0, e);
    } else {
      const std::string ep = p + ".experts." + std::to_string(e);
      expert.gate = nn::Linear::load(ws, ep + ".gate_proj", I, H, false);
      expert.up = nn::Linear::load(ws, ep + ".up_proj", I, H, false);
      expert.down = nn::Linear::load(ws, ep + ".down_proj", H, I, false);
    }
    m->experts.push_back(std::move(expert));
  }
  return m;
}

std::unique_ptr<Model> build_qwen3_moe(const ModelConfig& c, const WeightSource& ws) {
  // The expert routing (nn/moe.cpp) reads router outputs on the host.
  WICK_CHECK(nn::load_device().is_cpu(), ErrorKind::kUnsupported,
             "{}: mixture-of-experts models run on the CPU only for now (use --device cpu)",
             ws.describe());
  auto d = std::make_unique<Decoder>(c);
  load_llama_ends(ws, *d);
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i);
    DecoderLayer layer;
    layer.attn_norm = nn::Norm::rms(ws, p + ".input_layernorm", c.hidden_size, c.norm_eps);
    layer.attn = load_attention(ws, c, p + ".self_attn", i, true);
    layer.ffn_norm = nn::Norm::rms(ws, p + ".post_attention_layernorm", c.hidden_size, c.norm_eps);
    if (c.layer_moe[static_cast<size_t>(i)])
      layer.ffn = load_moe(ws, c, i);
    else
      layer.ffn = load_gated_mlp(ws, c, p + ".mlp", c.intermediate_size);
    d->layers.push_back(std::move(layer));
  }
  return d;
}

}  // namespace

extern const Architecture kQwen3Moe{"qwen3_moe",         {"Qwen3MoeForCausalLM", "qwen3_moe"},
                                    {"qwen3moe"},        qwen3_moe_from_hf,
                                    qwen3_moe_from_gguf, build_qwen3_moe};

}  // namespace wick::models
