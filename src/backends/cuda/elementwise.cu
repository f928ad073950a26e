// CUDA kernels for copy, cast, fill and the binary/unary elementwise ops: one grid-stride loop
// over the (coalesced) index space, each tensor addressed through its own strides. Float math in
// f32 as the CPU reference does; integer division by zero gives 0, maximum/minimum propagate NaN.
#include <type_traits>

#include "backends/cuda/device_common.cuh"

namespace wick::cuda {
namespace {

constexpr int kBlock = 256;

template <class T>
__global__ void copy_kernel(const __grid_constant__ Dims dims, const __grid_constant__ Views<2> v) {
  const int64_t n = dims.numel();
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const Offsets<2> o = offsets_of<2>(i, dims, v.v);
    *at<T>(v.v[1], o.off[1]) = *at<const T>(v.v[0], o.off[0]);
  }
}

template <class T>
__global__ void fill_kernel(const __grid_constant__ Dims dims, const __grid_constant__ View out,
                            T value) {
  const int64_t n = dims.numel();
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const Offsets<1> o = offsets_of<1>(i, dims, &out);
    *at<T>(out, o.off[0]) = value;
  }
}

// The CPU reference's conversion: through the source's compute type; to bool means != 0.
template <class From, class To>
__device__ __forceinline__ To convert(const From& v, bool to_bool) {
  To out{};
  const auto x = load(v);
  if constexpr (std::is_same_v<To, uint8_t>) {
    if (to_bool) return static_cast<uint8_t>(x != 0 ? 1 : 0);
  }
  store(out, x);
  return out;
}

template <class From, class To>
__global__ void cast_kernel(const __grid_constant__ Dims dims, const __grid_constant__ Views<2> v,
                            bool to_bool) {
  const int64_t n = dims.numel();
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const Offsets<2> o = offsets_of<2>(i, dims, v.v);
    *at<To>(v.v[1], o.off[1]) = convert<From, To>(*at<const From>(v.v[0], o.off[0]), to_bool);
  }
}

template <class V>
__device__ __forceinline__ V apply_binary(BinaryOp op, V a, V b) {
  switch (op) {
    case BinaryOp::kAdd:
      return a + b;
    case BinaryOp::kSub:
      return a - b;
    case BinaryOp::kMul:
      return a * b;
    case BinaryOp::kDiv:
      if constexpr (std::is_integral_v<V>) {
        return b == 0 ? V(0) : a / b;
      } else {
        return a / b;
      }
    case BinaryOp::kMaximum:
      return a > b || a != a ? a : b;
    case BinaryOp::kMinimum:
      return a < b || a != a ? a : b;
  }
  return a;
}

template <class V>
__device__ __forceinline__ V apply_unary(UnaryOp op, V x) {
  if constexpr (std::is_integral_v<V>) {
    switch (op) {
      case UnaryOp::kNeg:
        return -x;
      case UnaryOp::kAbs:
        return x < 0 ? -x : x;
      case UnaryOp::kSqr:
        return x * x;
      case UnaryOp::kRelu:
        return x > 0 ? x : V(0);
      default:
        return x;
    }
  } else {
    switch (op) {
      case UnaryOp::kNeg:
        return -x;
      case UnaryOp::kExp:
        return expf(x);
      case UnaryOp::kLog:
        return logf(x);
      case UnaryOp::kSqrt:
        return sqrtf(x);
      case UnaryOp::kRsqrt:
        return 1.0f / sqrtf(x);
      case UnaryOp::kTanh:
        return tanhf(x);
      case UnaryOp::kSigmoid:
        return 1.0f / (1.0f + expf(-x));
      case UnaryOp::kSilu:
        return x / (1.0f + expf(-x));
      case UnaryOp::kGeluErf:
        return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
      case UnaryOp::kGeluTanh: {
        const float inner = 0.79788456080286536f * (x + 0.044715f * x * x * x);
        return 0.5f * x * (1.0f + tanhf(inner));
      }
      case UnaryOp::kRelu:
        return x > 0 ? x : 0.0f;
      case UnaryOp::kAbs:
        return fabsf(x);
      case UnaryOp::kSqr:
        return x * x;
    }
    return x;
  }
}

template <class T>
__global__ void binary_kernel(BinaryOp op, const __grid_constant__ Dims dims,
                              const __grid_constant__ Views<3> v) {
  const int64_t n = dims.numel();
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const Offsets<3> o = offsets_of<3>(i, dims, v.v);
    store(*at<T>(v.v[2], o.off[2]), apply_binary(op, load(*at<const T>(v.v[0], o.off[0])),
                                                 load(*at<const T>(v.v[1], o.off[1]))));
  }
}

template <class T>
__global__ void unary_kernel(UnaryOp op, const __grid_constant__ Dims dims,
                             const __grid_constant__ Views<2> v) {
  const int64_t n = dims.numel();
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const Offsets<2> o = offsets_of<2>(i, dims, v.v);
    store(*at<T>(v.v[1], o.off[1]), apply_unary(op, load(*at<const T>(v.v[0], o.off[0]))));
  }
}

