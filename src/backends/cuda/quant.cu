// CUDA kernels for GGUF block weights: a decoder per block type that produces one "unit" of 32
// consecutive values (a whole block of the 32-wide types, one eighth of a K super-block), and
// the kernels built on it: dequantize (cast), dequantize selected rows (embedding) and the
// small-batch GEMV of linear(). Decoders round like the CPU reference codecs (core/quant): every
// product and difference is rounded on its own (__fmul_rn / __fsub_rn, never fused), so a
// dequantized tensor has the reference's bits.
#include "backends/cuda/device_common.cuh"

namespace wick::cuda {
namespace {

__device__ __forceinline__ float h2f(const uint8_t* p) {
  return __half2float(__ushort_as_half(*reinterpret_cast<const uint16_t*>(p)));
}
__device__ __forceinline__ float mul(float a, float b) {
  return __fmul_rn(a, b);
}

__constant__ int8_t kIQ4[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                1,    13,   25,  38,  53,  69,  89,  113};

template <QType Q>
struct Format;
template <>
struct Format<QType::kQ4_0> {
  static constexpr int kBytes = 18, kValues = 32;
};
template <>
struct Format<QType::kQ4_1> {
  static constexpr int kBytes = 20, kValues = 32;
};
template <>
struct Format<QType::kQ5_0> {
  static constexpr int kBytes = 22, kValues = 32;
};
template <>
struct Format<QType::kQ5_1> {
  static constexpr int kBytes = 24, kValues = 32;
};
template <>
struct Format<QType::kQ8_0> {
  static constexpr int kBytes = 34, kValues = 32;
};
template <>
struct Format<QType::kQ8_1> {
  static constexpr int kBytes = 36, kValues = 32;
};
template <>
struct Format<QType::kQ2_K> {
  static constexpr int kBytes = 84, kValues = 256;
};
template <>
struct Format<QType::kQ3_K> {
  static constexpr int kBytes = 110, kValues = 256;
};
template <>
struct Format<QType::kQ4_K> {
  static constexpr int kBytes = 144, kValues = 256;
};
template <>
struct Format<QType::kQ5_K> {
  static constexpr int kBytes = 176, kValues = 256;
};
template <>
struct Format<QType::kQ6_K> {
  static constexpr int kBytes = 210, kValues = 256;
};
template <>
struct Format<QType::kQ8_K> {
  static constexpr int kBytes = 292, kValues = 256;
};
template <>
struct Format<QType::kIQ4_NL> {
  static constexpr int kBytes = 18, kValues = 32;
};
template <>
struct Format<QType::kIQ4_XS> {
  static constexpr int kBytes = 136, kValues = 256;
};

// 4-bit code j of a 32-value block packed as Q4_0: low nibbles are values 0-15, high 16-31.
__device__ __forceinline__ int nib32(const uint8_t* qs, int j) {
  return j < 16 ? (qs[j] & 0x0f) : (qs[j - 16] >> 4);
}
__device__ __forceinline__ int code2(const uint8_t* qs, int p) {
  return (qs[(p / 128) * 32 + p % 32] >> (2 * ((p % 128) / 32))) & 3;
}
__device__ __forceinline__ void scale_min_k4(int j, const uint8_t* q, int& sc, int& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}
__device__ __forceinline__ int scale_q3(int j, const uint8_t* q) {
  const int low = j < 8 ? (q[j] & 0x0f) : (q[j - 8] >> 4);
  return low | (((q[8 + j % 4] >> (2 * (j / 4))) & 3) << 4);
}

// v[0..32) = values [32 u, 32 u + 32) of a row of blocks.
template <QType Q>
__device__ __forceinline__ void decode_unit(const uint8_t* row, int64_t u, float* v) {
  constexpr int kBytes = Format<Q>::kBytes;
  if constexpr (Format<Q>::kValues == 32) {
    const uint8_t* b = row + u * kBytes;
    const float d = Q == QType::kQ8_0 || Q == QType::kQ8_1 || Q == QType::kQ4_0 ||
                            Q == QType::kQ4_1 || Q == QType::kQ5_0 || Q == QType::kQ5_1 ||
                            Q == QType::kIQ4_NL
                        ? h2f(b)
                        : 0.0f;
    if constexpr (Q == QType::kQ4_0) {  // qs is 2-byte aligned: 8 16-bit loads
      const uint16_t* q16 = reinterpret_cast<const uint16_t*>(b + 2);
#pragma unroll
      for (int i = 0; i < 8; ++i) {
        const uint32_t w = q16[i];
        v[2 * i] = mul(static_cast<float>(static_cast<int>(w & 0x0f) - 8), d);
        v[2 * i + 1] = mul(static_cast<float>(static_cast<int>((w >> 8) & 0x0f) - 8), d);
        v[2 * i + 16] = mul(static_cast<float>(static_cast<int>((w >> 4) & 0x0f) - 8), d);
        v[2 * i + 17] = mul(static_cast<float>(static_cast<int>(w >> 12) - 8), d);
      }
    } else if constexpr (Q == QType::kQ4_1) {
      const float m = h2f(b + 2);
#pragma unroll
      for (int j = 0; j < 32; ++j) v[j] = __fadd_rn(mul(static_cast<float>(nib32(b + 4, j)), d), m);
    } else if constexpr (Q == QType::kQ5_0 || Q == QType::kQ5_1) {
      const int qh_at = Q == QType::kQ5_0 ? 2 : 4;
      const uint32_t qh = b[qh_at] | (b[qh_at + 1] << 8) | (b[qh_at + 2] << 16) |
                          (static_cast<uint32_t>(b[qh_at + 3]) << 24);
      const uint8_t* qs = b + qh_at + 4;
      const float m = Q == QType::kQ5_1 ? h2f(b + 2) : 0.0f;
#pragma unroll
      for (int j = 0; j < 32; ++j) {
        const int q = nib32(qs, j) | (((qh >> j) & 1u) << 4);
        v[j] = Q == QType::kQ5_0 ? mul(static_cast<float>(q - 16), d)
                                 : __fadd_rn(mul(static_cast<float>(q), d), m);
      }
    } else if constexpr (Q == QType::kQ8_0 || Q == QType::kQ8_1) {  // 16 16-bit loads
      const uint16_t* q16 = reinterpret_cast<const uint16_t*>(b + (Q == QType::kQ8_0 ? 2 : 4));
#pragma unroll
      for (int i = 0; i < 16; ++i) {
        const uint32_t w = q16[i];
        v[2 * i] = mul(static_cast<float>(static_cast<int8_t>(w & 0xff)), d);
        v[2 * i + 1] = mul(static_cast<float>(static_cast<int8_t>(w >> 8)), d);
      }
    } else {  // IQ4_NL
#pragma unroll
      for (int j = 0; j < 32; ++j) v[j] = mul(d, static_cast<float>(kIQ4[nib32(b + 2, j)]));
    }
  } else {
    const uint8_t* b = row + (u / 8) * kBytes;
    const int sub = static_cast<int>(u % 8);
    const int p0 = 32 * sub;
    if constexpr (Q == QType::kQ2_K) {
      const float d = h2f(b + 80), dmin = h2f(b + 82);
#pragma unroll
      for (int j = 0; j < 32; ++j) {
        const int p = p0 + j, sc = b[p / 16];
        const float dl = mul(d, static_cast<float>(sc & 0x0f));
        const float ml = mul(dmin, static_cast<float>(sc >> 4));
        v[j] = __fsub_rn(mul(dl, static_cast<float>(code2(b + 16, p))), ml);
      }
    } else if constexpr (Q == QType::kQ3_K) {
      const float d = h2f(b + 108);
#pragma unroll
      for (int j = 0; j < 32; ++j) {
        const int p = p0 + j;
        const float dl = mul(d, static_cast<float>(scale_q3(p / 16, b + 96) - 32));
        const bool high = (b[p % 32] >> (p / 32)) & 1;
        v[j] = mul(dl, static_cast<float>(code2(b + 32, p) - (high ? 0 : 4)));
      }
    } else if constexpr (Q == QType::kQ4_K || Q == QType::kQ5_K) {
      const float d = h2f(b), dmin = h2f(b + 2);
      int sc = 0, m = 0;
      scale_min_k4(sub, b + 4, sc, m);
      const float dl = mul(d, static_cast<float>(sc));
      const float ml = mul(dmin, static_cast<float>(m));
      // Values 32 sub .. +32 are nibbles (sub odd: high) of the 32 bytes at qs + 32 (sub / 2);
      // blocks are 16-byte multiples, so two 16-byte loads fetch them (and Q5_K's qh).
      const uint8_t* qs = b + (Q == QType::kQ4_K ? 16 : 48) + 32 * (sub / 2);
      const int shift = 4 * (sub % 2);
      uint4 raw[2];
      raw[0] = reinterpret_cast<const uint4*>(qs)[0];
      raw[1] = reinterpret_cast<const uint4*>(qs)[1];
      const uint8_t* bytes = reinterpret_cast<const uint8_t*>(raw);
      uint4 raw_h[2] = {};
      if constexpr (Q == QType::kQ5_K) {
        raw_h[0] = reinterpret_cast<const uint4*>(b + 16)[0];
        raw_h[1] = reinterpret_cast<const uint4*>(b + 16)[1];
      }
      const uint8_t* high = reinterpret_cast<const uint8_t*>(raw_h);
#pragma unroll
      for (int j = 0; j < 32; ++j) {
        int q = (bytes[j] >> shift) & 0x0f;
        if constexpr (Q == QType::kQ5_K) q |= ((high[j] >> sub) & 1) << 4;
        v[j] = __fsub_rn(mul(dl, static_cast<float>(q)), ml);
      }
    } else if constexpr (Q == QType::kQ6_K) {
      const float d = h2f(b + 208);
      const int h = sub / 4, kq = sub % 4;
      const uint8_t* ql = b + 64 * h;
      const uint8_t* qh = b + 128 + 32 * h;
      const int8_t* scales = reinterpret_cast<const int8_t*>(b + 192);
#pragma unroll
      for (int l = 0; l < 32; ++l) {
        const uint8_t low = kq == 0 || kq == 2 ? ql[l] : ql[l + 32];
        const int nib = kq < 2 ? (low & 0x0f) : (low >> 4);
        const int q = nib | (((qh[l] >> (2 * kq)) & 3) << 4);
        const float dl = mul(d, static_cast<float>(scales[(p0 + l) / 16]));
        v[l] = mul(dl, static_cast<float>(q - 32));
      }
    } else if constexpr (Q == QType::kQ8_K) {
      const float d = *reinterpret_cast<const float*>(b);
      const int8_t* qs = reinterpret_cast<const int8_t*>(b + 4);
#pragma unroll
      for (int j = 0; j < 32; ++j) v[j] = mul(d, static_cast<float>(qs[p0 + j]));
    } else {  // IQ4_XS
      const float d = h2f(b);
      const int scales_h = b[2] | (b[3] << 8);
      const int ls =
          ((b[4 + sub / 2] >> (4 * (sub % 2))) & 0x0f) | (((scales_h >> (2 * sub)) & 3) << 4);
      const float dl = mul(d, static_cast<float>(ls - 32));
#pragma unroll
      for (int j = 0; j < 32; ++j)
        v[j] = mul(dl, static_cast<float>(kIQ4[nib32(b + 8 + 16 * sub, j)]));
    }
  }
}

template <QType Q>
constexpr int64_t row_bytes(int64_t d) {
  return d / Format<Q>::kValues * Format<Q>::kBytes;
}

// Writes 32 decoded values with 16-byte stores when dst is aligned (it is for fresh tensors):
// one thread's unit is 64 or 128 contiguous bytes, and scalar 2-byte stores would cost a
// memory transaction each.
template <class T>
__device__ __forceinline__ void store_unit(T* dst, const float* v) {
  if ((reinterpret_cast<uintptr_t>(dst) & 15) != 0) {
#pragma unroll
    for (int j = 0; j < 32; ++j) store(dst[j], v[j]);
    return;
  }
  constexpr int kPerVec = 16 / sizeof(T);
#pragma unroll
  for (int q = 0; q < 32 / kPerVec; ++q) {
    alignas(16) T tmp[kPerVec];
#pragma unroll
    for (int j = 0; j < kPerVec; ++j) store(tmp[j], v[q * kPerVec + j]);
    reinterpret_cast<uint4*>(dst)[q] = *reinterpret_cast<const uint4*>(tmp);
  }
}

// One thread per unit of 32 values; out (rows, d) contiguous.
template <QType Q, class T>
__global__ void dequantize_kernel(const uint8_t* blocks, int64_t rows, int64_t d, T* out) {
  const int64_t units_per_row = d / 32, n = rows * units_per_row;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / units_per_row, u = i % units_per_row;
    float v[32];
    decode_unit<Q>(blocks + r * row_bytes<Q>(d), u, v);
    store_unit(out + r * d + u * 32, v);
  }
}

__device__ int g_rows_index_error = 0;

template <QType Q, class I>
__global__ void dequantize_rows_kernel(const uint8_t* blocks, int64_t d, int64_t limit,
                                       const __grid_constant__ View idx, int64_t n, float* out) {
  const int64_t units_per_row = d / 32, total = n * units_per_row;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t j = i / units_per_row, u = i % units_per_row;
    const int64_t r = static_cast<int64_t>(*at<const I>(idx, idx.offset + j * idx.strides[0]));
    float* dst = out + j * d + u * 32;
    if (r < 0 || r >= limit) {
      atomicExch(&g_rows_index_error, 1);
      for (int q = 0; q < 32; ++q) dst[q] = 0.0f;
      continue;
    }
    float v[32];
    decode_unit<Q>(blocks + r * row_bytes<Q>(d), u, v);
#pragma unroll
    for (int q = 0; q < 32; ++q) dst[q] = v[q];
  }
}

