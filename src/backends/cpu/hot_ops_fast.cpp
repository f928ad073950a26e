// Fast CPU kernels for the hot f32 ops of a decoder step: add and mul (same shape, one row
// broadcast over rows, or a scalar), silu, softmax and rms_norm over contiguous rows. Picks the
// AVX-512 or AVX2 build of hot_ops_impl.h at run time and splits large tensors over threads;
// declines every other layout or dtype (the reference kernels run).
#include <algorithm>

#include "backend/kernel_table.h"
#include "backends/cpu/hot_ops_simd.h"
#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace wick::cpu {
namespace {

constexpr int64_t kGrainElems = int64_t{1} << 15;  // below ~128 KiB a thread hand-off does not pay

const HotOpKernels* simd_kernels() {
  static const HotOpKernels* const kernels = []() -> const HotOpKernels* {
    const CpuFeatures& f = cpu_features();
    if (f.has_avx512_set()) return &avx512::kHotOpKernels;
    if (f.has_avx2_set()) return &avx2::kHotOpKernels;
    return nullptr;
  }();
  return kernels;
}

enum class Layout { kContiguous, kRow, kScalar, kOther };

// How an input already broadcast to the output's shape walks memory.
Layout classify(const Tensor& t) {
  if (t.is_contiguous()) return Layout::kContiguous;
  bool all_zero = true, row = true;
  const int r = t.rank();
  for (int d = 0; d < r; ++d) {
    if (t.shape()[d] == 1 || t.strides()[d] == 0) continue;
    all_zero = false;
    if (d != r - 1 || t.strides()[d] != 1) row = false;
  }
  if (all_zero) return Layout::kScalar;
  return row ? Layout::kRow : Layout::kOther;
}

const float* f32_ptr(const Tensor& t) {
  return static_cast<const float*>(t.storage()->data()) + t.offset();
}
float* f32_out(const Tensor& t) {
  return static_cast<float*>(t.storage()->data()) + t.offset();
}

int64_t last_dim(const Tensor& t) {
  return t.rank() == 0 ? 1 : t.shape().back();
}

// fn(begin, end) over [0, n) in chunks of at least `grain`.
template <class Fn>
void split(int64_t n, int64_t grain, Fn&& fn) {
  parallel_for(n, std::max<int64_t>(1, grain), fn);
}

// a, b: out's shape (broadcast views); out contiguous. mul: true for kMul, else kAdd.
bool binary_fast(const OpCall& call, bool mul) {
  const HotOpKernels* k = simd_kernels();
  const Tensor* a = &call.inputs[0];
  const Tensor* b = &call.inputs[1];
  Tensor& out = call.outputs[0];
  if (k == nullptr || !out.is_contiguous()) return false;
  Layout la = classify(*a), lb = classify(*b);
  if (la != Layout::kContiguous) {  // both ops commute: put the contiguous operand first
    std::swap(a, b);
    std::swap(la, lb);
  }
  if (la != Layout::kContiguous || lb == Layout::kOther) return false;
  const int64_t n = out.numel();
  if (n == 0) return true;
  const float* pa = f32_ptr(*a);
  const float* pb = f32_ptr(*b);
  float* po = f32_out(out);
  const auto rows_fn = mul ? k->mul_rows : k->add_rows;
  if (lb == Layout::kContiguous) {
    split(n, kGrainElems,
          [&](int64_t s, int64_t e) { rows_fn(pa + s, pb + s, 0, po + s, 1, e - s); });
  } else if (lb == Layout::kScalar) {
    const float s_val = *pb;
    const auto scalar_fn = mul ? k->mul_scalar : k->add_scalar;
    split(n, kGrainElems, [&](int64_t s, int64_t e) { scalar_fn(pa + s, s_val, po + s, e - s); });
  } else {
    const int64_t d = last_dim(out);
    split(n / d, kGrainElems / d,
          [&](int64_t s, int64_t e) { rows_fn(pa + s * d, pb, 0, po + s * d, e - s, d); });
  }
  return true;
}

bool add_fast(const OpCall& call) {
  return binary_fast(call, false);
}
bool mul_fast(const OpCall& call) {
  return binary_fast(call, true);
}

bool silu_fast(const OpCall& call) {
  const HotOpKernels* k = simd_kernels();
  const Tensor& x = call.inputs[0];
  Tensor& out = call.outputs[0];
  if (k == nullptr || !x.is_contiguous() || !out.is_contiguous()) return false;
  const float* px = f32_ptr(x);
  float* po = f32_out(out);
  split(out.numel(), kGrainElems, [&](int64_t s, int64_t e) { k->silu(px + s, po + s, e - s); });
  return true;
}

// x, out: (.., D) contiguous.
bool softmax_fast(const OpCall& call) {
  const HotOpKernels* k = simd_kernels();
  const Tensor& x = call.inputs[0];
  Tensor& out = call.outputs[0];
  if (k == nullptr || x.rank() == 0 || !x.is_contiguous() || !out.is_contiguous()) return false;
  const int64_t d = last_dim(x), n = x.numel();
  if (n == 0) return true;
  const float* px = f32_ptr(x);
  float* po = f32_out(out);
  split(n / d, kGrainElems / d,
        [&](int64_t s, int64_t e) { k->softmax_rows(px + s * d, po + s * d, e - s, d); });
  return true;
}

// x, out: (.., D) contiguous; weight: (D) f32 unit-stride or undefined.
bool rms_norm_fast(const OpCall& call) {
  const HotOpKernels* k = simd_kernels();
  const Tensor& x = call.inputs[0];
  const Tensor w = call.inputs.size() > 1 ? call.inputs[1] : Tensor();
  Tensor& out = call.outputs[0];
  if (k == nullptr || x.rank() == 0 || !x.is_contiguous() || !out.is_contiguous()) return false;
  const int64_t d = last_dim(x), n = x.numel();
  if (w.defined() && (w.dtype() != DType::kF32 || (d > 1 && w.strides()[0] != 1))) return false;
  if (n == 0) return true;
  const float* px = f32_ptr(x);
  const float* pw = w.defined() ? f32_ptr(w) : nullptr;
  float* po = f32_out(out);
  const float eps = call.attrs.eps, offset = call.attrs.weight_offset;
  split(n / d, kGrainElems / d, [&](int64_t s, int64_t e) {
    k->rms_norm_rows(px + s * d, pw, offset, eps, po + s * d, e - s, d);
  });
  return true;
}

const bool kRegistered = [] {
  register_fast_kernel(Op::kAdd, DeviceType::kCpu, DType::kF32, &add_fast);
  register_fast_kernel(Op::kMul, DeviceType::kCpu, DType::kF32, &mul_fast);
  register_fast_kernel(Op::kSilu, DeviceType::kCpu, DType::kF32, &silu_fast);
  register_fast_kernel(Op::kSoftmax, DeviceType::kCpu, DType::kF32, &softmax_fast);
  register_fast_kernel(Op::kRmsNorm, DeviceType::kCpu, DType::kF32, &rms_norm_fast);
  return true;
}();

}  // namespace
}  // namespace wick::cpu