template <class T>
__global__ void gated_act_kernel(UnaryOp act, const __grid_constant__ Dims dims,
                                 const __grid_constant__ Views<3> v) {
  const int64_t n = dims.numel();
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const Offsets<3> o = offsets_of<3>(i, dims, v.v);
    const float g = apply_unary(act, static_cast<float>(load(*at<const T>(v.v[0], o.off[0]))));
    store(*at<T>(v.v[2], o.off[2]), g * static_cast<float>(load(*at<const T>(v.v[1], o.off[1]))));
  }
}

// One block per row: the sum is stored and squared in the same pass, then normalised.
template <class T>
__global__ void add_rms_norm_kernel(const T* x, const T* h, const T* w, T* sum, T* out,
                                    int64_t rows, int64_t n, float weight_offset, float eps) {
  __shared__ float part[32];
  const int lane = static_cast<int>(threadIdx.x % 32), warp = static_cast<int>(threadIdx.x / 32);
  const int warps = static_cast<int>(blockDim.x / 32);
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * n;
    const T* hr = h + r * n;
    T* sr = sum + r * n;
    T* orow = out + r * n;
    float ss = 0.0f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      T s;
      store(s, static_cast<float>(load(xr[i])) + static_cast<float>(load(hr[i])));
      sr[i] = s;
      const float v = load(s);
      ss += v * v;
    }
    for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
    if (lane == 0) part[warp] = ss;
    __syncthreads();
    if (warp == 0) {
      float v = lane < warps ? part[lane] : 0.0f;
      for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
      if (lane == 0) part[0] = v;
    }
    __syncthreads();
    const float inv_rms = 1.0f / sqrtf(part[0] / static_cast<float>(n) + eps);
    __syncthreads();
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      const float scale = w == nullptr ? 1.0f : load(w[i]) + weight_offset;
      store(orow[i], load(sr[i]) * inv_rms * scale);
    }
  }
}

}  // namespace

void launch_add_rms_norm(cudaStream_t s, Elem t, const void* x, const void* h, const void* w,
                         void* sum, void* out, int64_t rows, int64_t n, float weight_offset,
                         float eps) {
  if (rows == 0 || n == 0) return;
  const unsigned grid = static_cast<unsigned>(rows < (1 << 30) ? rows : (1 << 30));
  const int block = n >= 4096 ? 1024 : n >= 1024 ? 512 : 256;
  dispatch_float_elem(t, [&]<class T>() {
    add_rms_norm_kernel<T><<<grid, block, 0, s>>>(
        static_cast<const T*>(x), static_cast<const T*>(h), static_cast<const T*>(w),
        static_cast<T*>(sum), static_cast<T*>(out), rows, n, weight_offset, eps);
  });
  check_launch("add_rms_norm");
}

void launch_gated_act(cudaStream_t s, UnaryOp act, Elem t, const Dims& dims, const View& gate,
                      const View& up, const View& out) {
  const int64_t n = dims.numel();
  if (n == 0) return;
  dispatch_float_elem(t, [&]<class T>() {
    gated_act_kernel<T>
        <<<grid_for(n, kBlock), kBlock, 0, s>>>(act, dims, Views<3>{{gate, up, out}});
  });
  check_launch("gated_act");
}

void launch_copy(cudaStream_t s, const Dims& dims, int elem_bytes, const View& src,
                 const View& dst) {
  const int64_t n = dims.numel();
  if (n == 0) return;
  dispatch_word(elem_bytes, "copy", [&]<class W>() {
    copy_kernel<W><<<grid_for(n, kBlock), kBlock, 0, s>>>(dims, Views<2>{{src, dst}});
  });
  check_launch("copy");
}

void launch_fill(cudaStream_t s, const Dims& dims, int elem_bytes, uint64_t pattern,
                 const View& dst) {
  const int64_t n = dims.numel();
  if (n == 0) return;
  dispatch_word(elem_bytes, "copy", [&]<class W>() {
    fill_kernel<W><<<grid_for(n, kBlock), kBlock, 0, s>>>(dims, dst, static_cast<W>(pattern));
  });
  check_launch("fill");
}

void launch_cast(cudaStream_t s, const Dims& dims, Elem from, Elem to, const View& src,
                 const View& dst) {
  const int64_t n = dims.numel();
  if (n == 0) return;
  dispatch_elem(from, [&]<class F>() {
    dispatch_elem(to, [&]<class T>() {
      cast_kernel<F, T>
          <<<grid_for(n, kBlock), kBlock, 0, s>>>(dims, Views<2>{{src, dst}}, to == Elem::kBool);
    });
  });
  check_launch("cast");
}

void launch_binary(cudaStream_t s, BinaryOp op, Elem t, const Dims& dims, const View& a,
                   const View& b, const View& out) {
  const int64_t n = dims.numel();
  if (n == 0) return;
  dispatch_elem(t, [&]<class T>() {
    binary_kernel<T><<<grid_for(n, kBlock), kBlock, 0, s>>>(op, dims, Views<3>{{a, b, out}});
  });
  check_launch("binary");
}

void launch_unary(cudaStream_t s, UnaryOp op, Elem t, const Dims& dims, const View& x,
                  const View& out) {
  const int64_t n = dims.numel();
  if (n == 0) return;
  dispatch_elem(t, [&]<class T>() {
    unary_kernel<T><<<grid_for(n, kBlock), kBlock, 0, s>>>(op, dims, Views<2>{{x, out}});
  });
  check_launch("unary");
}

}  // namespace wick::cuda
