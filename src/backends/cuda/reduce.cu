// CUDA kernels for row-wise work: reductions along a dim, cumsum, softmax/log_softmax,
// rms_norm, layer_norm, topk (one block per row, a shared-memory tree per step) and rope
// (elementwise). Float sums accumulate in double (reductions, cumsum) or f32 (norms, softmax);
// integer sums wrap modulo 2^64 as the CPU reference's do. max/min/argmax: first NaN wins, else
// the first of equal extremes.
#include <type_traits>

#include "backends/cuda/device_common.cuh"

namespace wick::cuda {
namespace {

// Power-of-two block size for rows of n values (32..256).
int row_block(int64_t n) {
  int b = 32;
  while (b < 256 && b < n) b *= 2;
  return b;
}

unsigned row_grid(int64_t rows) {
  return static_cast<unsigned>(rows < (1 << 30) ? (rows < 1 ? 1 : rows) : (1 << 30));
}

// Tree reduction over blockDim.x (a power of two) values; every thread gets the result.
template <class V, class Combine>
__device__ V block_reduce(V v, Combine combine) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  V* shared = reinterpret_cast<V*>(smem_raw);
  const unsigned tid = threadIdx.x;
  shared[tid] = v;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (tid < s) shared[tid] = combine(shared[tid], shared[tid + s]);
    __syncthreads();
  }
  const V r = shared[0];
  __syncthreads();
  return r;
}

// A candidate element of a row: its value in the compute type and its index (-1: none).
template <class C>
struct Cand {
  C v;
  int64_t i;
};

// True when a ranks before b for argmax/max (want_max) or min: NaN first, ties by lower index.
template <class C>
__device__ __forceinline__ bool better(const Cand<C>& a, const Cand<C>& b, bool want_max) {
  if (a.i < 0) return false;
  if (b.i < 0) return true;
  const bool na = a.v != a.v, nb = b.v != b.v;
  if (na || nb) return na && nb ? a.i < b.i : na;
  if (a.v != b.v) return want_max ? a.v > b.v : a.v < b.v;
  return a.i < b.i;
}

template <class T>
__global__ void reduce_kernel(ReduceOp op, const __grid_constant__ Dims rows,
                              const __grid_constant__ Views<2> v, int64_t n, int64_t step) {
  using C = compute_t<T>;
  using S = std::conditional_t<std::is_integral_v<C>, uint64_t, double>;
  const int64_t n_rows = rows.numel();
  for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
    const Offsets<2> o = offsets_of<2>(r, rows, v.v);
    const T* row = at<const T>(v.v[0], o.off[0]);
    if (op == ReduceOp::kSum || op == ReduceOp::kMean) {
      S acc = 0;
      for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
        acc += static_cast<S>(load(row[i * step]));
      acc = block_reduce(acc, [](S a, S b) { return a + b; });
      if (threadIdx.x == 0) {
        T* out = at<T>(v.v[1], o.off[1]);
        if (op == ReduceOp::kSum) {
          if constexpr (std::is_integral_v<C>) {
            *out = static_cast<T>(acc);
          } else {
            store(*out, acc);
          }
        } else {
          store(*out, static_cast<double>(acc) / static_cast<double>(n));
        }
      }
      continue;
    }
    const bool want_max = op != ReduceOp::kMin;
    Cand<C> best{C{}, -1};
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      const Cand<C> c{load(row[i * step]), i};
      if (better(c, best, want_max)) best = c;
    }
    best = block_reduce(
        best, [want_max](Cand<C> a, Cand<C> b) { return better(a, b, want_max) ? a : b; });
    if (threadIdx.x == 0) {
      if (op == ReduceOp::kArgmax) {
        *at<int64_t>(v.v[1], o.off[1]) = best.i;
      } else {
        *at<T>(v.v[1], o.off[1]) = row[best.i * step];
      }
    }
  }
}

template <class T>
__global__ void cumsum_kernel(const __grid_constant__ Dims rows, const __grid_constant__ Views<2> v,
                              int64_t n, int64_t xs, int64_t os) {
  using C = compute_t<T>;
  const int64_t n_rows = rows.numel();
  for (int64_t r = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; r < n_rows;
       r += int64_t{gridDim.x} * blockDim.x) {
    const Offsets<2> o = offsets_of<2>(r, rows, v.v);
    const T* x = at<const T>(v.v[0], o.off[0]);
    T* out = at<T>(v.v[1], o.off[1]);
    if constexpr (std::is_integral_v<C>) {
      uint64_t acc = 0;
      for (int64_t i = 0; i < n; ++i) {
        acc += static_cast<uint64_t>(x[i * xs]);
        out[i * os] = static_cast<T>(acc);
      }
    } else {
      double acc = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        acc += static_cast<double>(load(x[i * xs]));
        store(out[i * os], acc);
      }
    }
  }
}

