// Device code for attention over a paged KV pool (ops.h: attention, store_rows). One kernel
// serves prefill and decode: a block takes a tile of query rows x a slice of one KV head's query
// heads, walks the visible keys in tiles of kKeyTile (K/V tile in shared memory, looked up
// through the block table) and keeps an online softmax per query vector in registers. When few
// blocks would run (decode), the keys are split across blocks and a second kernel merges the
// partial (max, sum, acc) triples. f32 compute throughout; no tensor cores yet.
#include <cfloat>

#include "backends/cuda/device_common.cuh"

namespace wick::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kKeyTile = 32;  // one key per lane in the score phase

__device__ int g_attention_index_error = 0;

__host__ __device__ __forceinline__ int64_t imin(int64_t a, int64_t b) {
  return a < b ? a : b;
}
__host__ __device__ __forceinline__ int64_t imax(int64_t a, int64_t b) {
  return a > b ? a : b;
}

__device__ __forceinline__ float load_pool(Elem t, const void* base, int64_t i) {
  switch (t) {
    case Elem::kF16:
      return __half2float(static_cast<const __half*>(base)[i]);
    case Elem::kBF16:
      return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[i]);
    default:
      return static_cast<const float*>(base)[i];
  }
}

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// The (row, head) a block's query vector r stands for.
struct QueryTile {
  int64_t q_begin, past, i0;  // sequence's first query row and past; tile's first row
  int rows, R;                // rows in this tile; query vectors (rows * heads_per_block)
};

// Stages the tile's K and V rows [t0, t0 + kKeyTile) as f32 (zeros past k_end). ks rows are
// padded to D + 1 floats so lane j reading key j's dim d hits bank (j + d) % 32.
__device__ void load_kv_tile(const AttentionArgs& a, int b, int g, int64_t t0, int64_t k_end,
                             float* ks, float* vs) {
  const int64_t D = a.D;
  for (int64_t idx = threadIdx.x; idx < kKeyTile * D; idx += blockDim.x) {
    const int64_t j = idx / D, d = idx - j * D, t = t0 + j;
    float kv = 0.0f, vv = 0.0f;
    if (t < k_end) {
      int64_t blk = a.table[b * a.M + t / a.block_size];
      if (blk < 0 || blk >= a.pool_rows / a.block_size) {
        g_attention_index_error = 1;
        blk = 0;
      }
      const int64_t off = ((blk * a.block_size + t % a.block_size) * a.KVH + g) * D + d;
      kv = load_pool(a.pool, a.k_pool, off);
      vv = load_pool(a.pool, a.v_pool, off);
    }
    ks[j * (D + 1) + d] = kv;
    vs[j * D + d] = vv;
  }
}

