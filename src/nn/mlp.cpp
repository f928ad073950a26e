// Feed-forward blocks (see mlp.h).
#include "nn/mlp.h"

#include "backend/ops.h"

namespace wick::nn {

Activation activation_from_name(const std::string& name, const std::string& file) {
  if (name == "silu" || name == "swish") return Activation::kSilu;
  if (name == "gelu_pytorch_tanh" || name == "gelu_new" || name == "gelu_fast" ||
      name == "gelu_tanh")
    return Activation::kGeluTanh;
  if (name == "gelu") return Activation::kGeluErf;
  if (name == "relu") return Activation::kRelu;
  fail(ErrorKind::kUnsupported, "{}: hidden_act \"{}\" is not supported", file, name);
}

Tensor activate(const Tensor& x, Activation act) {
  switch (act) {
    case Activation::kSilu:
      return silu(x);
    case Activation::kGeluTanh:
      return gelu_tanh(x);
    case Activation::kGeluErf:
      return gelu_erf(x);
    case Activation::kRelu:
      return relu(x);
  }
  fail(ErrorKind::kInternal, "unknown activation");
}

Op activation_op(Activation act) {
  switch (act) {
    case Activation::kSilu:
      return Op::kSilu;
    case Activation::kGeluTanh:
      return Op::kGeluTanh;
    case Activation::kGeluErf:
      return Op::kGeluErf;
    case Activation::kRelu:
      return Op::kRelu;
  }
  fail(ErrorKind::kInternal, "unknown activation");
}

// On a GPU the activation and the product are one fused launch (gated_act); the CPU keeps its
// fast elementwise kernels (the fused op has only the reference kernel there).
Tensor GatedMlp::operator()(const Tensor& x) const {
  if (!x.device().is_cpu()) return down(gated_act(gate(x), up(x), activation_op(act)));
  return down(mul(activate(gate(x), act), up(x)));
}

Tensor PlainMlp::operator()(const Tensor& x) const {
  return proj(activate(fc(x), act));
}

}  // namespace wick::nn
