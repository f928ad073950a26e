// Mixture of experts (Qwen3-MoE / Mixtral style): a router scores every expert per token, the
// top-k experts by softmax probability run on that token, and their outputs are summed with the
// (optionally renormalised) probabilities as weights. Tokens are grouped by expert so each
// expert runs one linear over all the tokens routed to it.
#pragma once

#include <vector>

#include "nn/mlp.h"

namespace wick::nn {

struct MoeMlp : FeedForward {
  Linear router;                  // (n_experts, hidden)
  std::vector<GatedMlp> experts;  // n_experts
  int top_k = 2;
  bool norm_topk_prob = true;  // renormalise the chosen probabilities to sum to 1
  Tensor operator()(const Tensor& x) const override;
};

}  // namespace wick::nn
