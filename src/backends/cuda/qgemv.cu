// Bandwidth kernels for the 32-value GGUF blocks Q4_0 and Q8_0: the decode GEMV on int8
// activations (__dp4a) and a dequantize that streams at copy speed (prefill's bf16 weight).
//
// Both read a weight row through shared memory in "chunks" of 32 blocks (one block per lane):
// a warp copies the chunk with 16-byte cp.async pieces (coalesced, no registers, the next chunk
// in flight while this one is used), then lane l reads block l from shared memory as aligned
// 32-bit words and funnel-shifts the 2-byte-misaligned halves of odd blocks. A row is
// 16-byte aligned when k % 256 == 0 (8 blocks are 144 / 272 bytes); the launchers refuse other
// shapes and quant.cu's generic kernels take them.
//
// Shared-memory banks: the 8 blocks of a 16-byte "group" start at words floor(B i / 4); for
// Q4_0 (B = 18) those fall in 8 distinct banks, and a group stride of 40 words (9 pieces + 1 of
// padding) shifts the 4 groups of a chunk by 8 banks each, so the 32 lanes' reads never
// conflict. Q8_0 (B = 34, 17 pieces, no padding) has at most 2-way conflicts.
//
// GEMV numerics: each x row is quantized once per call to int8 blocks of 32 (d = amax / 127,
// q = round-half-even(x / d) clamped to +-127, s = d * sum q; the CPU integer path's
// quantize_act_q8), and a block's dot product is exact in int32: Q8_0 dw * dx * sum(qw qx),
// Q4_0 dw * (dx * sum(nib qx) - 8 s). Dequantize keeps the reference bits (one rounded product
// per value, as quant.cu's decoders).
#include <atomic>
#include <cstdlib>

#include "backends/cuda/device_common.cuh"

namespace wick::cuda {
namespace {

constexpr int kChunk = 32;             // blocks per chunk (one per lane)
constexpr int kChunkValues = 32 * 32;  // values per chunk

template <QType Q>
struct Blk;
template <>
struct Blk<QType::kQ4_0> {
  static constexpr int kBytes = 18, kPieces = 9, kStride = 10, kWords = 5, kQsWords = 4;
};
template <>
struct Blk<QType::kQ8_0> {
  static constexpr int kBytes = 34, kPieces = 17, kStride = 17, kWords = 9, kQsWords = 8;
};
// uint4 slots of one staged chunk (4 groups of 8 blocks).
template <QType Q>
constexpr int chunk_slots() {
  return 4 * Blk<Q>::kStride;
}

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem));
}
__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::);
}
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// Warp-wide: copy blocks [u0, u0 + cu) of a row (16-byte aligned) into dst (chunk_slots<Q>()
// uint4), piece p of the chunk at slot p + p / 9 for Q4_0 (the padding), p for Q8_0.
template <QType Q>
__device__ __forceinline__ void stage_chunk(uint4* dst, const uint8_t* row, int64_t u0, int cu,
                                            int lane) {
  using B = Blk<Q>;
  const int pieces = cu * B::kBytes / 16;
  const uint4* src = reinterpret_cast<const uint4*>(row + u0 * B::kBytes);
  for (int p = lane; p < pieces; p += 32) {
    const int slot = B::kStride == B::kPieces ? p : p + p / B::kPieces;
    cp_async16(dst + slot, src + p);
  }
}

// Block `lane` of a staged chunk: its fp16 scale and kQsWords little-endian words of codes.
template <QType Q>
__device__ __forceinline__ void read_block(const uint4* chunk, int lane, float& d, uint32_t* qs) {
  using B = Blk<Q>;
  const int g = lane / 8, i = lane % 8;
  const uint32_t* words =
      reinterpret_cast<const uint32_t*>(chunk) + g * B::kStride * 4 + (B::kBytes * i) / 4;
  uint32_t w[B::kWords];
#pragma unroll
  for (int j = 0; j < B::kWords; ++j) w[j] = words[j];
  // B = 2 mod 4: even blocks start word-aligned, odd ones 2 bytes in.
  const bool odd = (i & 1) != 0;
  d = __half2float(__ushort_as_half(static_cast<unsigned short>(odd ? w[0] >> 16 : w[0])));
  const unsigned shift = odd ? 32u : 16u;
#pragma unroll
  for (int t = 0; t < B::kQsWords; ++t) qs[t] = __funnelshift_rc(w[t], w[t + 1], shift);
}