// acc (m, n) = x (m, k) @ w (n, k)^T for m <= kGemvMaxRows (decode). A block of kWarps warps
// owns kWarps * kColsPerWarp consecutive weight rows and walks k in chunks of 32 units: the
// chunk of x is staged once in shared memory for all of them (x is read from L2 once per block,
// not once per weight row), and lane l decodes unit l of the chunk for each of its warp's rows.
// So the weight streams from memory exactly once, in whole 32-unit runs per row.
// The GEMV's view of a unit: value j = scale * codes[j] + offset, with integer codes made exact
// floats by the 2^23 trick (OR into the mantissa of 8388608.0f, subtract) instead of slower
// int -> float conversions, and the scale applied once per unit instead of once per value.
// Types without a specialisation decode fully (scale 1, offset 0).
template <QType Q>
struct CodeForm {
  static constexpr bool kScaled = Q == QType::kQ4_0 || Q == QType::kQ8_0 || Q == QType::kQ4_K;
  static constexpr bool kOffset = Q == QType::kQ4_K;
};

__device__ __forceinline__ float code_float(uint32_t q, float bias) {
  return __uint_as_float(0x4B000000u | q) - (8388608.0f + bias);
}

template <QType Q>
__device__ __forceinline__ void unit_codes(const uint8_t* row, int64_t u, float* v, float& scale,
                                           float& offset) {
  offset = 0.0f;
  if constexpr (Q == QType::kQ4_0) {
    const uint8_t* b = row + u * 18;
    scale = h2f(b);
    const uint16_t* q16 = reinterpret_cast<const uint16_t*>(b + 2);
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const uint32_t w = q16[i];
      v[2 * i] = code_float(w & 0x0f, 8.0f);
      v[2 * i + 1] = code_float((w >> 8) & 0x0f, 8.0f);
      v[2 * i + 16] = code_float((w >> 4) & 0x0f, 8.0f);
      v[2 * i + 17] = code_float(w >> 12, 8.0f);
    }
  } else if constexpr (Q == QType::kQ8_0) {
    const uint8_t* b = row + u * 34;
    scale = h2f(b);
    const uint16_t* q16 = reinterpret_cast<const uint16_t*>(b + 2);
#pragma unroll
    for (int i = 0; i < 16; ++i) {  // int8 q: (q + 128) is the byte with its top bit flipped
      const uint32_t w = q16[i] ^ 0x8080u;
      v[2 * i] = code_float(w & 0xff, 128.0f);
      v[2 * i + 1] = code_float(w >> 8, 128.0f);
    }
  } else if constexpr (Q == QType::kQ4_K) {
    const uint8_t* b = row + (u / 8) * 144;
    const int sub = static_cast<int>(u % 8);
    int sc = 0, mn = 0;
    scale_min_k4(sub, b + 4, sc, mn);
    scale = h2f(b) * static_cast<float>(sc);
    offset = -(h2f(b + 2) * static_cast<float>(mn));
    const uint4* qs = reinterpret_cast<const uint4*>(b + 16 + 32 * (sub / 2));
    uint4 raw[2] = {qs[0], qs[1]};
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(raw);
    const int shift = 4 * (sub % 2);
#pragma unroll
    for (int j = 0; j < 32; ++j) v[j] = code_float((bytes[j] >> shift) & 0x0f, 0.0f);
  } else {
    scale = 1.0f;
    decode_unit<Q>(row, u, v);
  }
}

