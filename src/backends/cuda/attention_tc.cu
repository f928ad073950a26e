// Tensor-core flash attention for prefill (ops.h: attention; dispatched from attention.cpp when
// many query rows arrive and head_dim is 64 or 128). A block of 4 warps takes 64 query vectors:
// a tile of query rows x the query heads of one KV head (GQA: the K/V tiles serve the whole
// group), walks the visible keys in tiles of 64 through the block table, and computes S = Q K^T
// and O += P V with mma.sync m16n8k16 on f16 operands and f32 accumulators. Each warp owns 16
// query vectors and keeps their online softmax (max, sum) in registers. Q (pre-scaled), K and V
// are rounded to f16 when staged in shared memory (exact for f16 pools; a bf16 pool's values fit
// f16's 11 significant bits unless beyond +-65504 or below 2^-14); P is rounded to f16 for the
// second product. Masks, softcap and the softmax run in f32.
#include <cfloat>

#include "backends/cuda/device_common.cuh"

namespace wick::cuda {
namespace {

constexpr int kTcWarps = 4;
constexpr int kTcRows = 16 * kTcWarps;  // query vectors per block
constexpr int kTcKeys = 64;             // keys per tile
constexpr float kLog2e = 1.4426950408889634f;

__device__ int g_attention_tc_index_error = 0;

__device__ __forceinline__ uint32_t pack_half2(float lo, float hi) {
  const __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&h);
}

// d (16x8 f32) += a (16x16 f16, row) * b (16x8 f16, col).
__device__ __forceinline__ void mma_f16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                        uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Four 8x8 f16 matrices from shared memory, transposed (rows addressed by lanes 8i..8i+7).
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const __half* p) {
  const auto addr = static_cast<uint32_t>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

// 8 consecutive pool values at element offset off as 8 f16 (one 16-byte piece).
__device__ __forceinline__ uint4 load8_as_half(Elem t, const void* base, int64_t off) {
  uint4 out;
  if (t == Elem::kF16) {
    out = __ldg(reinterpret_cast<const uint4*>(static_cast<const __half*>(base) + off));
  } else if (t == Elem::kBF16) {
    const uint4 raw =
        __ldg(reinterpret_cast<const uint4*>(static_cast<const __nv_bfloat16*>(base) + off));
    const auto* b = reinterpret_cast<const __nv_bfloat162*>(&raw);
    auto* h = reinterpret_cast<__half2*>(&out);
#pragma unroll
    for (int i = 0; i < 4; ++i) h[i] = __float22half2_rn(__bfloat1622float2(b[i]));
  } else {
    const auto* f = reinterpret_cast<const float4*>(static_cast<const float*>(base) + off);
    const float4 x = __ldg(f), y = __ldg(f + 1);
    out.x = pack_half2(x.x, x.y);
    out.y = pack_half2(x.z, x.w);
    out.z = pack_half2(y.x, y.y);
    out.w = pack_half2(y.z, y.w);
  }
  return out;
}

// grid: (sequence x query tile, kv head x head slice). Query vector v of a block is row
// i0 + v / G, head h0 + v % G (G = p.heads_per_block).
template <int D>
__global__ void __launch_bounds__(kTcWarps * 32)
    attention_tc_kernel(AttentionArgs a, AttentionPlan p) {
  constexpr int kStride = D + 8;  // halves per smem row: 16-byte aligned, conflict-free fragments
  constexpr int kPer = kTcKeys * D / 8 / (kTcWarps * 32);  // 16-byte K (and V) pieces per thread
  constexpr int kInFlight = 4;
  static_assert(kPer % kInFlight == 0);
  extern __shared__ __align__(16) unsigned char tc_smem[];
  __half* qs = reinterpret_cast<__half*>(tc_smem);  // kTcRows x kStride
  __half* ks = qs + kTcRows * kStride;              // kTcKeys x kStride
  __half* vs = ks + kTcKeys * kStride;              // kTcKeys x kStride

  const int64_t G = p.heads_per_block;
  const int64_t group = a.H / a.KVH;
  const int b = static_cast<int>(blockIdx.x % a.B);
  const int64_t tile = p.q_tiles - 1 - blockIdx.x / a.B;  // longest key ranges first
  const int g = static_cast<int>(blockIdx.y / p.head_slices);
  const int64_t h0 = g * group + (blockIdx.y % p.head_slices) * G;
  const int64_t q_begin = a.seqs[b * 3], q_len = a.seqs[b * 3 + 1], past = a.seqs[b * 3 + 2];
  const int64_t i0 = tile * p.rows_per_block;
  if (i0 >= q_len) return;
  const int64_t rows = q_len - i0 < p.rows_per_block ? q_len - i0 : p.rows_per_block;
  const int R = static_cast<int>(rows * G);

  // Keys any row of the tile sees: [lo, hi].
  const int64_t hi = past + i0 + rows - 1;
  int64_t lo = 0;
  if (a.window > 0 && past + i0 - a.window + 1 > 0) lo = past + i0 - a.window + 1;

  // Stage Q (scaled, f16), zeros for vectors past R.
  for (int idx = threadIdx.x; idx < kTcRows * D / 4; idx += blockDim.x) {
    const int r = idx / (D / 4), c = (idx % (D / 4)) * 4;
    float4 x = make_float4(0.f, 0.f, 0.f, 0.f);
    if (r < R) {
      const int64_t n = q_begin + i0 + r / G, h = h0 + r % G;
      x = __ldg(reinterpret_cast<const float4*>(a.q + (n * a.H + h) * D + c));
    }
    uint2 h2;
    h2.x = pack_half2(x.x * a.scale, x.y * a.scale);
    h2.y = pack_half2(x.z * a.scale, x.w * a.scale);
    *reinterpret_cast<uint2*>(qs + r * kStride + c) = h2;
  }

  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  const int quad_row = lane / 4, quad_col = (lane % 4) * 2;
  const int ra = warp * 16 + quad_row, rb = ra + 8;
  // Positions of this thread's two rows (-1: no such vector, everything masked).
  const int pos_a = ra < R ? static_cast<int>(past + i0 + ra / G) : -1;
  const int pos_b = rb < R ? static_cast<int>(past + i0 + rb / G) : -1;
  const int window = static_cast<int>(a.window);
  const int bs = static_cast<int>(a.block_size);
  const int64_t n_blocks = a.pool_rows / a.block_size;
  const int last_vec = warp * 16 + 15 < R - 1 ? warp * 16 + 15 : R - 1;
  const int64_t warp_hi = warp * 16 < R ? past + i0 + last_vec / G : -1;  // warp's last position

  float m_a = -INFINITY, m_b = -INFINITY, l_a = 0.f, l_b = 0.f;
  float o[D / 8][4];
#pragma unroll
  for (int i = 0; i < D / 8; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
  uint32_t qf[D / 16][4];

  const float cap = a.softcap;
  for (int64_t t0 = lo; t0 <= hi; t0 += kTcKeys) {
    __syncthreads();  // previous tile's K/V fully read
    // Table lookups for all of this thread's pieces first, then the pool loads kInFlight at a
    // time: the loads of a tile overlap instead of paying one memory latency each.
    int64_t offs[kPer];
#pragma unroll
    for (int i = 0; i < kPer; ++i) {
      const int idx = static_cast<int>(threadIdx.x) + i * kTcWarps * 32;
      const int j = idx / (D / 8), c = (idx % (D / 8)) * 8;
      // Positions and block sizes fit 32 bits (64-bit division is a long emulated sequence).
      const int t = static_cast<int>(t0) + j;
      offs[i] = -1;
      if (t <= hi) {
        int64_t blk = a.table[b * a.M + t / bs];
        if (blk < 0 || blk >= n_blocks) {
          g_attention_tc_index_error = 1;
          blk = 0;
        }
        offs[i] = ((blk * bs + t % bs) * a.KVH + g) * D + c;
      }
    }
#pragma unroll
    for (int i0 = 0; i0 < kPer; i0 += kInFlight) {
      uint4 kv[kInFlight], vv[kInFlight];
#pragma unroll
      for (int i = 0; i < kInFlight; ++i) {
        kv[i] = vv[i] = make_uint4(0, 0, 0, 0);
        if (offs[i0 + i] >= 0) {
          kv[i] = load8_as_half(a.pool, a.k_pool, offs[i0 + i]);
          vv[i] = load8_as_half(a.pool, a.v_pool, offs[i0 + i]);
        }
      }
#pragma unroll
      for (int i = 0; i < kInFlight; ++i) {
        const int idx = static_cast<int>(threadIdx.x) + (i0 + i) * kTcWarps * 32;
        const int j = idx / (D / 8), c = (idx % (D / 8)) * 8;
        *reinterpret_cast<uint4*>(ks + j * kStride + c) = kv[i];
        *reinterpret_cast<uint4*>(vs + j * kStride + c) = vv[i];
      }
    }
    __syncthreads();
    if (t0 == lo) {
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        const __half* q0 = qs + ra * kStride + kk * 16 + quad_col;
        const __half* q1 = qs + rb * kStride + kk * 16 + quad_col;
        qf[kk][0] = *reinterpret_cast<const uint32_t*>(q0);
        qf[kk][1] = *reinterpret_cast<const uint32_t*>(q1);
        qf[kk][2] = *reinterpret_cast<const uint32_t*>(q0 + 8);
        qf[kk][3] = *reinterpret_cast<const uint32_t*>(q1 + 8);
      }
    }
    if (t0 > warp_hi) continue;  // warp-uniform: every key of the tile is in this warp's future

    // S = Q K^T for 16 vectors x 64 keys.
    float s[kTcKeys / 8][4];
#pragma unroll
    for (int nt = 0; nt < kTcKeys / 8; ++nt) {
      s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
      const __half* krow = ks + (nt * 8 + quad_row) * kStride + quad_col;
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        const uint32_t b0 = *reinterpret_cast<const uint32_t*>(krow + kk * 16);
        const uint32_t b1 = *reinterpret_cast<const uint32_t*>(krow + kk * 16 + 8);
        mma_f16(s[nt], qf[kk], b0, b1);
      }
    }
    // Mask, softcap, to log2 units; row maxima over the quad.
    float mx_a = -INFINITY, mx_b = -INFINITY;
#pragma unroll
    for (int nt = 0; nt < kTcKeys / 8; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int t = static_cast<int>(t0) + nt * 8 + quad_col + (e & 1);
        const int pos = e < 2 ? pos_a : pos_b;
        const bool visible = t <= pos && (window == 0 || pos - t < window);
        float x = s[nt][e];
        if (cap > 0.f) x = cap * tanhf(x / cap);
        x = visible ? x * kLog2e : -INFINITY;
        s[nt][e] = x;
        if (e < 2)
          mx_a = fmaxf(mx_a, x);
        else
          mx_b = fmaxf(mx_b, x);
      }
#pragma unroll
    for (int o2 = 1; o2 <= 2; o2 <<= 1) {
      mx_a = fmaxf(mx_a, __shfl_xor_sync(0xffffffffu, mx_a, o2));
      mx_b = fmaxf(mx_b, __shfl_xor_sync(0xffffffffu, mx_b, o2));
    }
    const float new_a = fmaxf(m_a, mx_a), new_b = fmaxf(m_b, mx_b);
    const float shift_a = new_a == -INFINITY ? 0.f : new_a;
    const float shift_b = new_b == -INFINITY ? 0.f : new_b;
    const float corr_a = exp2f(m_a - shift_a), corr_b = exp2f(m_b - shift_b);
    m_a = new_a;
    m_b = new_b;
    // P (rounded to f16, summed as rounded) and O = O * corr + P V.
    uint32_t pf[kTcKeys / 8][2];
    float sum_a = 0.f, sum_b = 0.f;
#pragma unroll
    for (int nt = 0; nt < kTcKeys / 8; ++nt) {
      const __half2 pa = __floats2half2_rn(exp2f(s[nt][0] - shift_a), exp2f(s[nt][1] - shift_a));
      const __half2 pb = __floats2half2_rn(exp2f(s[nt][2] - shift_b), exp2f(s[nt][3] - shift_b));
      const float2 fa = __half22float2(pa), fb = __half22float2(pb);
      sum_a += fa.x + fa.y;
      sum_b += fb.x + fb.y;
      pf[nt][0] = *reinterpret_cast<const uint32_t*>(&pa);
      pf[nt][1] = *reinterpret_cast<const uint32_t*>(&pb);
    }
    l_a = l_a * corr_a + sum_a;
    l_b = l_b * corr_b + sum_b;
#pragma unroll
    for (int i = 0; i < D / 8; ++i) {
      o[i][0] *= corr_a;
      o[i][1] *= corr_a;
      o[i][2] *= corr_b;
      o[i][3] *= corr_b;
    }
#pragma unroll
    for (int kk = 0; kk < kTcKeys / 16; ++kk) {
      const uint32_t pa[4] = {pf[2 * kk][0], pf[2 * kk][1], pf[2 * kk + 1][0], pf[2 * kk + 1][1]};
      const int mi = lane / 8, r = lane % 8;
      const __half* vrow = vs + (kk * 16 + (mi & 1) * 8 + r) * kStride + (mi >> 1) * 8;
#pragma unroll
      for (int nd = 0; nd < D / 16; ++nd) {
        uint32_t vb[4];
        ldmatrix_x4_trans(vb, vrow + nd * 16);
        mma_f16(o[2 * nd], pa, vb[0], vb[1]);
        mma_f16(o[2 * nd + 1], pa, vb[2], vb[3]);
      }
    }
  }

#pragma unroll
  for (int o2 = 1; o2 <= 2; o2 <<= 1) {
    l_a += __shfl_xor_sync(0xffffffffu, l_a, o2);
    l_b += __shfl_xor_sync(0xffffffffu, l_b, o2);
  }
  if (ra < R) {
    const int64_t n = q_begin + i0 + ra / G, h = h0 + ra % G;
    float* out = a.out + (n * a.H + h) * D + quad_col;
    const float inv = 1.0f / l_a;
#pragma unroll
    for (int i = 0; i < D / 8; ++i)
      *reinterpret_cast<float2*>(out + i * 8) = make_float2(o[i][0] * inv, o[i][1] * inv);
  }
  if (rb < R) {
    const int64_t n = q_begin + i0 + rb / G, h = h0 + rb % G;
    float* out = a.out + (n * a.H + h) * D + quad_col;
    const float inv = 1.0f / l_b;
#pragma unroll
    for (int i = 0; i < D / 8; ++i)
      *reinterpret_cast<float2*>(out + i * 8) = make_float2(o[i][2] * inv, o[i][3] * inv);
  }
}