// ---- activations: x (m, k) f32 -> int8 blocks ----
// Per row: kpad = k rounded up to a chunk; chunk c holds 2 x 512 bytes, [half][block][16 bytes],
// so lane l's two 16-byte loads of its block are each one coalesced 512-byte warp access. ds:
// (d, s) per block, (m, kpad / 32). Blocks past k are zero.
__global__ void quantize_x_kernel(const float* __restrict__ x, int64_t m, int64_t k, int64_t kpad,
                                  int8_t* __restrict__ xq, float2* __restrict__ ds) {
  // The GEMV launched after this kernel may start now: it stages weights until it waits on us.
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
  const int64_t per_row = kpad / 32, total = m * per_row;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / per_row, b = i % per_row;
    int8_t* dst = xq + r * kpad + (b / kChunk) * kChunkValues + (b % kChunk) * 16;
    alignas(16) int8_t q[32];
    float d = 0.0f;
    int sum = 0;
    if (b * 32 < k) {
      const float4* src = reinterpret_cast<const float4*>(x + r * k + b * 32);
      float v[32];
      float amax = 0.0f;
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const float4 f = src[j];
        v[4 * j] = f.x;
        v[4 * j + 1] = f.y;
        v[4 * j + 2] = f.z;
        v[4 * j + 3] = f.w;
      }
#pragma unroll
      for (int j = 0; j < 32; ++j) amax = fmaxf(amax, fabsf(v[j]));
      d = amax / 127.0f;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
#pragma unroll
      for (int j = 0; j < 32; ++j) {
        const int qv = min(127, max(-127, __float2int_rn(v[j] * id)));
        q[j] = static_cast<int8_t>(qv);
        sum += qv;
      }
    } else {
#pragma unroll
      for (int j = 0; j < 32; ++j) q[j] = 0;
    }
    reinterpret_cast<uint4*>(dst)[0] = reinterpret_cast<const uint4*>(q)[0];
    reinterpret_cast<uint4*>(dst + 512)[0] = reinterpret_cast<const uint4*>(q)[1];
    ds[i] = make_float2(d, d * static_cast<float>(sum));
  }
}

