// The decode GEMV for f16/bf16 weights and 1-8 rows of f32 x: one warp per output column, lanes
// take consecutive 16-byte pieces of the row, four pieces' loads (non-coherent, no L1
// allocation) issued before any is used. No shared memory and no block barrier: x (f32, tens of
// KB) is read through the read-only cache, where every warp of the SM finds it. Products and
// sums are f32, so the weight needs no widening copy. (Q4_0/Q8_0 have their own int8 kernel in
// qgemv.cu.)
#include <cstdlib>

#include "backends/cuda/device_common.cuh"

namespace wick::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;

// A weight piece read once: through the non-coherent path without allocating in L1, which
// keeps L1 for x.
__device__ __forceinline__ uint4 load_stream(const uint4* p) {
  uint4 v;
  asm("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
      : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
      : "l"(p));
  return v;
}

// acc (m, n) = x (m, k) f32 @ w (n, k)^T for f16/bf16 w; k % 8 == 0, 16-byte aligned rows.
// A warp owns C consecutive columns (C > 1 for several rows of x: each x load then serves C
// weight pieces instead of one, which is what limits the many-row case), U pieces per column in
// flight per lane.
template <class W, int U, int C, int kMaxM>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    gemv_float_kernel(const W* __restrict__ w, int64_t n, int64_t k, const float* __restrict__ x,
                      int m, float* __restrict__ acc) {
  const int64_t col0 = (static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32) * C;
  const int lane = static_cast<int>(threadIdx.x % 32);
  if (col0 >= n) return;
  const int64_t pieces = k / 8;
  const uint4* row[C];
#pragma unroll
  for (int c = 0; c < C; ++c)
    row[c] = reinterpret_cast<const uint4*>(w + (col0 + c < n ? col0 + c : col0) * k);
  float sum[kMaxM][C];
#pragma unroll
  for (int r = 0; r < kMaxM; ++r)
#pragma unroll
    for (int c = 0; c < C; ++c) sum[r][c] = 0.0f;
  for (int64_t p0 = lane; p0 < pieces; p0 += 32 * U) {
    uint4 raw[U][C];
#pragma unroll
    for (int i = 0; i < U; ++i)
#pragma unroll
      for (int c = 0; c < C; ++c)
        raw[i][c] = p0 + 32 * i < pieces ? load_stream(row[c] + p0 + 32 * i) : uint4{};
#pragma unroll
    for (int i = 0; i < U; ++i) {
      const int64_t p = p0 + 32 * i;
      if (p >= pieces) break;
      float wv[C][8];
#pragma unroll
      for (int c = 0; c < C; ++c) {
        const W* h = reinterpret_cast<const W*>(&raw[i][c]);
#pragma unroll
        for (int j = 0; j < 8; ++j) wv[c][j] = load(h[j]);
      }
#pragma unroll
      for (int r = 0; r < kMaxM; ++r) {
        if (r >= m) break;
        const float4* xr = reinterpret_cast<const float4*>(x + r * k) + 2 * p;
        const float4 a = __ldg(xr), b = __ldg(xr + 1);
#pragma unroll
        for (int c = 0; c < C; ++c)
          sum[r][c] += wv[c][0] * a.x + wv[c][1] * a.y + wv[c][2] * a.z + wv[c][3] * a.w +
                       wv[c][4] * b.x + wv[c][5] * b.y + wv[c][6] * b.z + wv[c][7] * b.w;
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kMaxM; ++r) {
    if (r >= m) break;
#pragma unroll
    for (int c = 0; c < C; ++c) {
      float v = sum[r][c];
      for (int off = 16; off > 0; off /= 2) v += __shfl_down_sync(0xffffffffu, v, off);
      if (lane == 0 && col0 + c < n) acc[r * n + col0 + c] = v;
    }
  }
}

}  // namespace

bool launch_gemv_float(cudaStream_t s, Elem t, const void* w, int64_t n, int64_t k, const float* x,
                       int64_t m, float* acc) {
  if ((t != Elem::kF16 && t != Elem::kBF16) || k % 8 != 0 || m < 1 || m > kGemvMaxRows ||
      reinterpret_cast<uintptr_t>(w) % 16 != 0 || reinterpret_cast<uintptr_t>(x) % 16 != 0)
    return false;
  if (n == 0) return true;
  const int rows = static_cast<int>(m);
  // One row: a column per warp, 4 pieces in flight per lane (WICK_CUDA_GEMV_UNROLL=2: 2, a
  // tuning knob). Several rows: 4 columns per warp, 2 pieces each.
  static const int unroll = [] {
    const char* v = std::getenv("WICK_CUDA_GEMV_UNROLL");
    return v != nullptr && std::atoi(v) == 2 ? 2 : 4;
  }();
  auto run = [&]<class W>(const W* wp) {
    if (m > 1) {
      constexpr int kCols = 4;
      const auto blocks =
          static_cast<unsigned>((n + kWarpsPerBlock * kCols - 1) / (kWarpsPerBlock * kCols));
      gemv_float_kernel<W, 2, kCols, kGemvMaxRows>
          <<<blocks, kWarpsPerBlock * 32, 0, s>>>(wp, n, k, x, rows, acc);
      return;
    }
    const auto blocks = static_cast<unsigned>((n + kWarpsPerBlock - 1) / kWarpsPerBlock);
    if (unroll == 2)
      gemv_float_kernel<W, 2, 1, 1><<<blocks, kWarpsPerBlock * 32, 0, s>>>(wp, n, k, x, rows, acc);
    else
      gemv_float_kernel<W, 4, 1, 1><<<blocks, kWarpsPerBlock * 32, 0, s>>>(wp, n, k, x, rows, acc);
  };
  if (t == Elem::kF16)
    run(static_cast<const __half*>(w));
  else
    run(static_cast<const __nv_bfloat16*>(w));
  check_launch("gemv_float");
  return true;
}

}  // namespace wick::cuda