// q: (N, H, D); block (x: sequence * query tile, y: kv head * head slice, z: key split).
// DPL: output dims per lane (D <= 32 * DPL); QPW: query vectors per warp.
template <int DPL, int QPW>
__global__ void __launch_bounds__(kWarps * 32)
    attention_kernel(AttentionArgs a, AttentionPlan p, float* scratch) {
  extern __shared__ float smem[];
  const int64_t D = a.D;
  float* ks = smem;                     // kKeyTile x (D + 1)
  float* vs = ks + kKeyTile * (D + 1);  // kKeyTile x D
  float* qs = vs + kKeyTile * D;        // kWarps * QPW x D, pre-scaled
  const int64_t group = a.H / a.KVH;
  const int b = static_cast<int>(blockIdx.x / p.q_tiles);
  const int64_t tile = blockIdx.x % p.q_tiles;
  const int g = static_cast<int>(blockIdx.y / p.head_slices);
  const int64_t h0 = g * group + (blockIdx.y % p.head_slices) * p.heads_per_block;
  const int64_t q_begin = a.seqs[b * 3], q_len = a.seqs[b * 3 + 1], past = a.seqs[b * 3 + 2];
  const int64_t i0 = tile * p.rows_per_block;
  if (i0 >= q_len) return;
  const int rows = static_cast<int>(imin(p.rows_per_block, q_len - i0));
  const int R = rows * p.heads_per_block;

  // Keys any row of the tile sees: [lo, hi]; this split takes one kKeyTile-aligned chunk.
  const int64_t hi = past + i0 + rows - 1;
  const int64_t lo = a.window > 0 ? imax(0, past + i0 - a.window + 1) : 0;
  const int64_t span = hi - lo + 1;
  const int64_t chunk = ((span + p.n_splits - 1) / p.n_splits + kKeyTile - 1) / kKeyTile * kKeyTile;
  const int64_t k0 = lo + blockIdx.z * chunk, k1 = imin(hi + 1, k0 + chunk);

  for (int64_t idx = threadIdx.x; idx < kWarps * QPW * D; idx += blockDim.x) {
    const int64_t r = idx / D, d = idx - r * D;
    float v = 0.0f;
    if (r < R) {
      const int64_t n = q_begin + i0 + r / p.heads_per_block, h = h0 + r % p.heads_per_block;
      v = a.q[(n * a.H + h) * D + d] * a.scale;
    }
    qs[idx] = v;
  }
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  float m[QPW], l[QPW], acc[QPW][DPL];
  int64_t pos[QPW];
#pragma unroll
  for (int qi = 0; qi < QPW; ++qi) {
    m[qi] = -INFINITY;
    l[qi] = 0.0f;
#pragma unroll
    for (int i = 0; i < DPL; ++i) acc[qi][i] = 0.0f;
    pos[qi] = past + i0 + (warp + kWarps * qi) / p.heads_per_block;
  }

  for (int64_t t0 = k0; t0 < k1; t0 += kKeyTile) {
    __syncthreads();
    load_kv_tile(a, b, g, t0, k1, ks, vs);
    __syncthreads();
    float s[QPW];
#pragma unroll
    for (int qi = 0; qi < QPW; ++qi) s[qi] = 0.0f;
    const float* krow = ks + lane * (D + 1);
    for (int64_t d = 0; d < D; ++d) {
      const float kd = krow[d];
#pragma unroll
      for (int qi = 0; qi < QPW; ++qi) s[qi] += qs[(warp + kWarps * qi) * D + d] * kd;
    }
    const int64_t t = t0 + lane;
#pragma unroll
    for (int qi = 0; qi < QPW; ++qi) {
      if (warp + kWarps * qi >= R) continue;  // warp-uniform
      const bool visible = t < k1 && t <= pos[qi] && (a.window == 0 || pos[qi] - t < a.window);
      float sc = s[qi];
      if (a.softcap > 0.0f) sc = a.softcap * tanhf(sc / a.softcap);
      sc = visible ? sc : -INFINITY;
      const float m_new = fmaxf(m[qi], warp_max(sc));
      const float e = visible ? expf(sc - m_new) : 0.0f;
      const float corr = m[qi] == -INFINITY ? 0.0f : expf(m[qi] - m_new);
      l[qi] = l[qi] * corr + warp_sum(e);
#pragma unroll
      for (int i = 0; i < DPL; ++i) acc[qi][i] *= corr;
      m[qi] = m_new;
      s[qi] = e;
    }
    for (int j = 0; j < kKeyTile; ++j) {
      float vj[DPL];
#pragma unroll
      for (int i = 0; i < DPL; ++i) {
        const int64_t d = lane + 32 * i;
        vj[i] = d < D ? vs[j * D + d] : 0.0f;
      }
#pragma unroll
      for (int qi = 0; qi < QPW; ++qi) {
        const float pj = __shfl_sync(0xffffffffu, s[qi], j);
#pragma unroll
        for (int i = 0; i < DPL; ++i) acc[qi][i] += pj * vj[i];
      }
    }
  }

#pragma unroll
  for (int qi = 0; qi < QPW; ++qi) {
    const int r = warp + kWarps * qi;
    if (r >= R) continue;
    const int64_t n = q_begin + i0 + r / p.heads_per_block, h = h0 + r % p.heads_per_block;
    if (p.n_splits == 1) {
      float* o = a.out + (n * a.H + h) * D;
#pragma unroll
      for (int i = 0; i < DPL; ++i)
        if (lane + 32 * i < D) o[lane + 32 * i] = acc[qi][i] / l[qi];
    } else {
      float* part = scratch + ((static_cast<int64_t>(blockIdx.z) * a.N + n) * a.H + h) * (D + 2);
#pragma unroll
      for (int i = 0; i < DPL; ++i)
        if (lane + 32 * i < D) part[lane + 32 * i] = acc[qi][i];
      if (lane == 0) {
        part[D] = m[qi];
        part[D + 1] = l[qi];
      }
    }
  }
}

// One warp per (row, head): merges the splits' partial sums with their max-shift weights.
__global__ void attention_combine_kernel(const float* scratch, float* out, int64_t NH, int64_t D,
                                         int n_splits) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = static_cast<int>(threadIdx.x % 32);
  if (row >= NH) return;
  const auto part = [&](int s) { return scratch + (static_cast<int64_t>(s) * NH + row) * (D + 2); };
  float mx = -INFINITY;
  for (int s = 0; s < n_splits; ++s) mx = fmaxf(mx, part(s)[D]);
  float total = 0.0f;
  for (int s = 0; s < n_splits; ++s)
    if (part(s)[D] != -INFINITY) total += part(s)[D + 1] * expf(part(s)[D] - mx);
  for (int64_t d = lane; d < D; d += 32) {
    float v = 0.0f;
    for (int s = 0; s < n_splits; ++s)
      if (part(s)[D] != -INFINITY) v += part(s)[d] * expf(part(s)[D] - mx);
    out[row * D + d] = v / total;
  }
}

template <int DPL, int QPW>
void launch_typed(cudaStream_t s, const AttentionArgs& a, const AttentionPlan& p, float* scratch) {
  static const bool raised = [] {
    cudaFuncSetAttribute(attention_kernel<DPL, QPW>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                         128 * 1024);
    return true;
  }();
  (void)raised;
  const size_t smem =
      sizeof(float) * static_cast<size_t>(kKeyTile * (2 * a.D + 1) + kWarps * QPW * a.D);
  const dim3 grid(static_cast<unsigned>(a.B * p.q_tiles),
                  static_cast<unsigned>(a.KVH * p.head_slices), static_cast<unsigned>(p.n_splits));
  attention_kernel<DPL, QPW><<<grid, kWarps * 32, smem, s>>>(a, p, scratch);
}

