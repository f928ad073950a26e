// Device-side helpers shared by the CUDA kernel files: the element-type switch (the one dtype
// switch of this backend), loads/stores through the compute type (f32 for every float type),
// the strided offset walk over a Dims index space, and launch-error reporting.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "backends/cuda/kernels.h"

namespace wick::cuda {

// Thrown across the .cu boundary as std::runtime_error; the host side rewraps it in wick::Error.
inline void check_launch(const char* what) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("cuda kernel ") + what + ": " + cudaGetErrorString(err));
}

template <class T>
struct Compute {
  using type = T;
};
template <>
struct Compute<__half> {
  using type = float;
};
template <>
struct Compute<__nv_bfloat16> {
  using type = float;
};
template <class T>
using compute_t = typename Compute<T>::type;

__device__ __forceinline__ float load(const float& v) {
  return v;
}
__device__ __forceinline__ float load(const __half& v) {
  return __half2float(v);
}
__device__ __forceinline__ float load(const __nv_bfloat16& v) {
  return __bfloat162float(v);
}
__device__ __forceinline__ int32_t load(const int32_t& v) {
  return v;
}
__device__ __forceinline__ int64_t load(const int64_t& v) {
  return v;
}
__device__ __forceinline__ uint8_t load(const uint8_t& v) {
  return v;
}

template <class V>
__device__ __forceinline__ void store(float& d, V v) {
  d = static_cast<float>(v);
}
template <class V>
__device__ __forceinline__ void store(__half& d, V v) {
  d = __float2half_rn(static_cast<float>(v));
}
template <class V>
__device__ __forceinline__ void store(__nv_bfloat16& d, V v) {
  d = __float2bfloat16_rn(static_cast<float>(v));
}
template <class V>
__device__ __forceinline__ void store(int32_t& d, V v) {
  d = static_cast<int32_t>(v);
}
template <class V>
__device__ __forceinline__ void store(int64_t& d, V v) {
  d = static_cast<int64_t>(v);
}
template <class V>
__device__ __forceinline__ void store(uint8_t& d, V v) {
  d = static_cast<uint8_t>(v);
}

template <class T>
__device__ __forceinline__ bool is_nan(compute_t<T> v) {
  if constexpr (std::is_integral_v<compute_t<T>>) {
    return false;
  } else {
    return v != v;
  }
}

// fn.template operator()<T>() for the device type of `t`. Bool is a byte (uint8_t).
template <class Fn>
void dispatch_elem(Elem t, Fn&& fn) {
  switch (t) {
    case Elem::kF32:
      fn.template operator()<float>();
      return;
    case Elem::kF16:
      fn.template operator()<__half>();
      return;
    case Elem::kBF16:
      fn.template operator()<__nv_bfloat16>();
      return;
    case Elem::kI32:
      fn.template operator()<int32_t>();
      return;
    case Elem::kI64:
      fn.template operator()<int64_t>();
      return;
    case Elem::kU8:
    case Elem::kBool:
      fn.template operator()<uint8_t>();
      return;
  }
}

template <class Fn>
void dispatch_float_elem(Elem t, Fn&& fn) {
  switch (t) {
    case Elem::kF32:
      fn.template operator()<float>();
      return;
    case Elem::kF16:
      fn.template operator()<__half>();
      return;
    case Elem::kBF16:
      fn.template operator()<__nv_bfloat16>();
      return;
    default:
      throw std::runtime_error("cuda: expected a float element type");
  }
}

// Element offsets of linear index i (row-major over dims) in N views.
template <int N>
struct Offsets {
  int64_t off[N];
};
template <int N>
__device__ __forceinline__ Offsets<N> offsets_of(int64_t i, const Dims& dims, const View* views) {
  Offsets<N> r;
#pragma unroll
  for (int t = 0; t < N; ++t) r.off[t] = views[t].offset;
  if (dims.rank == 1) {  // the common case after coalescing: no division at all
#pragma unroll
    for (int t = 0; t < N; ++t) r.off[t] += i * views[t].strides[0];
    return r;
  }
  if (i < (int64_t{1} << 31)) {
    // 32-bit division is several times cheaper than 64-bit; offsets stay 64-bit. An extent
    // beyond 32 bits is clamped: with i < 2^31 its coordinate is i's remainder either way.
    uint32_t rest = static_cast<uint32_t>(i);
    for (int d = dims.rank - 1; d >= 0 && rest != 0; --d) {
      const auto extent =
          static_cast<uint32_t>(dims.shape[d] < (int64_t{1} << 32) ? dims.shape[d] : 0xffffffffu);
      const uint32_t c = rest % extent;
      rest /= extent;
#pragma unroll
      for (int t = 0; t < N; ++t) r.off[t] += int64_t{c} * views[t].strides[d];
    }
    return r;
  }
  for (int d = dims.rank - 1; d >= 0; --d) {
    const int64_t extent = dims.shape[d];
    const int64_t c = i % extent;
    i /= extent;
#pragma unroll
    for (int t = 0; t < N; ++t) r.off[t] += c * views[t].strides[d];
  }
  return r;
}

// Views passed by value as a small array (kernel parameters).
template <int N>
struct Views {
  View v[N];
};

inline unsigned grid_for(int64_t n, int block) {
  const int64_t g = (n + block - 1) / block;
  return static_cast<unsigned>(g < 65535 * 32 ? (g < 1 ? 1 : g) : 65535 * 32);
}

template <class T>
__device__ __forceinline__ T* at(const View& v, int64_t off) {
  return static_cast<T*>(v.base) + off;
}

// fn.template operator()<W>() with W the unsigned word of `bytes` (1, 2, 4 or 8): kernels that
// only move elements serve every dtype of that size. `op` names the caller in the error.
template <class Fn>
void dispatch_word(int bytes, const char* op, Fn&& fn) {
  switch (bytes) {
    case 1:
      fn.template operator()<uint8_t>();
      return;
    case 2:
      fn.template operator()<uint16_t>();
      return;
    case 4:
      fn.template operator()<uint32_t>();
      return;
    case 8:
      fn.template operator()<uint64_t>();
      return;
    default:
      throw std::runtime_error(std::string("cuda ") + op + ": unsupported element size");
  }
}

}  // namespace wick::cuda
