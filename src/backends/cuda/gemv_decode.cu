// Decode GEMVs that stream the weight once at near copy bandwidth: one warp per output column,
// lanes take consecutive 16-byte pieces (f16/bf16 weights, 1-8 rows of f32 x) or 32-value units
// (Q4_0/Q8_0, one row of x; U units' raw loads issued before any is decoded), so many bytes are
// in flight per SM. No shared memory and no block barrier: x (f32, tens of KB) is read through
// the read-only cache, where every warp of the SM finds it. Products and sums are f32, so float
// weights need no widening copy. quant.cu's qgemv_kernel serves the other block types and rows.
#include "backends/cuda/device_common.cuh"

namespace wick::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;

// A unit's raw bytes as 16-bit words (blocks are 2-byte aligned: 18 and 34 bytes).
template <QType Q>
constexpr int kHalfWords = Q == QType::kQ4_0 ? 9 : 17;

__device__ __forceinline__ float code_value(uint32_t q, float bias) {
  return __uint_as_float(0x4B000000u | q) - (8388608.0f + bias);
}

// sum_j value_j * x_j over one unit, values decoded from `raw` (f16 scale first).
template <QType Q>
__device__ __forceinline__ float unit_dot(const uint16_t* raw, const float4* xv) {
  float xs[32];
#pragma unroll
  for (int j = 0; j < 8; ++j) {
    const float4 v = __ldg(xv + j);
    xs[4 * j] = v.x;
    xs[4 * j + 1] = v.y;
    xs[4 * j + 2] = v.z;
    xs[4 * j + 3] = v.w;
  }
  const float d = __half2float(__ushort_as_half(raw[0]));
  float dot = 0.0f;
  if constexpr (Q == QType::kQ4_0) {  // byte b: value b (low nibble) and b + 16 (high), minus 8
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const uint32_t w = raw[1 + j];
      dot += code_value(w & 0x0f, 8.0f) * xs[2 * j] +
             code_value((w >> 8) & 0x0f, 8.0f) * xs[2 * j + 1] +
             code_value((w >> 4) & 0x0f, 8.0f) * xs[2 * j + 16] +
             code_value(w >> 12, 8.0f) * xs[2 * j + 17];
    }
  } else {  // int8 q: (q + 128) is the byte with its top bit flipped
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const uint32_t w = raw[1 + j] ^ 0x8080u;
      dot += code_value(w & 0xff, 128.0f) * xs[2 * j] + code_value(w >> 8, 128.0f) * xs[2 * j + 1];
    }
  }
  return d * dot;
}

// acc (n) = w (n, k) blocks @ x (k) f32.
template <QType Q, int U>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    gemv_row_kernel(const uint8_t* __restrict__ w, int64_t n, int64_t k,
                    const float* __restrict__ x, float* __restrict__ acc) {
  constexpr int kH = kHalfWords<Q>;
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  const int lane = static_cast<int>(threadIdx.x % 32);
  if (col >= n) return;
  const int64_t units = k / 32;
  const auto* row = reinterpret_cast<const uint16_t*>(w) + col * units * kH;
  float sum = 0.0f;
  for (int64_t u0 = lane; u0 < units; u0 += 32 * U) {
    uint16_t raw[U][kH];
#pragma unroll
    for (int i = 0; i < U; ++i) {
      const int64_t u = u0 + 32 * i;
#pragma unroll
      for (int j = 0; j < kH; ++j) raw[i][j] = u < units ? __ldg(row + u * kH + j) : uint16_t{0};
    }
#pragma unroll
    for (int i = 0; i < U; ++i) {
      const int64_t u = u0 + 32 * i;
      if (u < units) sum += unit_dot<Q>(raw[i], reinterpret_cast<const float4*>(x + u * 32));
    }
  }
  for (int off = 16; off > 0; off /= 2) sum += __shfl_down_sync(0xffffffffu, sum, off);
  if (lane == 0) acc[col] = sum;
}

