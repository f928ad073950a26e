// The kernel table: {op, device type, dtype} -> a reference kernel and an optional fast kernel.
// The dtype key is the op's "primary" dtype as documented in ops.h (the weight's for kLinear,
// the source's for kCast, the input's otherwise). Fast kernels may decline a call they do not
// handle (returning false), in which case the reference runs.
#pragma once

#include "backend/op.h"

namespace wick {

// A fast kernel returns false to decline (e.g. non-contiguous input), so it can specialise freely.
using FastKernelFn = bool (*)(const OpCall& call);

struct KernelEntry {
  KernelFn reference = nullptr;
  FastKernelFn fast = nullptr;
};

void register_reference_kernel(Op op, DeviceType device, DType dtype, KernelFn fn);
void register_fast_kernel(Op op, DeviceType device, DType dtype, FastKernelFn fn);
const KernelEntry& find_kernel(Op op, DeviceType device, DType dtype);

// When set (or WICK_REFERENCE_KERNELS=1 in the environment), only reference kernels run.
void set_force_reference_kernels(bool force);
bool force_reference_kernels();

// Runs the call: fast kernel unless forced off or declined, else the reference. Throws
// kUnsupported naming op/device/dtype when no kernel exists.
void run_kernel(Op op, DeviceType device, DType dtype, const OpCall& call);
// Runs only the reference kernel (the op-parity harness compares against this).
void run_reference_kernel(Op op, DeviceType device, DType dtype, const OpCall& call);

// Backends with a packed layout for linear weights (ops.h prepare_linear_weight) register how to
// make it and how to undo it (the reference kernels and declined fast paths read the plain one).
struct WeightPacker {
  Tensor (*pack)(const Tensor& w);    // w itself when it has no packed form here
  Tensor (*unpack)(const Tensor& w);  // a plain-layout copy of a packed w (any row view of it)
};
void register_weight_packer(DeviceType device, WeightPacker packer);
const WeightPacker* find_weight_packer(DeviceType device);  // null when none registered
inline bool is_packed(const Tensor& t) {
  return t.defined() && t.storage()->packed_layout() != 0;
}

// Helper for static registration in backend translation units.
struct KernelRegistrar {
  KernelRegistrar(Op op, DeviceType device, DType dtype, KernelFn fn) {
    register_reference_kernel(op, device, dtype, fn);
  }
  KernelRegistrar(Op op, DeviceType device, DType dtype, FastKernelFn fn) {
    register_fast_kernel(op, device, dtype, fn);
  }
};

}  // namespace wick