template <int DPL>
void launch_dpl(cudaStream_t s, const AttentionArgs& a, const AttentionPlan& p, float* scratch) {
  switch (p.queries_per_warp) {
    case 1:
      return launch_typed<DPL, 1>(s, a, p, scratch);
    case 2:
      return launch_typed<DPL, 2>(s, a, p, scratch);
    case 4:
      return launch_typed<DPL, 4>(s, a, p, scratch);
    default:
      if constexpr (DPL < 8) return launch_typed<DPL, 8>(s, a, p, scratch);
      throw std::runtime_error("attention: 8 queries per warp with head_dim > 128");
  }
}

template <class T>
__global__ void store_rows_kernel(T* pool, const float* rows, const int32_t* index, int64_t n,
                                  int64_t width, int64_t pool_rows) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n * width;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / width, c = i - r * width;
    const int64_t dst = index[r];
    if (dst < 0 || dst >= pool_rows) {
      g_attention_index_error = 1;
      continue;
    }
    store(pool[dst * width + c], rows[i]);
  }
}

}  // namespace

AttentionPlan plan_attention(const AttentionArgs& a, int sm_count) {
  AttentionPlan p;
  const int dpl = a.D <= 32 ? 1 : a.D <= 64 ? 2 : a.D <= 128 ? 4 : 8;
  const int64_t max_vectors = kWarps * (dpl == 8 ? 4 : 8);
  const int64_t group = a.H / a.KVH;
  p.heads_per_block = 1;
  for (int64_t d = 1; d <= group && d <= max_vectors; ++d)
    if (group % d == 0) p.heads_per_block = d;
  p.head_slices = group / p.heads_per_block;
  const bool decode = a.N <= 2 * a.B;  // about one query row per sequence
  p.rows_per_block = decode ? 1 : max_vectors / p.heads_per_block;
  const int64_t vectors = p.rows_per_block * p.heads_per_block;
  p.queries_per_warp = 1;
  while (p.queries_per_warp * kWarps < vectors) p.queries_per_warp *= 2;
  p.q_tiles = (attention_max_rows(a) + p.rows_per_block - 1) / p.rows_per_block;
  p.n_splits = 1;
  if (decode) {
    const int64_t blocks = a.B * a.KVH * p.head_slices;
    const int64_t max_keys = a.M * a.block_size;
    // Down to one key tile per split: a single sequence's decode (B x KVH blocks, 8 for Llama 3)
    // would otherwise walk hundreds of keys on a handful of multiprocessors.
    const int64_t by_keys = (max_keys + kKeyTile - 1) / kKeyTile;
    const int64_t by_sms = (2 * sm_count + blocks - 1) / blocks;
    p.n_splits = static_cast<int>(imax(1, imin(64, imin(by_keys, by_sms))));
  }
  return p;
}

void launch_attention(cudaStream_t s, const AttentionArgs& a, const AttentionPlan& p,
                      float* scratch) {
  if (a.N == 0 || a.B == 0) return;
  if (a.D > 256) throw std::runtime_error("attention: head_dim above 256 is not supported");
  switch (a.D <= 32 ? 1 : a.D <= 64 ? 2 : a.D <= 128 ? 4 : 8) {
    case 1:
      launch_dpl<1>(s, a, p, scratch);
      break;
    case 2:
      launch_dpl<2>(s, a, p, scratch);
      break;
    case 4:
      launch_dpl<4>(s, a, p, scratch);
      break;
    default:
      launch_dpl<8>(s, a, p, scratch);
      break;
  }
  check_launch("attention");
  if (p.n_splits > 1) {
    const int64_t NH = a.N * a.H;
    attention_combine_kernel<<<static_cast<unsigned>((NH + kWarps - 1) / kWarps), kWarps * 32, 0,
                               s>>>(scratch, a.out, NH, a.D, p.n_splits);
    check_launch("attention combine");
  }
}

void launch_store_rows(cudaStream_t s, Elem pool_t, void* pool, const float* rows,
                       const int32_t* index, int64_t n, int64_t width, int64_t pool_rows) {
  if (n * width == 0) return;
  const int64_t blocks = imin((n * width + 255) / 256, 4096);
  dispatch_float_elem(pool_t, [&]<class T>() {
    store_rows_kernel<T><<<static_cast<unsigned>(blocks), 256, 0, s>>>(static_cast<T*>(pool), rows,
                                                                       index, n, width, pool_rows);
  });
  check_launch("store_rows");
}

bool take_device_attention_index_error() {
  const bool tc = take_device_attention_tc_index_error();
  int flag = 0;
  if (cudaMemcpyFromSymbol(&flag, g_attention_index_error, sizeof(int)) != cudaSuccess) return tc;
  if (flag == 0) return tc;
  const int zero = 0;
  cudaMemcpyToSymbol(g_attention_index_error, &zero, sizeof(int));
  return true;
}

}  // namespace wick::cuda