template <class T>
__global__ void softmax_kernel(bool log_space, const __grid_constant__ Dims rows,
                               const __grid_constant__ Views<2> v, int64_t n, int64_t xs,
                               int64_t os) {
  const int64_t n_rows = rows.numel();
  for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
    const Offsets<2> o = offsets_of<2>(r, rows, v.v);
    const T* x = at<const T>(v.v[0], o.off[0]);
    T* out = at<T>(v.v[1], o.off[1]);
    float m = -INFINITY;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = fmaxf(m, load(x[i * xs]));
    m = block_reduce(m, [](float a, float b) { return fmaxf(a, b); });
    float sum = 0.0f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += expf(load(x[i * xs]) - m);
    sum = block_reduce(sum, [](float a, float b) { return a + b; });
    const float log_sum = logf(sum);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      const float shifted = load(x[i * xs]) - m;
      store(out[i * os], log_space ? shifted - log_sum : expf(shifted) / sum);
    }
  }
}

template <class T>
__device__ __forceinline__ float param(const View& p, int64_t i, float fallback) {
  return p.base == nullptr ? fallback : load(*at<const T>(p, p.offset + i * p.strides[0]));
}

template <class T>
__global__ void rms_norm_kernel(const __grid_constant__ Dims rows,
                                const __grid_constant__ Views<3> v, int64_t n, int64_t xs,
                                int64_t os, float weight_offset, float eps) {
  const int64_t n_rows = rows.numel();
  const View& w = v.v[2];
  for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
    const Offsets<2> o = offsets_of<2>(r, rows, v.v);
    const T* x = at<const T>(v.v[0], o.off[0]);
    T* out = at<T>(v.v[1], o.off[1]);
    float ss = 0.0f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      const float xv = load(x[i * xs]);
      ss += xv * xv;
    }
    ss = block_reduce(ss, [](float a, float b) { return a + b; });
    const float inv_rms = 1.0f / sqrtf(ss / static_cast<float>(n) + eps);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      const float scale = w.base == nullptr ? 1.0f : param<T>(w, i, 1.0f) + weight_offset;
      store(out[i * os], load(x[i * xs]) * inv_rms * scale);
    }
  }
}

template <class T>
__global__ void layer_norm_kernel(const __grid_constant__ Dims rows,
                                  const __grid_constant__ Views<4> v, int64_t n, int64_t xs,
                                  int64_t os, float eps) {
  const int64_t n_rows = rows.numel();
  for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
    const Offsets<2> o = offsets_of<2>(r, rows, v.v);
    const T* x = at<const T>(v.v[0], o.off[0]);
    T* out = at<T>(v.v[1], o.off[1]);
    float sum = 0.0f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += load(x[i * xs]);
    const float mean =
        block_reduce(sum, [](float a, float b) { return a + b; }) / static_cast<float>(n);
    float var = 0.0f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      const float d = load(x[i * xs]) - mean;
      var += d * d;
    }
    var = block_reduce(var, [](float a, float b) { return a + b; }) / static_cast<float>(n);
    const float inv_std = 1.0f / sqrtf(var + eps);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
      store(out[i * os], (load(x[i * xs]) - mean) * inv_std * param<T>(v.v[2], i, 1.0f) +
                             param<T>(v.v[3], i, 0.0f));
  }
}

// One thread per element of x (.., H, D); dims is x's uncoalesced shape, D = shape[rank - 1].
template <class T, class P>
__global__ void rope_kernel(const __grid_constant__ Dims dims, const __grid_constant__ Views<3> v,
                            const __grid_constant__ View inv_freq, int64_t half, bool neox) {
  const int64_t n = dims.numel();
  const int64_t d = dims.shape[dims.rank - 1];
  const int64_t xs = v.v[0].strides[dims.rank - 1];
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < n;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const Offsets<3> o = offsets_of<3>(idx, dims, v.v);
    const int64_t j = idx % d;
    const T* x = at<const T>(v.v[0], o.off[0]);
    T* out = at<T>(v.v[1], o.off[1]);
    if (j >= 2 * half) {
      *out = *x;
      continue;
    }
    // neox pairs (i, i + half); interleaved pairs (2i, 2i + 1). first: j is the pair's first.
    const bool first = neox ? j < half : (j % 2) == 0;
    const int64_t i = neox ? (first ? j : j - half) : j / 2;
    const int64_t partner = neox ? (first ? j + half : j - half) : (first ? j + 1 : j - 1);
    const float pos = static_cast<float>(*at<const P>(v.v[2], o.off[2]));
    const float angle =
        __fmul_rn(pos, *at<const float>(inv_freq, inv_freq.offset + i * inv_freq.strides[0]));
    const double c = cos(static_cast<double>(angle));
    const double s = sin(static_cast<double>(angle));
    const double xv = load(*x);
    const double xp = load(x[(partner - j) * xs]);
    store(*out, first ? xv * c - xp * s : xv * c + xp * s);
  }
}

