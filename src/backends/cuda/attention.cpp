// Registration of the CUDA attention and store_rows kernels (device code in attention.cu): turns
// the OpCall's tensors into AttentionArgs, plans the launch from the shapes alone (the block
// table and sequence rows stay on the device, so nothing here waits for the GPU) and allocates
// the split-KV scratch through the caching allocator.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "backend/kernel_table.h"
#include "backends/cuda/context.h"

namespace wick::cuda {
namespace {

int sm_count(int device) {
  static int counts[16] = {};
  if (device < 0 || device >= 16) return 132;
  if (counts[device] == 0) {
    int n = 0;
    check(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device), "sm count");
    counts[device] = n > 0 ? n : 1;
  }
  return counts[device];
}

template <class T>
const T* ptr(const Tensor& t) {
  return static_cast<const T*>(t.raw_data());
}

// Prefill with head_dim 64/128 goes to the tensor-core kernel (attention_tc.cu) unless
// WICK_CUDA_ATTENTION=simt asks for the f32 kernel (for comparisons); decode stays on the
// split-K f32 kernel.
bool use_tensor_cores(const AttentionArgs& a) {
  static const bool simt = [] {
    const char* env = std::getenv("WICK_CUDA_ATTENTION");
    return env != nullptr && std::string_view(env) == "simt";
  }();
  const auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  return !simt && attention_tc_supports(a) && aligned(a.q) && aligned(a.k_pool) &&
         aligned(a.v_pool) && aligned(a.out);
}

// inputs: q (N, H, D) f32, k_pool, v_pool (S, KVH, D), block_table (B, M), seqs (B, 3) i32, all
// contiguous (the op API makes them so); outputs: (N, H, D) f32.
void attention_kernel(const OpCall& call) {
  const Tensor& q = call.inputs[0];
  const Tensor& k = call.inputs[1];
  Tensor& out = call.outputs[0];
  AttentionArgs a;
  a.q = ptr<float>(q);
  a.k_pool = k.raw_data();
  a.v_pool = call.inputs[2].raw_data();
  a.table = ptr<int32_t>(call.inputs[3]);
  a.seqs = ptr<int32_t>(call.inputs[4]);
  a.out = static_cast<float*>(out.raw_data());
  a.pool = elem_of(k.dtype());
  a.N = q.dim(0);
  a.H = q.dim(1);
  a.D = q.dim(2);
  a.KVH = k.dim(1);
  a.pool_rows = k.dim(0);
  a.B = call.inputs[3].dim(0);
  a.M = call.inputs[3].dim(1);
  a.block_size = call.attrs.block_size;
  a.window = call.attrs.mask_window;
  a.scale = call.attrs.attn_scale;
  a.softcap = call.attrs.attn_softcap;
  a.max_q_len = call.attrs.attn_max_q_len;
  WICK_CHECK(a.D <= 256, ErrorKind::kUnsupported,
             "cuda attention: head_dim {} (q {}) is above the kernel's 256", a.D, q.shape().str());
  cudaStream_t s = stream_for(out);
  if (use_tensor_cores(a)) {
    const AttentionPlan plan = plan_attention_tc(a);
    guarded(Op::kAttention, [&] { launch_attention_tc(s, a, plan); });
    return;
  }
  const AttentionPlan plan = plan_attention(a, sm_count(out.device().index));
  Tensor scratch;
  if (plan.n_splits > 1)
    scratch = Tensor::empty(Shape{plan.n_splits, a.N, a.H, a.D + 2}, DType::kF32, out.device());
  guarded(Op::kAttention, [&] {
    launch_attention(s, a, plan,
                     scratch.defined() ? static_cast<float*>(scratch.raw_data()) : nullptr);
  });
}

// inputs: rows (N, ...) f32 contiguous, index (N) i32; outputs: pool (S, ...) contiguous.
void store_rows_kernel(const OpCall& call) {
  const Tensor& rows = call.inputs[0];
  Tensor& pool = call.outputs[0];
  const int64_t n = rows.dim(0);
  const int64_t width = n == 0 ? 0 : rows.numel() / n;
  guarded(Op::kStoreRows, [&] {
    launch_store_rows(stream_for(pool), elem_of(pool.dtype()), pool.raw_data(), ptr<float>(rows),
                      ptr<int32_t>(call.inputs[1]), n, width, pool.dim(0));
  });
}

const bool kRegistered = [] {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    register_reference_kernel(Op::kAttention, DeviceType::kCuda, dt, &attention_kernel);
    register_reference_kernel(Op::kStoreRows, DeviceType::kCuda, dt, &store_rows_kernel);
  }
  return true;
}();

}  // namespace
}  // namespace wick::cuda