// ---- the GEMV ----
// acc (m, n) = x (m, k) @ w (n, k)^T, m <= kMaxM. A "group" is C consecutive weight rows. A
// block of `warps` warps walks groups blockIdx.x, + gridDim.x, ... (a persistent grid sized to
// the GPU's resident blocks); warp w takes chunks w, w + warps, ... of the group's C rows, lane l
// the chunk's block l, and reuses each weight word for every x row. The cp.async copies are
// double-buffered across the warp's whole sequence of (group, chunk) items, so the next group's
// first chunk is in flight while this group's partial sums meet in shared memory.
template <QType Q, int C, int kMaxM>
__global__ void __launch_bounds__(128)
    qgemv_dp4a_kernel(const uint8_t* __restrict__ w, int64_t n, int64_t k, int64_t kpad,
                      const int8_t* __restrict__ xq, const float2* __restrict__ xds, int m,
                      float* __restrict__ acc) {
  using B = Blk<Q>;
  constexpr int kSlots = chunk_slots<Q>();
  extern __shared__ uint4 smem[];
  const int warps = static_cast<int>(blockDim.x / 32);
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  uint4* buf = smem + warp * 2 * C * kSlots;                             // [2][C][kSlots]
  float* red = reinterpret_cast<float*>(smem + warps * 2 * C * kSlots);  // [2][warps][kMaxM][C]
  const int64_t groups = (n + C - 1) / C;
  const int64_t units = k / 32, rb = units * B::kBytes;
  const int chunks = static_cast<int>((units + kChunk - 1) / kChunk);

  auto issue = [&](int64_t group, int chunk, int slot) {
    const int64_t u0 = static_cast<int64_t>(chunk) * kChunk, col0 = group * C;
    const int cu = static_cast<int>(units - u0 < kChunk ? units - u0 : kChunk);
#pragma unroll
    for (int c = 0; c < C; ++c)
      if (col0 + c < n)
        stage_chunk<Q>(buf + (slot * C + c) * kSlots, w + (col0 + c) * rb, u0, cu, lane);
    cp_async_commit();
  };
  int slot = 0, parity = 0;
  int64_t group = blockIdx.x;
  if (group < groups) issue(group, warp, 0);  // warps <= chunks: every warp has a first chunk
  // Launched as a programmatic dependent of quantize_x_kernel: the weight copy above overlaps
  // it; x is read only after this wait (which returns once that kernel is complete and its
  // writes are visible; everything before it in the stream had finished before it started).
  asm volatile("griddepcontrol.wait;" ::: "memory");
  for (; group < groups; group += gridDim.x) {
    const int64_t col0 = group * C;
    float sum[kMaxM][C];
#pragma unroll
    for (int r = 0; r < kMaxM; ++r)
#pragma unroll
      for (int c = 0; c < C; ++c) sum[r][c] = 0.0f;
    for (int chunk = warp; chunk < chunks; chunk += warps) {
      int64_t next_group = group;
      int next_chunk = chunk + warps;
      if (next_chunk >= chunks) {
        next_group = group + gridDim.x;
        next_chunk = warp;
      }
      if (next_group < groups) {
        issue(next_group, next_chunk, slot ^ 1);
        cp_async_wait<1>();
      } else {
        cp_async_wait<0>();
      }
      __syncwarp();
      const int64_t u0 = static_cast<int64_t>(chunk) * kChunk;
      if (u0 + lane < units) {
        float dw[C];
        uint32_t qs[C][B::kQsWords];
#pragma unroll
        for (int c = 0; c < C; ++c)
          read_block<Q>(buf + (slot * C + c) * kSlots, lane, dw[c], qs[c]);
#pragma unroll
        for (int r = 0; r < kMaxM; ++r) {
          if (r >= m) break;
          const int8_t* xr = xq + r * kpad + static_cast<int64_t>(chunk) * kChunkValues + lane * 16;
          const uint4 lo = __ldg(reinterpret_cast<const uint4*>(xr));
          const uint4 hi = __ldg(reinterpret_cast<const uint4*>(xr + 512));
          const float2 xd = __ldg(xds + r * (kpad / 32) + u0 + lane);
          const int xw[8] = {static_cast<int>(lo.x), static_cast<int>(lo.y), static_cast<int>(lo.z),
                             static_cast<int>(lo.w), static_cast<int>(hi.x), static_cast<int>(hi.y),
                             static_cast<int>(hi.z), static_cast<int>(hi.w)};
#pragma unroll
          for (int c = 0; c < C; ++c) {
            int s = 0;
            if constexpr (Q == QType::kQ4_0) {
#pragma unroll
              for (int t = 0; t < 4; ++t) {
                s = __dp4a(static_cast<int>(qs[c][t] & 0x0f0f0f0fu), xw[t], s);
                s = __dp4a(static_cast<int>((qs[c][t] >> 4) & 0x0f0f0f0fu), xw[4 + t], s);
              }
              sum[r][c] += dw[c] * (xd.x * static_cast<float>(s) - 8.0f * xd.y);
            } else {
#pragma unroll
              for (int t = 0; t < 8; ++t) s = __dp4a(static_cast<int>(qs[c][t]), xw[t], s);
              sum[r][c] += dw[c] * xd.x * static_cast<float>(s);
            }
          }
        }
      }
      __syncwarp();  // every lane is done with `slot` before the next issue overwrites it
      slot ^= 1;
    }
    // Reduce: lanes by shuffles, then warps through red[parity]. One barrier per group: a warp
    // that runs ahead writes the other half, and cannot come back to this one before every
    // thread has passed the next group's barrier (so finished reading this one).
    float* r_half = red + parity * warps * kMaxM * C;
#pragma unroll
    for (int r = 0; r < kMaxM; ++r) {
      if (r >= m) break;
#pragma unroll
      for (int c = 0; c < C; ++c) {
        float v = sum[r][c];
#pragma unroll
        for (int off = 16; off > 0; off /= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
        if (lane == 0) r_half[(warp * kMaxM + r) * C + c] = v;
      }
    }
    __syncthreads();
    for (int t = static_cast<int>(threadIdx.x); t < m * C; t += static_cast<int>(blockDim.x)) {
      const int r = t / C, c = t % C;  // m * C may exceed a 1-warp block's 32 threads
      if (col0 + c < n) {
        float v = 0.0f;
        for (int i = 0; i < warps; ++i) v += r_half[(i * kMaxM + r) * C + c];
        acc[r * n + col0 + c] = v;
      }
    }
    parity ^= 1;
  }
}

__device__ __forceinline__ uint32_t bits_of(float v) {
  return __float_as_uint(v);
}
__device__ __forceinline__ uint32_t bits_of(__half v) {
  return __half_as_ushort(v);
}
__device__ __forceinline__ uint32_t bits_of(__nv_bfloat16 v) {
  return __bfloat16_as_ushort(v);
}

// ---- dequantize (rows, d) blocks -> (rows, d) T ----
// A warp per chunk of one row (grid-stride): stage the chunk, then each lane writes 16-byte
// pieces of the output (8 values of one block) with coalesced stores.
template <QType Q, class T>
__global__ void __launch_bounds__(256)
    dequantize_chunks_kernel(const uint8_t* __restrict__ w, int64_t rows, int64_t d,
                             T* __restrict__ out) {
  using B = Blk<Q>;
  constexpr int kSlots = chunk_slots<Q>();
  __shared__ uint4 smem[8][kSlots + 1];  // + 1: the last piece's funnel-shift word
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  uint4* buf = smem[warp];
  const int64_t units = d / 32, rb = units * B::kBytes;
  const int64_t chunks_per_row = (units + kChunk - 1) / kChunk, total = rows * chunks_per_row;
  constexpr int kPerPiece = 16 / sizeof(T);  // output values per 16-byte store
  for (int64_t i = blockIdx.x * int64_t{8} + warp; i < total; i += int64_t{gridDim.x} * 8) {
    const int64_t r = i / chunks_per_row, u0 = (i % chunks_per_row) * kChunk;
    const int cu = static_cast<int>(units - u0 < kChunk ? units - u0 : kChunk);
    stage_chunk<Q>(buf, w + r * rb, u0, cu, lane);
    cp_async_commit();
    cp_async_wait<0>();
    __syncwarp();
    T* dst = out + r * d + u0 * 32;
    const int pieces = cu * 32 / kPerPiece;
    for (int p = lane; p < pieces; p += 32) {
      const int blk = p / (32 / kPerPiece), first = (p % (32 / kPerPiece)) * kPerPiece;
      // The piece's codes: kPerPiece bytes from code byte b0 of block blk (Q4_0: low nibbles of
      // bytes 0-15 are values 0-15, high nibbles 16-31), as aligned shared-memory words.
      const int b0 = Q == QType::kQ4_0 ? first % 16 : first;
      const int shift = Q == QType::kQ4_0 && first >= 16 ? 4 : 0;
      const int at = (blk / 8) * B::kStride * 16 + B::kBytes * (blk % 8);  // block's byte
      const uint32_t* words = reinterpret_cast<const uint32_t*>(buf);
      const uint32_t w0 = words[at / 4];
      const float scale = __half2float(
          __ushort_as_half(static_cast<unsigned short>((at % 4) != 0 ? w0 >> 16 : w0)));
      const int a = at + 2 + b0;  // even
      const unsigned fs = (a % 4) != 0 ? 16u : 0u;
      uint32_t sel[kPerPiece / 4];
#pragma unroll
      for (int h = 0; h < kPerPiece / 4; ++h)
        sel[h] = __funnelshift_r(words[a / 4 + h], words[a / 4 + h + 1], fs);
      uint32_t packed[4] = {0, 0, 0, 0};
#pragma unroll
      for (int j = 0; j < kPerPiece; ++j) {
        const uint32_t byte = (sel[j / 4] >> (8 * (j % 4))) & 0xffu;
        float q;
        if constexpr (Q == QType::kQ4_0)
          q = static_cast<float>(static_cast<int>((byte >> shift) & 0x0fu) - 8);
        else
          q = static_cast<float>(static_cast<int8_t>(byte));
        T v;
        store(v, __fmul_rn(q, scale));
        if constexpr (sizeof(T) == 4)
          packed[j] = bits_of(v);
        else
          packed[j / 2] |= bits_of(v) << (16 * (j % 2));
      }
      reinterpret_cast<uint4*>(dst)[p] = make_uint4(packed[0], packed[1], packed[2], packed[3]);
    }
    __syncwarp();
  }
}

bool tiled_type(QType q) {
  return q == QType::kQ4_0 || q == QType::kQ8_0;
}

template <class Fn>
void dispatch_tiled(QType q, Fn&& fn) {
  if (q == QType::kQ4_0)
    fn.template operator()<QType::kQ4_0>();
  else
    fn.template operator()<QType::kQ8_0>();
}

int64_t pad_k(int64_t k) {
  return (k + kChunkValues - 1) / kChunkValues * kChunkValues;
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] != '\0' ? std::atoi(v) : fallback;
}