constexpr int kWarps = 8, kColsPerWarp = 2, kChunkUnits = 32, kPad = 36;
// Register cap (128): two resident blocks (16 warps) per SM for every block type; a cap of 3
// blocks (80 registers) spills 100-250 bytes per thread.
constexpr int kGemvBlocksPerSm = 2;

template <QType Q>
__global__ void __launch_bounds__(kWarps * 32, kGemvBlocksPerSm)
    qgemv_kernel(const uint8_t* w, int64_t n, int64_t k, const float* x, int m, float* acc) {
  // x chunk, one row of 36 floats per unit (32 + 4 pad): lanes reading "their" unit as float4
  // fall in distinct banks for each quarter-warp.
  __shared__ __align__(16) float xs[kGemvMaxRows][kChunkUnits * kPad];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t col0 = (blockIdx.x * int64_t{kWarps} + warp) * kColsPerWarp;
  const int64_t units = k / 32, rb = row_bytes<Q>(k);
  float sum[kGemvMaxRows][kColsPerWarp] = {};
  for (int64_t u0 = 0; u0 < units; u0 += kChunkUnits) {
    const int cu = static_cast<int>(units - u0 < kChunkUnits ? units - u0 : kChunkUnits);
    for (int r = 0; r < m; ++r) {  // stage the chunk of every x row with 16-byte copies
      const float4* src = reinterpret_cast<const float4*>(x + r * k + u0 * 32);
      for (int e4 = threadIdx.x; e4 < cu * 8; e4 += blockDim.x)
        *reinterpret_cast<float4*>(&xs[r][(e4 / 8) * kPad + (e4 % 8) * 4]) = src[e4];
    }
    __syncthreads();
    if (lane < cu) {
      // Decode this lane's unit of each of the warp's rows, then read each x value once from
      // shared memory for all of them.
      float v[kColsPerWarp][32], scale[kColsPerWarp], offset[kColsPerWarp];
#pragma unroll
      for (int c = 0; c < kColsPerWarp; ++c) {
        if (col0 + c < n) {
          unit_codes<Q>(w + (col0 + c) * rb, u0 + lane, v[c], scale[c], offset[c]);
        } else {
          scale[c] = offset[c] = 0.0f;
#pragma unroll
          for (int j = 0; j < 32; ++j) v[c][j] = 0.0f;
        }
      }
#pragma unroll
      for (int r = 0; r < kGemvMaxRows; ++r) {
        if (r >= m) break;
        const float4* xr = reinterpret_cast<const float4*>(&xs[r][lane * kPad]);
        float dot[kColsPerWarp] = {}, x_sum = 0.0f;
#pragma unroll
        for (int j = 0; j < 8; ++j) {
          const float4 xv = xr[j];
          if constexpr (CodeForm<Q>::kOffset) x_sum += (xv.x + xv.y) + (xv.z + xv.w);
#pragma unroll
          for (int c = 0; c < kColsPerWarp; ++c)
            dot[c] += v[c][4 * j] * xv.x + v[c][4 * j + 1] * xv.y + v[c][4 * j + 2] * xv.z +
                      v[c][4 * j + 3] * xv.w;
        }
#pragma unroll
        for (int c = 0; c < kColsPerWarp; ++c) {
          sum[r][c] += CodeForm<Q>::kScaled ? scale[c] * dot[c] : dot[c];
          if constexpr (CodeForm<Q>::kOffset) sum[r][c] += offset[c] * x_sum;
        }
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int c = 0; c < kColsPerWarp; ++c) {
#pragma unroll
    for (int r = 0; r < kGemvMaxRows; ++r) {
      if (r >= m) break;
      float s = sum[r][c];
      for (int off = 16; off > 0; off /= 2) s += __shfl_down_sync(0xffffffffu, s, off);
      if (lane == 0 && col0 + c < n) acc[r * n + col0 + c] = s;
    }
  }
}

template <class T, class B>
__global__ void bias_epilogue_kernel(int64_t m, int64_t n, const float* acc,
                                     const __grid_constant__ View bias, T* out) {
  const int64_t total = m * n;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * blockDim.x) {
    float v = acc[i];
    if (bias.base != nullptr)
      v += load(*at<const B>(bias, bias.offset + (i % n) * bias.strides[0]));
    store(out[i], v);
  }
}

template <class Fn>
void dispatch_qtype(QType q, Fn&& fn) {
  switch (q) {
    case QType::kQ4_0:
      fn.template operator()<QType::kQ4_0>();
      return;
    case QType::kQ4_1:
      fn.template operator()<QType::kQ4_1>();
      return;
    case QType::kQ5_0:
      fn.template operator()<QType::kQ5_0>();
      return;
    case QType::kQ5_1:
      fn.template operator()<QType::kQ5_1>();
      return;
    case QType::kQ8_0:
      fn.template operator()<QType::kQ8_0>();
      return;
    case QType::kQ8_1:
      fn.template operator()<QType::kQ8_1>();
      return;
    case QType::kQ2_K:
      fn.template operator()<QType::kQ2_K>();
      return;
    case QType::kQ3_K:
      fn.template operator()<QType::kQ3_K>();
      return;
    case QType::kQ4_K:
      fn.template operator()<QType::kQ4_K>();
      return;
    case QType::kQ5_K:
      fn.template operator()<QType::kQ5_K>();
      return;
    case QType::kQ6_K:
      fn.template operator()<QType::kQ6_K>();
      return;
    case QType::kQ8_K:
      fn.template operator()<QType::kQ8_K>();
      return;
    case QType::kIQ4_NL:
      fn.template operator()<QType::kIQ4_NL>();
      return;
    case QType::kIQ4_XS:
      fn.template operator()<QType::kIQ4_XS>();
      return;
  }
}

}  // namespace

