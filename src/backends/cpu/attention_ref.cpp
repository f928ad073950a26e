// Reference kernels for attention over a KV pool (ops.h: attention, store_rows). The plain
// formula per sequence, query and head, in double: scores over the visible keys, optional
// soft-cap, softmax, weighted sum of values. Fast kernels (attention_fast.cpp) are tested
// against this one.
#include <cmath>
#include <limits>
#include <vector>

#include "backend/kernel_table.h"
#include "backends/cpu/dispatch.h"

namespace wick::cpu {
namespace {

template <class T>
void attention_ref_typed(const OpCall& call) {
  const Tensor& q = call.inputs[0];
  const T* kp = typed<T>(call.inputs[1]) + call.inputs[1].offset();
  const T* vp = typed<T>(call.inputs[2]) + call.inputs[2].offset();
  const Tensor& table = call.inputs[3];
  const Tensor& seqs = call.inputs[4];
  const float* pq = typed<float>(q) + q.offset();
  const int32_t* pt = typed<int32_t>(table) + table.offset();
  const int32_t* ps = typed<int32_t>(seqs) + seqs.offset();
  float* po = typed<float>(call.outputs[0]) + call.outputs[0].offset();
  const int64_t H = q.dim(1), D = q.dim(2), KVH = call.inputs[1].dim(1), M = table.dim(1);
  const int64_t group = H / KVH, bs = call.attrs.block_size, window = call.attrs.mask_window;
  const double scale = call.attrs.attn_scale, cap = call.attrs.attn_softcap;
  std::vector<double> scores;
  for (int64_t b = 0; b < seqs.dim(0); ++b) {
    const int64_t begin = ps[b * 3], len = ps[b * 3 + 1], past = ps[b * 3 + 2];
    const auto row_of = [&](int64_t t) { return pt[b * M + t / bs] * bs + t % bs; };
    for (int64_t i = 0; i < len; ++i) {
      const int64_t pos = past + i;
      const int64_t lo = window > 0 ? std::max<int64_t>(0, pos - window + 1) : 0;
      for (int64_t h = 0; h < H; ++h) {
        const float* qh = pq + ((begin + i) * H + h) * D;
        const int64_t g = h / group;
        scores.assign(static_cast<size_t>(pos + 1 - lo), 0.0);
        double max = -std::numeric_limits<double>::infinity();
        for (int64_t t = lo; t <= pos; ++t) {
          const T* kr = kp + (row_of(t) * KVH + g) * D;
          double s = 0;
          for (int64_t d = 0; d < D; ++d) s += static_cast<double>(qh[d]) * load(kr[d]);
          s *= scale;
          if (cap > 0) s = cap * std::tanh(s / cap);
          scores[static_cast<size_t>(t - lo)] = s;
          max = std::max(max, s);
        }
        double sum = 0;
        for (double& s : scores) sum += (s = std::exp(s - max));
        float* oh = po + ((begin + i) * H + h) * D;
        for (int64_t d = 0; d < D; ++d) {
          double acc = 0;
          for (int64_t t = lo; t <= pos; ++t)
            acc += scores[static_cast<size_t>(t - lo)] * load(vp[(row_of(t) * KVH + g) * D + d]);
          oh[d] = static_cast<float>(acc / sum);
        }
      }
    }
  }
}

void attention_ref(const OpCall& call) {
  dispatch_float(call.inputs[1].dtype(), [&]<class T>() { attention_ref_typed<T>(call); });
}

// inputs: rows (N, ...) f32 contiguous, index (N) i32; outputs: pool (S, ...) contiguous.
void store_rows_ref(const OpCall& call) {
  const Tensor& rows = call.inputs[0];
  const Tensor& index = call.inputs[1];
  const Tensor& pool = call.outputs[0];
  const int64_t n = rows.dim(0), width = rows.numel() / std::max<int64_t>(1, n);
  const float* pr = typed<float>(rows) + rows.offset();
  const int32_t* pi = typed<int32_t>(index) + index.offset();
  dispatch_float(pool.dtype(), [&]<class T>() {
    T* pp = typed<T>(pool) + pool.offset();
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < width; ++j) store(pp[pi[i] * width + j], pr[i * width + j]);
  });
}

const bool kRegistered = [] {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    register_reference_kernel(Op::kAttention, DeviceType::kCpu, dt, &attention_ref);
    register_reference_kernel(Op::kStoreRows, DeviceType::kCpu, dt, &store_rows_ref);
  }
  return true;
}();

}  // namespace
}  // namespace wick::cpu
