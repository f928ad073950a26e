// Kernel table storage: a dense array indexed by op, device type and dtype.
#include "backend/kernel_table.h"

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace wick {
namespace {

using Table = std::array<KernelEntry, static_cast<size_t>(kOpCount) * kDeviceTypeCount * kDTypeCount>;

Table& table() {
  static Table t{};
  return t;
}

size_t slot(Op op, DeviceType device, DType dtype) {
  return (static_cast<size_t>(op) * kDeviceTypeCount + static_cast<size_t>(device)) * kDTypeCount +
         static_cast<size_t>(dtype);
}

std::atomic<int>& force_flag() {
  static std::atomic<int> flag{[] {
    const char* env = std::getenv("WICK_REFERENCE_KERNELS");
    return env != nullptr && std::strcmp(env, "0") != 0 && env[0] != '\0' ? 1 : 0;
  }()};
  return flag;
}

const char* device_type_name(DeviceType device) {
  return device == DeviceType::kCpu ? "cpu" : "cuda";
}

std::array<WeightPacker, kDeviceTypeCount>& packers() {
  static std::array<WeightPacker, kDeviceTypeCount> table{};
  return table;
}

// Packed weights (prepare_linear_weight) are only valid as linear's weight operand.
void check_packed_inputs(Op op, const OpCall& call) {
  for (size_t i = 0; i < call.inputs.size(); ++i)
    if (is_packed(call.inputs[i]) && !(op == Op::kLinear && i == 1))
      fail(ErrorKind::kUnsupported,
           "{}: input {} is a linear weight in a backend's packed layout (only linear reads it; "
           "unpack_linear_weight() gives the plain tensor)",
           op_name(op), i);
}

}  // namespace

void register_reference_kernel(Op op, DeviceType device, DType dtype, KernelFn fn) {
  table()[slot(op, device, dtype)].reference = fn;
}

void register_fast_kernel(Op op, DeviceType device, DType dtype, FastKernelFn fn) {
  table()[slot(op, device, dtype)].fast = fn;
}

const KernelEntry& find_kernel(Op op, DeviceType device, DType dtype) {
  return table()[slot(op, device, dtype)];
}

void set_force_reference_kernels(bool force) { force_flag().store(force ? 1 : 0); }
bool force_reference_kernels() { return force_flag().load() != 0; }

void register_weight_packer(DeviceType device, WeightPacker packer) {
  packers()[static_cast<size_t>(device)] = packer;
}

const WeightPacker* find_weight_packer(DeviceType device) {
  const WeightPacker& p = packers()[static_cast<size_t>(device)];
  return p.pack != nullptr ? &p : nullptr;
}

void run_kernel(Op op, DeviceType device, DType dtype, const OpCall& call) {
  check_packed_inputs(op, call);
  const KernelEntry& entry = find_kernel(op, device, dtype);
  if (entry.fast != nullptr && !force_reference_kernels() && entry.fast(call)) return;
  run_reference_kernel(op, device, dtype, call);
}

void run_reference_kernel(Op op, DeviceType device, DType dtype, const OpCall& call) {
  const KernelEntry& entry = find_kernel(op, device, dtype);
  WICK_CHECK(entry.reference != nullptr, ErrorKind::kUnsupported,
             "no {} kernel for {} on {}", op_name(op), dtype_name(dtype), device_type_name(device));
  if (op == Op::kLinear && call.inputs.size() > 1 && is_packed(call.inputs[1])) {
    // The reference reads the plain layout: undo the packing for this call.
    const WeightPacker* packer = find_weight_packer(device);
    WICK_CHECK(packer != nullptr, ErrorKind::kUnsupported, "linear: packed weight on {}",
               device_type_name(device));
    std::vector<Tensor> inputs(call.inputs.begin(), call.inputs.end());
    inputs[1] = packer->unpack(inputs[1]);
    entry.reference(OpCall{op, inputs, call.outputs, call.attrs});
    return;
  }
  entry.reference(call);
}

const char* op_name(Op op) {
  static constexpr const char* kNames[] = {
      "copy", "cast", "fill", "add", "sub", "mul", "div", "maximum", "minimum", "neg", "exp",
      "log", "sqrt", "rsqrt", "tanh", "sigmoid", "silu", "gelu_erf", "gelu_tanh", "relu", "abs",
      "sqr", "sum", "mean", "max", "min", "argmax", "softmax", "log_softmax", "rms_norm",
      "layer_norm", "rope", "matmul", "linear", "index_select", "gather", "concat", "where",
      "attention_mask", "topk", "cumsum", "attention", "store_rows", "gated_act", "add_rms_norm"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == kOpCount, "op names out of sync with Op");
  const auto i = static_cast<size_t>(op);
  return i < static_cast<size_t>(kOpCount) ? kNames[i] : "unknown";
}

}  // namespace wick