void launch_dequantize(cudaStream_t s, QType q, const void* blocks, int64_t rows, int64_t d, Elem t,
                       void* out) {
  const int64_t units = rows * (d / 32);
  if (units == 0) return;
  if (launch_dequantize_chunks(s, q, blocks, rows, d, t, out)) return;
  dispatch_qtype(q, [&]<QType Q>() {
    dispatch_float_elem(t, [&]<class T>() {
      dequantize_kernel<Q, T><<<grid_for(units, 128), 128, 0, s>>>(
          static_cast<const uint8_t*>(blocks), rows, d, static_cast<T*>(out));
    });
  });
  check_launch("dequantize");
}

void launch_dequantize_rows(cudaStream_t s, QType q, const void* blocks, int64_t d, int64_t limit,
                            const View& idx, bool idx_i64, int64_t n, float* out) {
  const int64_t units = n * (d / 32);
  if (units == 0) return;
  dispatch_qtype(q, [&]<QType Q>() {
    const auto* b = static_cast<const uint8_t*>(blocks);
    if (idx_i64) {
      dequantize_rows_kernel<Q, int64_t>
          <<<grid_for(units, 128), 128, 0, s>>>(b, d, limit, idx, n, out);
    } else {
      dequantize_rows_kernel<Q, int32_t>
          <<<grid_for(units, 128), 128, 0, s>>>(b, d, limit, idx, n, out);
    }
  });
  check_launch("dequantize_rows");
}