int sm_count() {
  static const int count = [] {
    int dev = 0, sms = 0;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    return sms > 0 ? sms : 1;
  }();
  return count;
}

template <QType Q, int C, int kMaxM>
void launch_gemv_rows(cudaStream_t s, const uint8_t* w, int64_t n, int64_t k, const int8_t* xq,
                      const float2* xds, int m, float* acc) {
  const int64_t chunks = pad_k(k) / kChunkValues;
  const int warps = static_cast<int>(chunks < 4 ? chunks : 4);
  const int64_t groups = (n + C - 1) / C;
  const size_t smem = sizeof(uint4) * static_cast<size_t>(warps) * 2 * C * chunk_slots<Q>() +
                      sizeof(float) * 2 * static_cast<size_t>(warps) * kMaxM * C;
  auto kernel = qgemv_dp4a_kernel<Q, C, kMaxM>;
  // Persistent grid: as many blocks as fit on the GPU at once (resident blocks per SM for this
  // warp count, cached), or one per group when there are fewer. WICK_CUDA_GEMV_PERSIST=0: one
  // block per group (tuning only).
  static std::atomic<int> resident[5] = {};
  int per_sm = resident[warps].load(std::memory_order_relaxed);
  if (per_sm == 0) {
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, warps * 32, smem) !=
            cudaSuccess ||
        per_sm < 1)
      per_sm = 1;
    resident[warps].store(per_sm, std::memory_order_relaxed);
  }
  static const bool persist = env_int("WICK_CUDA_GEMV_PERSIST", 1) != 0;
  const int64_t cap = persist ? int64_t{per_sm} * sm_count() : groups;
  const auto blocks = static_cast<unsigned>(groups < cap ? groups : cap);
  // Programmatic dependent launch (Hopper): blocks may start while quantize_x_kernel runs.
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(blocks);
  config.blockDim = dim3(static_cast<unsigned>(warps * 32));
  config.dynamicSmemBytes = smem;
  config.stream = s;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  config.attrs = attr;
  config.numAttrs = 1;
  const cudaError_t err = cudaLaunchKernelEx(&config, kernel, w, n, k, pad_k(k), xq, xds, m, acc);
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("cuda kernel qgemv_dp4a: ") + cudaGetErrorString(err));
}

