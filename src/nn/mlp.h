// Feed-forward blocks: gated (SwiGLU, GeGLU-tanh: down(act(gate(x)) * up(x))), plain two-layer
// (GPT-2: proj(act(fc(x)))), and a routed mixture of gated experts (nn/moe.h). One small virtual
// interface so a decoder layer can hold whichever its architecture uses.
#pragma once

#include <string>

#include "core/tensor.h"
#include "nn/linear.h"

namespace wick::nn {

enum class Activation { kSilu, kGeluTanh, kGeluErf, kRelu };

// HF `hidden_act` names: silu/swish, gelu_pytorch_tanh/gelu_new/gelu_fast, gelu, relu.
Activation activation_from_name(const std::string& name, const std::string& file);
Tensor activate(const Tensor& x, Activation act);

class FeedForward {
 public:
  virtual ~FeedForward() = default;
  // x: (N, hidden) f32 -> (N, hidden) f32
  virtual Tensor operator()(const Tensor& x) const = 0;
};

struct GatedMlp : FeedForward {
  Linear gate, up, down;
  Activation act = Activation::kSilu;
  Tensor operator()(const Tensor& x) const override;
};

struct PlainMlp : FeedForward {
  Linear fc, proj;
  Activation act = Activation::kGeluTanh;
  Tensor operator()(const Tensor& x) const override;
};

}  // namespace wick::nn