template <int D>
void launch_tc(cudaStream_t s, const AttentionArgs& a, const AttentionPlan& p) {
  constexpr size_t smem = sizeof(__half) * (kTcRows + 2 * kTcKeys) * (D + 8);
  static const bool raised = [] {
    cudaFuncSetAttribute(attention_tc_kernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                         static_cast<int>(smem));
    return true;
  }();
  (void)raised;
  const dim3 grid(static_cast<unsigned>(a.B * p.q_tiles),
                  static_cast<unsigned>(a.KVH * p.head_slices));
  attention_tc_kernel<D><<<grid, kTcWarps * 32, smem, s>>>(a, p);
}

}  // namespace

bool attention_tc_supports(const AttentionArgs& a) {
  // The kernel does position arithmetic in 32 bits: keys addressed by the table must fit.
  const int64_t max_keys = a.M * a.block_size;
  return (a.D == 64 || a.D == 128) && a.N >= 16 && a.N > 2 * a.B && a.H % a.KVH == 0 &&
         max_keys < (int64_t{1} << 30) && a.window < (int64_t{1} << 30);
}

AttentionPlan plan_attention_tc(const AttentionArgs& a) {
  AttentionPlan p;
  const int64_t group = a.H / a.KVH;
  p.heads_per_block = 1;
  for (int64_t d = 1; d <= group && d <= kTcRows; ++d)
    if (group % d == 0) p.heads_per_block = d;
  p.head_slices = group / p.heads_per_block;
  p.rows_per_block = kTcRows / p.heads_per_block;
  p.q_tiles = (attention_max_rows(a) + p.rows_per_block - 1) / p.rows_per_block;
  return p;
}

void launch_attention_tc(cudaStream_t s, const AttentionArgs& a, const AttentionPlan& p) {
  if (a.N == 0 || a.B == 0) return;
  if (a.D == 64)
    launch_tc<64>(s, a, p);
  else if (a.D == 128)
    launch_tc<128>(s, a, p);
  else
    throw std::runtime_error("attention_tc: head_dim must be 64 or 128");
  check_launch("attention_tc");
}

bool take_device_attention_tc_index_error() {
  int flag = 0;
  if (cudaMemcpyFromSymbol(&flag, g_attention_tc_index_error, sizeof(int)) != cudaSuccess)
    return false;
  if (flag == 0) return false;
  const int zero = 0;
  cudaMemcpyToSymbol(g_attention_tc_index_error, &zero, sizeof(int));
  return true;
}

}  // namespace wick::cuda
