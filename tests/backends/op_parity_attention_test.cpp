// Op-parity cases for attention over a KV pool and for store_rows. Expected values come from
// the plain formula written here in double: per sequence, query and head, scores q.k * scale
// (soft-capped), softmax over the visible keys (causal, optional sliding window), weighted sum of
// values; keys are looked up through a shuffled block table so paging is exercised.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "op_parity.h"

namespace wick::parity {
namespace {

struct SeqSpec {
  int64_t len, past;
};

struct AttnSpec {
  std::string name;
  int64_t H, KVH, D, block_size;
  std::vector<SeqSpec> seqs;
  int64_t window = 0;
  float softcap = 0.0f;
};

std::vector<AttnSpec> attention_specs() {
  return {
      {"prefill_h4kv2_d16_bs4", 4, 2, 16, 4, {{7, 0}}},
      {"decode3_h4kv2_d16_bs4", 4, 2, 16, 4, {{1, 5}, {1, 0}, {1, 37}}},
      {"mixed_h8kv1_d40_bs16", 8, 1, 40, 16, {{5, 3}, {1, 20}, {9, 0}}},
      {"window4_h2kv2_d8_bs4", 2, 2, 8, 4, {{6, 9}, {1, 12}}, 4},
      {"softcap_h4kv4_d64_bs8", 4, 4, 64, 8, {{3, 17}}, 0, 5.0f},
      {"win_cap_h6kv2_d24_bs2", 6, 2, 24, 2, {{4, 2}, {2, 30}}, 7, 3.0f},
      // Enough rows for the CUDA tensor-core prefill kernel (head_dim 64/128, >= 16 rows).
      {"tc_h8kv2_d128_bs16", 8, 2, 128, 16, {{37, 0}, {20, 45}}},
      {"tc_win_cap_h4kv1_d64_bs8", 4, 1, 64, 8, {{70, 9}, {1, 30}}, 24, 20.0f},
  };
}

std::vector<CaseSpec> attention_cases() {
  std::vector<CaseSpec> out;
  for (DType dt : float_dtypes())
    for (const AttnSpec& a : attention_specs()) {
      out.push_back(spec(Op::kAttention, std::string(dtype_name(dt)) + "_" + a.name, [=](Rng& rng) {
        const auto B = static_cast<int64_t>(a.seqs.size());
        int64_t N = 0, M = 0;
        for (const SeqSpec& s : a.seqs) {
          N += s.len;
          M = std::max(M, (s.past + s.len + a.block_size - 1) / a.block_size);
        }
        const int64_t n_blocks = B * M + 3;  // spare blocks the tables never use
        const int64_t S = n_blocks * a.block_size;
        std::vector<int32_t> perm(static_cast<size_t>(n_blocks));
        std::iota(perm.begin(), perm.end(), 0);
        for (size_t i = perm.size(); i > 1; --i)
          std::swap(perm[i - 1], perm[static_cast<size_t>(rng.integer(0, int64_t(i) - 1))]);
        std::vector<int32_t> table(static_cast<size_t>(B * M)), info;
        for (size_t i = 0; i < table.size(); ++i) table[i] = perm[i];
        int64_t begin = 0;
        for (const SeqSpec& s : a.seqs) {
          info.insert(info.end(), {static_cast<int32_t>(begin), static_cast<int32_t>(s.len),
                                   static_cast<int32_t>(s.past)});
          begin += s.len;
        }
        Case c;
        c.op = Op::kAttention;
        c.key = dt;
        c.attrs.attn_scale = 0.4f;
        // The CUDA tensor-core prefill kernel rounds Q, K, V and the softmax weights to f16
        // (2^-11 relative) and accumulates in f32; outputs are convex combinations of V in
        // [-1, 1], so a few such roundings bound the error: 2e-3 (cuda_attention_test.cpp).
        if (a.name.starts_with("tc_")) c.fast_tol = 2e-3;
        c.attrs.attn_softcap = a.softcap;
        c.attrs.mask_window = a.window;
        c.attrs.block_size = a.block_size;
        c.inputs.push_back(make_input(rng, {N, a.H, a.D}, DType::kF32, Layout::kContiguous, -1, 1));
        c.inputs.push_back(make_input(rng, {S, a.KVH, a.D}, dt, Layout::kContiguous, -1, 1));
        c.inputs.push_back(make_input(rng, {S, a.KVH, a.D}, dt, Layout::kContiguous, -1, 1));
        c.inputs.push_back({Tensor::from_vector<int32_t>(Shape{B, M}, table), nullptr});
        c.inputs.push_back({Tensor::from_vector<int32_t>(Shape{B, 3}, info), nullptr});
        const std::vector<double> q = values_of(c.inputs[0]);
        const std::vector<double> k = values_of(c.inputs[1]);
        const std::vector<double> v = values_of(c.inputs[2]);
        std::vector<double> want(static_cast<size_t>(N * a.H * a.D));
        const int64_t group = a.H / a.KVH;
        for (int64_t b = 0; b < B; ++b) {
          const int64_t qb = info[static_cast<size_t>(b * 3)];
          const SeqSpec& s = a.seqs[static_cast<size_t>(b)];
          const auto row = [&](int64_t t) {
            return table[static_cast<size_t>(b * M + t / a.block_size)] * a.block_size +
                   t % a.block_size;
          };
          for (int64_t i = 0; i < s.len; ++i)
            for (int64_t h = 0; h < a.H; ++h) {
              const int64_t pos = s.past + i, g = h / group;
              std::vector<double> w;
              std::vector<int64_t> keys;
              for (int64_t t = 0; t <= pos; ++t) {
                if (a.window > 0 && pos - t >= a.window) continue;
                double d = 0;
                for (int64_t e = 0; e < a.D; ++e)
                  d += q[static_cast<size_t>(((qb + i) * a.H + h) * a.D + e)] *
                       k[static_cast<size_t>((row(t) * a.KVH + g) * a.D + e)];
                d *= 0.4;
                if (a.softcap > 0) d = a.softcap * std::tanh(d / a.softcap);
                w.push_back(d);
                keys.push_back(t);
              }
              const double mx = *std::max_element(w.begin(), w.end());
              double sum = 0;
              for (double& x : w) sum += (x = std::exp(x - mx));
              for (int64_t e = 0; e < a.D; ++e) {
                double acc = 0;
                for (size_t j = 0; j < keys.size(); ++j)
                  acc += w[j] * v[static_cast<size_t>((row(keys[j]) * a.KVH + g) * a.D + e)];
                want[static_cast<size_t>(((qb + i) * a.H + h) * a.D + e)] = acc / sum;
              }
            }
        }
        c.outputs.push_back({{N, a.H, a.D}, DType::kF32, want, {}});
        return c;
      }));
    }
  return out;
}

std::vector<CaseSpec> store_rows_cases() {
  std::vector<CaseSpec> out;
  for (DType dt : float_dtypes())
    for (const Shape& pool : {Shape{6, 2, 5}, Shape{17, 33}}) {
      out.push_back(
          spec(Op::kStoreRows, std::string(dtype_name(dt)) + "_" + shape_tag(pool), [=](Rng& rng) {
            const int64_t n = pool[0];
            std::vector<int32_t> idx(static_cast<size_t>(n));
            std::iota(idx.begin(), idx.end(), 0);
            for (size_t i = idx.size(); i > 1; --i)
              std::swap(idx[i - 1], idx[static_cast<size_t>(rng.integer(0, int64_t(i) - 1))]);
            Case c;
            c.op = Op::kStoreRows;
            c.key = dt;
            c.exact = true;
            // f32 rows rounded to the pool dtype: expected values are that rounding.
            Tensor rows = random_tensor(rng, pool, DType::kF32, -2, 2);
            const std::vector<double> rounded = values_of(to_dtype(rows, dt));
            c.inputs.push_back({rows, nullptr});
            c.inputs.push_back({Tensor::from_vector<int32_t>(Shape{n}, idx), nullptr});
            const int64_t width = pool.numel() / n;
            std::vector<double> want(static_cast<size_t>(pool.numel()));
            for (int64_t i = 0; i < n; ++i)
              for (int64_t j = 0; j < width; ++j)
                want[static_cast<size_t>(idx[static_cast<size_t>(i)] * width + j)] =
                    rounded[static_cast<size_t>(i * width + j)];
            c.outputs.push_back({pool, dt, want, {}});
            return c;
          }));
    }
  return out;
}

const bool kRegistered = add_cases(attention_cases()) && add_cases(store_rows_cases());

}  // namespace
}  // namespace wick::parity