template <QType Q, int C>
void launch_gemv(cudaStream_t s, const uint8_t* w, int64_t n, int64_t k, const int8_t* xq,
                 const float2* xds, int m, float* acc) {
  if (m == 1)
    launch_gemv_rows<Q, C, 1>(s, w, n, k, xq, xds, m, acc);
  else if (m <= kGemvMaxRows)
    launch_gemv_rows<Q, C, kGemvMaxRows>(s, w, n, k, xq, xds, m, acc);
  else
    launch_gemv_rows<Q, C, kQgemvQ8MaxRows>(s, w, n, k, xq, xds, m, acc);
}

}  // namespace

int qgemv_q8_batch_rows() {
  static const int rows = [] {
    // One pass of 16 rows beats dequantize + cuBLAS (8B Q4_0 batched decode at 16 sequences:
    // 1,232 vs 1,074 tok/s on an H200); two or more passes lose (32: 1,366 vs 1,952), as the
    // dp4a work grows with the rows while the bf16 copy of the weight costs the same at any m.
    const int v = env_int("WICK_CUDA_QGEMV_ROWS", kQgemvQ8MaxRows);
    return v < kGemvMaxRows ? kGemvMaxRows : v;
  }();
  return rows;
}

int64_t qgemv_q8_scratch_bytes(int64_t m, int64_t k) {
  return m * pad_k(k) + m * (pad_k(k) / 32) * static_cast<int64_t>(sizeof(float2));
}

