// CUDA kernels for the indexing ops: index_select / gather (one kernel: each output element reads
// the input at an index taken from an index tensor), where, attention_mask. Index values are
// data, so they are checked here: an out-of-range index writes zeros and raises a device flag
// that the backend turns into a wick::Error at the next synchronize().
#include <limits>

#include "backends/cuda/device_common.cuh"

namespace wick::cuda {
namespace {

__device__ int g_index_error = 0;

template <class W, class I>
__global__ void index_kernel(const __grid_constant__ Dims dims, int dim, int64_t limit,
                             const __grid_constant__ View x, const __grid_constant__ View idx,
                             bool index_1d, const __grid_constant__ View out) {
  const int64_t n = dims.numel();
  for (int64_t lin = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; lin < n;
       lin += int64_t{gridDim.x} * blockDim.x) {
    int64_t rest = lin, xo = x.offset, oo = out.offset, io = idx.offset;
    int64_t along = 0;
    for (int d = dims.rank - 1; d >= 0; --d) {
      const int64_t c = rest % dims.shape[d];
      rest /= dims.shape[d];
      oo += c * out.strides[d];
      if (d == dim) {
        along = c;
      } else {
        xo += c * x.strides[d];
      }
      if (!index_1d) io += c * idx.strides[d];
    }
    if (index_1d) io += along * idx.strides[0];
    const int64_t i = static_cast<int64_t>(*at<const I>(idx, io));
    if (i < 0 || i >= limit) {
      atomicExch(&g_index_error, 1);
      *at<W>(out, oo) = W{};
      continue;
    }
    *at<W>(out, oo) = *at<const W>(x, xo + i * x.strides[dim]);
  }
}

template <class W>
__global__ void where_kernel(const __grid_constant__ Dims dims,
                             const __grid_constant__ Views<4> v) {
  const int64_t n = dims.numel();
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const Offsets<4> o = offsets_of<4>(i, dims, v.v);
    const bool c = *at<const uint8_t>(v.v[0], o.off[0]) != 0;
    *at<W>(v.v[3], o.off[3]) = c ? *at<const W>(v.v[1], o.off[1]) : *at<const W>(v.v[2], o.off[2]);
  }
}

__global__ void attention_mask_kernel(int64_t q_len, int64_t kv_len, int64_t query_offset,
                                      int64_t window, const __grid_constant__ View out) {
  const int64_t n = q_len * kv_len;
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < n;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t i = idx / kv_len, j = idx % kv_len;
    const int64_t q = query_offset + i;
    const bool visible = j <= q && (window == 0 || q - j < window);
    *at<float>(out, out.offset + i * out.strides[0] + j * out.strides[1]) =
        visible ? 0.0f : -INFINITY;
  }
}


}  // namespace

void launch_index(cudaStream_t s, const Dims& dims, int elem_bytes, int dim, int64_t limit,
                  const View& x, const View& idx, bool idx_i64, bool index_1d, const View& out) {
  const int64_t n = dims.numel();
  if (n == 0) return;
  dispatch_word(elem_bytes, "index", [&]<class W>() {
    if (idx_i64) {
      index_kernel<W, int64_t>
          <<<grid_for(n, 256), 256, 0, s>>>(dims, dim, limit, x, idx, index_1d, out);
    } else {
      index_kernel<W, int32_t>
          <<<grid_for(n, 256), 256, 0, s>>>(dims, dim, limit, x, idx, index_1d, out);
    }
  });
  check_launch("index");
}

void launch_where(cudaStream_t s, const Dims& dims, int elem_bytes, const View& cond, const View& a,
                  const View& b, const View& out) {
  const int64_t n = dims.numel();
  if (n == 0) return;
  dispatch_word(elem_bytes, "index", [&]<class W>() {
    where_kernel<W><<<grid_for(n, 256), 256, 0, s>>>(dims, Views<4>{{cond, a, b, out}});
  });
  check_launch("where");
}

void launch_attention_mask(cudaStream_t s, int64_t q_len, int64_t kv_len, int64_t query_offset,
                           int64_t window, const View& out) {
  const int64_t n = q_len * kv_len;
  if (n == 0) return;
  attention_mask_kernel<<<grid_for(n, 256), 256, 0, s>>>(q_len, kv_len, query_offset, window, out);
  check_launch("attention_mask");
}

bool take_device_index_error() {
  int flag = 0;
  if (cudaMemcpyFromSymbol(&flag, g_index_error, sizeof(int)) != cudaSuccess) return false;
  if (flag == 0) return false;
  const int zero = 0;
  cudaMemcpyToSymbol(g_index_error, &zero, sizeof(int));
  return true;
}

}  // namespace wick::cuda