// acc (m, n) = x (m, k) f32 @ w (n, k)^T for f16/bf16 w; k % 8 == 0, 16-byte aligned rows.
template <class W, int U>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    gemv_float_kernel(const W* __restrict__ w, int64_t n, int64_t k, const float* __restrict__ x,
                      int m, float* __restrict__ acc) {
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  const int lane = static_cast<int>(threadIdx.x % 32);
  if (col >= n) return;
  const int64_t pieces = k / 8;
  const auto* row = reinterpret_cast<const uint4*>(w + col * k);
  float sum[kGemvMaxRows] = {};
  for (int64_t p0 = lane; p0 < pieces; p0 += 32 * U) {
    uint4 raw[U];
#pragma unroll
    for (int i = 0; i < U; ++i) raw[i] = p0 + 32 * i < pieces ? __ldg(row + p0 + 32 * i) : uint4{};
#pragma unroll
    for (int i = 0; i < U; ++i) {
      const int64_t p = p0 + 32 * i;
      if (p >= pieces) break;
      const W* h = reinterpret_cast<const W*>(&raw[i]);
      float wv[8];
#pragma unroll
      for (int j = 0; j < 8; ++j) wv[j] = load(h[j]);
#pragma unroll
      for (int r = 0; r < kGemvMaxRows; ++r) {
        if (r >= m) break;
        const float4* xr = reinterpret_cast<const float4*>(x + r * k) + 2 * p;
        const float4 a = __ldg(xr), b = __ldg(xr + 1);
        sum[r] += wv[0] * a.x + wv[1] * a.y + wv[2] * a.z + wv[3] * a.w + wv[4] * b.x +
                  wv[5] * b.y + wv[6] * b.z + wv[7] * b.w;
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kGemvMaxRows; ++r) {
    if (r >= m) break;
    float v = sum[r];
    for (int off = 16; off > 0; off /= 2) v += __shfl_down_sync(0xffffffffu, v, off);
    if (lane == 0) acc[r * n + col] = v;
  }
}

}  // namespace

bool launch_gemv_float(cudaStream_t s, Elem t, const void* w, int64_t n, int64_t k, const float* x,
                       int64_t m, float* acc) {
  if ((t != Elem::kF16 && t != Elem::kBF16) || k % 8 != 0 || m < 1 || m > kGemvMaxRows ||
      reinterpret_cast<uintptr_t>(w) % 16 != 0 || reinterpret_cast<uintptr_t>(x) % 16 != 0)
    return false;
  if (n == 0) return true;
  const auto blocks = static_cast<unsigned>((n + kWarpsPerBlock - 1) / kWarpsPerBlock);
  const int rows = static_cast<int>(m);
  if (t == Elem::kF16)
    gemv_float_kernel<__half, 2>
        <<<blocks, kWarpsPerBlock * 32, 0, s>>>(static_cast<const __half*>(w), n, k, x, rows, acc);
  else
    gemv_float_kernel<__nv_bfloat16, 2><<<blocks, kWarpsPerBlock * 32, 0, s>>>(
        static_cast<const __nv_bfloat16*>(w), n, k, x, rows, acc);
  check_launch("gemv_float");
  return true;
}

bool launch_qgemv_row(cudaStream_t s, QType q, const void* w, int64_t n, int64_t k, const float* x,
                      float* acc) {
  if (q != QType::kQ4_0 && q != QType::kQ8_0) return false;
  if (reinterpret_cast<uintptr_t>(x) % 16 != 0) return false;  // float4 loads of x
  if (n == 0) return true;
  const auto blocks = static_cast<unsigned>((n + kWarpsPerBlock - 1) / kWarpsPerBlock);
  const auto* wb = static_cast<const uint8_t*>(w);
  if (q == QType::kQ4_0)
    gemv_row_kernel<QType::kQ4_0, 4><<<blocks, kWarpsPerBlock * 32, 0, s>>>(wb, n, k, x, acc);
  else
    gemv_row_kernel<QType::kQ8_0, 2><<<blocks, kWarpsPerBlock * 32, 0, s>>>(wb, n, k, x, acc);
  check_launch("qgemv_row");
  return true;
}

}  // namespace wick::cuda