template <class T>
__global__ void topk_kernel(const __grid_constant__ Dims rows, const __grid_constant__ Views<3> v,
                            int64_t n, int64_t k, int64_t xs, int64_t vs, int64_t is) {
  using C = compute_t<T>;
  const int64_t n_rows = rows.numel();
  for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
    const Offsets<3> o = offsets_of<3>(r, rows, v.v);
    const T* x = at<const T>(v.v[0], o.off[0]);
    Cand<C> prev{C{}, -1};
    for (int64_t j = 0; j < k; ++j) {
      // The j-th largest is the best element ranking strictly after the (j-1)-th.
      Cand<C> best{C{}, -1};
      for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        const Cand<C> c{load(x[i * xs]), i};
        if ((prev.i < 0 || better(prev, c, true)) && better(c, best, true)) best = c;
      }
      best = block_reduce(best, [](Cand<C> a, Cand<C> b) { return better(a, b, true) ? a : b; });
      if (threadIdx.x == 0) {
        *at<T>(v.v[1], o.off[1] + j * vs) = x[best.i * xs];
        *at<int64_t>(v.v[2], o.off[2] + j * is) = best.i;
      }
      prev = best;
    }
  }
}

}  // namespace

void launch_reduce(cudaStream_t s, ReduceOp op, Elem t, const Dims& rows, const View& x,
                   const View& out, int64_t n, int64_t step) {
  const int64_t n_rows = rows.numel();
  if (n_rows == 0) return;
  const int block = row_block(n);
  dispatch_elem(t, [&]<class T>() {
    reduce_kernel<T>
        <<<row_grid(n_rows), block, block * 16, s>>>(op, rows, Views<2>{{x, out}}, n, step);
  });
  check_launch("reduce");
}

void launch_cumsum(cudaStream_t s, Elem t, const Dims& rows, const View& x, const View& out,
                   int64_t n, int64_t x_step, int64_t out_step) {
  const int64_t n_rows = rows.numel();
  if (n_rows == 0) return;
  dispatch_elem(t, [&]<class T>() {
    cumsum_kernel<T>
        <<<grid_for(n_rows, 128), 128, 0, s>>>(rows, Views<2>{{x, out}}, n, x_step, out_step);
  });
  check_launch("cumsum");
}

void launch_softmax(cudaStream_t s, bool log_space, Elem t, const Dims& rows, const View& x,
                    const View& out, int64_t n, int64_t x_step, int64_t out_step) {
  const int64_t n_rows = rows.numel();
  if (n_rows == 0) return;
  const int block = row_block(n);
  dispatch_float_elem(t, [&]<class T>() {
    softmax_kernel<T><<<row_grid(n_rows), block, block * 4, s>>>(
        log_space, rows, Views<2>{{x, out}}, n, x_step, out_step);
  });
  check_launch("softmax");
}

void launch_rms_norm(cudaStream_t s, Elem t, const Dims& rows, const View& x, const View& out,
                     int64_t n, int64_t x_step, int64_t out_step, const View& weight,
                     float weight_offset, float eps) {
  const int64_t n_rows = rows.numel();
  if (n_rows == 0) return;
  const int block = row_block(n);
  dispatch_float_elem(t, [&]<class T>() {
    rms_norm_kernel<T><<<row_grid(n_rows), block, block * 4, s>>>(
        rows, Views<3>{{x, out, weight}}, n, x_step, out_step, weight_offset, eps);
  });
  check_launch("rms_norm");
}

void launch_layer_norm(cudaStream_t s, Elem t, const Dims& rows, const View& x, const View& out,
                       int64_t n, int64_t x_step, int64_t out_step, const View& weight,
                       const View& bias, float eps) {
  const int64_t n_rows = rows.numel();
  if (n_rows == 0) return;
  const int block = row_block(n);
  dispatch_float_elem(t, [&]<class T>() {
    layer_norm_kernel<T><<<row_grid(n_rows), block, block * 4, s>>>(
        rows, Views<4>{{x, out, weight, bias}}, n, x_step, out_step, eps);
  });
  check_launch("layer_norm");
}

void launch_rope(cudaStream_t s, Elem t, const Dims& dims, const View& x, const View& out,
                 const View& pos, bool pos_i64, const View& inv_freq, int64_t half, bool neox) {
  const int64_t n = dims.numel();
  if (n == 0) return;
  dispatch_float_elem(t, [&]<class T>() {
    if (pos_i64) {
      rope_kernel<T, int64_t>
          <<<grid_for(n, 256), 256, 0, s>>>(dims, Views<3>{{x, out, pos}}, inv_freq, half, neox);
    } else {
      rope_kernel<T, int32_t>
          <<<grid_for(n, 256), 256, 0, s>>>(dims, Views<3>{{x, out, pos}}, inv_freq, half, neox);
    }
  });
  check_launch("rope");
}

void launch_topk(cudaStream_t s, Elem t, const Dims& rows, const View& x, const View& values,
                 const View& indices, int64_t n, int64_t k, int64_t x_step, int64_t v_step,
                 int64_t i_step) {
  const int64_t n_rows = rows.numel();
  if (n_rows == 0 || k == 0) return;
  const int block = row_block(n);
  dispatch_elem(t, [&]<class T>() {
    topk_kernel<T><<<row_grid(n_rows), block, block * 16, s>>>(rows, Views<3>{{x, values, indices}},
                                                               n, k, x_step, v_step, i_step);
  });
  check_launch("topk");
}

}  // namespace wick::cuda