void launch_qgemv(cudaStream_t s, QType q, const void* w, int64_t n, int64_t k, const float* x,
                  int64_t m, float* acc) {
  if (n == 0 || m == 0) return;
  constexpr int kCols = kWarps * kColsPerWarp;
  const auto blocks = static_cast<unsigned>((n + kCols - 1) / kCols);
  dispatch_qtype(q, [&]<QType Q>() {
    qgemv_kernel<Q><<<blocks, kWarps * 32, 0, s>>>(static_cast<const uint8_t*>(w), n, k, x,
                                                   static_cast<int>(m), acc);
  });
  check_launch("qgemv");
}

void launch_bias_epilogue(cudaStream_t s, int64_t m, int64_t n, const float* acc, const View& bias,
                          Elem bias_t, Elem t, void* out) {
  const int64_t total = m * n;
  if (total == 0) return;
  dispatch_float_elem(t, [&]<class T>() {
    dispatch_float_elem(bias_t, [&]<class B>() {
      bias_epilogue_kernel<T, B>
          <<<grid_for(total, 256), 256, 0, s>>>(m, n, acc, bias, static_cast<T*>(out));
    });
  });
  check_launch("bias_epilogue");
}

bool take_device_rows_index_error() {
  int flag = 0;
  if (cudaMemcpyFromSymbol(&flag, g_rows_index_error, sizeof(int)) != cudaSuccess) return false;
  if (flag == 0) return false;
  const int zero = 0;
  cudaMemcpyToSymbol(g_rows_index_error, &zero, sizeof(int));
  return true;
}

}  // namespace wick::cuda
