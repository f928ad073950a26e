// Fused attention for one sequence, one KV head and a range of queries, written once over `Vec`
// (simd_vec_impl.h): keys in chunks of kChunk, scores for every query head of the group, an
// online softmax (running max and sum, accumulators rescaled once per chunk), then the weighted
// values. f16/bf16 pools convert each chunk's rows to f32 once for all heads of the group.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backends/cpu/attention_simd.h"
#include "backends/cpu/simd_vec_impl.h"
#include "core/half.h"

namespace wick::cpu {
namespace {

constexpr int64_t kChunk = 64;
constexpr int kW = Vec::kWidth;

float dot(const float* a, const float* b, int64_t n) {
  Vec::R acc = Vec::zero();
  int64_t i = 0;
  for (; i + kW <= n; i += kW) acc = Vec::fma(Vec::load(a + i), Vec::load(b + i), acc);
  if (i < n) {
    const int r = static_cast<int>(n - i);
    acc = Vec::fma(Vec::load_n(a + i, r), Vec::load_n(b + i, r), acc);
  }
  return Vec::hsum(acc);
}

// acc = acc * c + p * v
void scale_axpy(float* acc, float c, float p, const float* v, int64_t n) {
  const Vec::R vc = Vec::set1(c), vp = Vec::set1(p);
  int64_t i = 0;
  for (; i + kW <= n; i += kW)
    Vec::store(acc + i, Vec::fma(vp, Vec::load(v + i), Vec::mul(Vec::load(acc + i), vc)));
  if (i < n) {
    const int r = static_cast<int>(n - i);
    Vec::store_n(acc + i,
                 Vec::fma(vp, Vec::load_n(v + i, r), Vec::mul(Vec::load_n(acc + i, r), vc)), r);
  }
}

void to_f32(DType dt, const void* src, int64_t n, float* dst) {
  const auto* p = static_cast<const uint16_t*>(src);
  if (dt == DType::kF16) {
    for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(p[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(p[i]);
  }
}

// Pointers to the f32 rows of `count` keys (or values) from position t0, converting into `buf`
// when the pool is not f32.
void gather_rows(const AttentionArgs& a, const void* pool, int64_t b, int64_t g, int64_t t0,
                 int64_t count, float* buf, const float** rows) {
  const size_t elem = a.pool_dtype == DType::kF32 ? 4 : 2;
  for (int64_t j = 0; j < count; ++j) {
    const int64_t t = t0 + j;
    const int64_t row =
        static_cast<int64_t>(a.table[b * a.M + t / a.block_size]) * a.block_size + t % a.block_size;
    const auto* src =
        static_cast<const uint8_t*>(pool) + static_cast<size_t>((row * a.KVH + g) * a.D) * elem;
    if (a.pool_dtype == DType::kF32) {
      rows[j] = reinterpret_cast<const float*>(src);
    } else {
      to_f32(a.pool_dtype, src, a.D, buf + j * a.D);
      rows[j] = buf + j * a.D;
    }
  }
}

void attention_range(const AttentionArgs& a, int64_t b, int64_t g, int64_t i0, int64_t i1) {
  const int64_t group = a.H / a.KVH, D = a.D;
  const int64_t begin = a.seqs[b * 3], past = a.seqs[b * 3 + 2];
  // Scratch reused across calls on this thread (one call per work item on the hot path).
  thread_local std::vector<float> qs, acc, scores, m, l, kbuf, vbuf;
  qs.resize(static_cast<size_t>(group * D));
  acc.resize(static_cast<size_t>(group * D));
  scores.resize(static_cast<size_t>(group * kChunk));
  m.resize(static_cast<size_t>(group));
  l.resize(static_cast<size_t>(group));
  if (a.pool_dtype != DType::kF32) {
    kbuf.resize(static_cast<size_t>(kChunk * D));
    vbuf.resize(static_cast<size_t>(kChunk * D));
  }
  const float* krows[kChunk];
  const float* vrows[kChunk];
  for (int64_t i = i0; i < i1; ++i) {
    const int64_t pos = past + i;
    const int64_t lo = a.window > 0 ? std::max<int64_t>(0, pos - a.window + 1) : 0;
    for (int64_t h = 0; h < group; ++h) {
      const float* src = a.q + ((begin + i) * a.H + g * group + h) * D;
      for (int64_t d = 0; d < D; ++d) qs[static_cast<size_t>(h * D + d)] = src[d] * a.scale;
    }
    std::fill(acc.begin(), acc.end(), 0.0f);
    std::fill(m.begin(), m.end(), -INFINITY);
    std::fill(l.begin(), l.end(), 0.0f);
    for (int64_t c0 = lo; c0 <= pos; c0 += kChunk) {
      const int64_t n = std::min(kChunk, pos + 1 - c0);
      gather_rows(a, a.k_pool, b, g, c0, n, kbuf.data(), krows);
      gather_rows(a, a.v_pool, b, g, c0, n, vbuf.data(), vrows);
      for (int64_t h = 0; h < group; ++h) {
        float* sc = scores.data() + h * kChunk;
        const float* qh = qs.data() + h * D;
        float cmax = -INFINITY;
        for (int64_t j = 0; j < n; ++j) {
          float s = dot(qh, krows[j], D);
          if (a.softcap > 0.0f) s = a.softcap * std::tanh(s / a.softcap);
          sc[j] = s;
          cmax = std::max(cmax, s);
        }
        const float mnew = std::max(m[static_cast<size_t>(h)], cmax);
        float sum = 0.0f;
        int64_t j = 0;
        for (; j + kW <= n; j += kW) {
          const Vec::R e = vexp(Vec::sub(Vec::load(sc + j), Vec::set1(mnew)));
          Vec::store(sc + j, e);
          sum += Vec::hsum(e);
        }
        for (; j < n; ++j) sum += (sc[j] = std::exp(sc[j] - mnew));
        const float corr = std::exp(m[static_cast<size_t>(h)] - mnew);  // 0 on the first chunk
        l[static_cast<size_t>(h)] = l[static_cast<size_t>(h)] * corr + sum;
        m[static_cast<size_t>(h)] = mnew;
        float* ah = acc.data() + h * D;
        scale_axpy(ah, corr, sc[0], vrows[0], D);
        for (int64_t jj = 1; jj < n; ++jj) scale_axpy(ah, 1.0f, sc[jj], vrows[jj], D);
      }
    }
    for (int64_t h = 0; h < group; ++h) {
      float* dst = a.out + ((begin + i) * a.H + g * group + h) * D;
      const float inv = 1.0f / l[static_cast<size_t>(h)];
      for (int64_t d = 0; d < D; ++d) dst[d] = acc[static_cast<size_t>(h * D + d)] * inv;
    }
  }
}

constexpr AttentionKernels kAttention = {&attention_range};

}  // namespace
}  // namespace wick::cpu
