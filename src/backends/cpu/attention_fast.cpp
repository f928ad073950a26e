// Fast CPU kernel for attention over a KV pool: picks the AVX-512 or AVX2 build of
// attention_impl.h at run time and splits the work into (sequence, KV head, query chunk) items
// over the thread pool. Declines without AVX2 (the reference runs).
#include <vector>

#include "backend/kernel_table.h"
#include "backends/cpu/attention_simd.h"
#include "backends/cpu/dispatch.h"
#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace wick::cpu {
namespace {

constexpr int64_t kQueriesPerItem = 16;

const AttentionKernels* simd_kernels() {
  static const AttentionKernels* const kernels = []() -> const AttentionKernels* {
    const CpuFeatures& f = cpu_features();
    if (f.has_avx512_set()) return &avx512::kAttentionKernels;
    if (f.has_avx2_set()) return &avx2::kAttentionKernels;
    return nullptr;
  }();
  return kernels;
}

struct WorkItem {
  int64_t b, g, i0, i1;
};

bool attention_fast(const OpCall& call) {
  const AttentionKernels* k = simd_kernels();
  if (k == nullptr) return false;
  const Tensor& q = call.inputs[0];
  const Tensor& kp = call.inputs[1];
  const Tensor& table = call.inputs[3];
  const Tensor& seqs = call.inputs[4];
  AttentionArgs a;
  a.q = typed<float>(q) + q.offset();
  a.k_pool = static_cast<const uint8_t*>(kp.storage()->data()) +
             static_cast<size_t>(dtype_bytes_for(kp.dtype(), static_cast<uint64_t>(kp.offset())));
  a.v_pool = static_cast<const uint8_t*>(call.inputs[2].storage()->data()) +
             static_cast<size_t>(
                 dtype_bytes_for(kp.dtype(), static_cast<uint64_t>(call.inputs[2].offset())));
  a.table = typed<int32_t>(table) + table.offset();
  a.seqs = typed<int32_t>(seqs) + seqs.offset();
  a.out = typed<float>(call.outputs[0]) + call.outputs[0].offset();
  a.H = q.dim(1);
  a.D = q.dim(2);
  a.KVH = kp.dim(1);
  a.M = table.dim(1);
  a.block_size = call.attrs.block_size;
  a.window = call.attrs.mask_window;
  a.scale = call.attrs.attn_scale;
  a.softcap = call.attrs.attn_softcap;
  a.pool_dtype = kp.dtype();
  std::vector<WorkItem> items;
  for (int64_t b = 0; b < seqs.dim(0); ++b) {
    const int64_t len = a.seqs[b * 3 + 1];
    for (int64_t g = 0; g < a.KVH; ++g)
      for (int64_t i = 0; i < len; i += kQueriesPerItem)
        items.push_back({b, g, i, std::min(len, i + kQueriesPerItem)});
  }
  parallel_for(static_cast<int64_t>(items.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t w = begin; w < end; ++w) {
      const WorkItem& it = items[static_cast<size_t>(w)];
      k->run(a, it.b, it.g, it.i0, it.i1);
    }
  });
  return true;
}

const bool kRegistered = [] {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16})
    register_fast_kernel(Op::kAttention, DeviceType::kCpu, dt, &attention_fast);
  return true;
}();

}  // namespace
}  // namespace wick::cpu