bool launch_qgemv_q8(cudaStream_t s, QType q, const void* w, int64_t n, int64_t k, const float* x,
                     int64_t m, void* scratch, float* acc) {
  if (!tiled_type(q) || k % 256 != 0 || m < 1 || m > kQgemvQ8MaxRows ||
      reinterpret_cast<uintptr_t>(w) % 16 != 0 || reinterpret_cast<uintptr_t>(x) % 16 != 0 ||
      reinterpret_cast<uintptr_t>(scratch) % 16 != 0)
    return false;
  if (n == 0) return true;
  const int64_t kp = pad_k(k);
  auto* xq = static_cast<int8_t*>(scratch);
  auto* xds = reinterpret_cast<float2*>(xq + m * kp);
  quantize_x_kernel<<<grid_for(m * kp / 32, 128), 128, 0, s>>>(x, m, k, kp, xq, xds);
  check_launch("qgemv quantize_x");
  // Rows per group: enough groups to fill the GPU at every shape, more reuse of x when n is
  // large (8 measured no faster than 4). WICK_CUDA_GEMV_COLS (1, 2, 4) overrides for tuning.
  static const int forced = env_int("WICK_CUDA_GEMV_COLS", 0);
  const int cols = forced == 1 || forced == 2 || forced == 4 ? forced
                   : n >= 8192                               ? 4
                   : n >= 2048                               ? 2
                                                             : 1;
  const auto* wb = static_cast<const uint8_t*>(w);
  const int rows = static_cast<int>(m);
  dispatch_tiled(q, [&]<QType Q>() {
    if (cols == 4)
      launch_gemv<Q, 4>(s, wb, n, k, xq, xds, rows, acc);
    else if (cols == 2)
      launch_gemv<Q, 2>(s, wb, n, k, xq, xds, rows, acc);
    else
      launch_gemv<Q, 1>(s, wb, n, k, xq, xds, rows, acc);
  });
  check_launch("qgemv_dp4a");
  return true;
}

bool launch_dequantize_chunks(cudaStream_t s, QType q, const void* blocks, int64_t rows, int64_t d,
                              Elem t, void* out) {
  if (!tiled_type(q) || d % 256 != 0 || reinterpret_cast<uintptr_t>(blocks) % 16 != 0 ||
      reinterpret_cast<uintptr_t>(out) % 16 != 0 ||
      (t != Elem::kF32 && t != Elem::kF16 && t != Elem::kBF16))
    return false;
  const int64_t chunks = rows * ((d / 32 + kChunk - 1) / kChunk);
  if (chunks == 0) return true;
  dispatch_tiled(q, [&]<QType Q>() {
    dispatch_float_elem(t, [&]<class T>() {
      dequantize_chunks_kernel<Q, T><<<grid_for(chunks, 8), 256, 0, s>>>(
          static_cast<const uint8_t*>(blocks), rows, d, static_cast<T*>(out));
    });
  });
  check_launch("dequantize_chunks");
  return true;
}

}  // namespace wick::cuda
