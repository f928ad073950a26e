// Op-parity cases for the indexing ops (index_select incl. quantized rows, gather, concat,
// where, attention_mask, topk) and for matmul/linear (whose kernels live elsewhere; their cases
// skip while no kernel is registered). Expected values come from index arithmetic and double
// dot products written here.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "op_parity.h"

namespace wick::parity {
namespace {

const DType kPlain[] = {DType::kF32, DType::kF16, DType::kBF16, DType::kI32,
                        DType::kI64, DType::kU8,  DType::kBool};

// Row-major multi-index <-> flat index.
std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(static_cast<size_t>(shape.rank()));
  for (int i = shape.rank() - 1; i >= 0; --i) {
    idx[static_cast<size_t>(i)] = flat % shape[i];
    flat /= shape[i];
  }
  return idx;
}
int64_t ravel(const std::vector<int64_t>& idx, const Shape& shape) {
  int64_t flat = 0;
  for (int i = 0; i < shape.rank(); ++i) flat = flat * shape[i] + idx[static_cast<size_t>(i)];
  return flat;
}

std::vector<CaseSpec> index_select_cases() {
  std::vector<CaseSpec> out;
  const Shape shape{4, 5, 3};
  for (DType dt : kPlain)
    for (int dim : {0, 1, 2})
      for (DType idx_dt : {DType::kI32, DType::kI64}) {
        const Layout layout = dim == 1 ? Layout::kTransposed : Layout::kNarrowed;
        const std::string detail = std::string(dtype_name(dt)) + "_dim" + std::to_string(dim) +
                                   "_" + layout_name(layout) + "_idx" + dtype_name(idx_dt);
        out.push_back(spec(Op::kIndexSelect, detail, [=](Rng& rng) {
          Case c;
          c.op = Op::kIndexSelect;
          c.key = dt;
          c.exact = true;
          c.attrs.dim = dim;
          c.inputs.push_back(make_input(rng, shape, dt, layout, -9, 9));
          c.inputs.push_back(make_input(rng, {6}, idx_dt, Layout::kNarrowed, 0, shape[dim] - 1));
          const std::vector<double> x = values_of(c.inputs[0]), idx = values_of(c.inputs[1]);
          Shape out_shape = shape;
          out_shape[dim] = 6;
          std::vector<double> want(static_cast<size_t>(out_shape.numel()));
          for (int64_t f = 0; f < out_shape.numel(); ++f) {
            std::vector<int64_t> p = unravel(f, out_shape);
            p[dim] = static_cast<int64_t>(idx[p[dim]]);
            want[f] = x[ravel(p, shape)];
          }
          c.outputs.push_back({out_shape, dt, want, {}});
          return c;
        }));
      }
  for (DType q : block_dtypes())
    out.push_back(spec(Op::kIndexSelect, std::string("rows_") + dtype_name(q), [=](Rng& rng) {
      const Shape rows_shape{5, 2 * dtype_info(q).block_size};
      Case c;
      c.op = Op::kIndexSelect;
      c.key = q;
      c.exact = true;
      c.inputs.push_back({random_quantized(rng, rows_shape, q, -2, 2), nullptr});
      c.inputs.push_back(
          {Tensor::from_vector<int32_t>({4}, std::vector<int32_t>{4, 0, 4, 2}), nullptr});
      std::vector<float> all(static_cast<size_t>(rows_shape.numel()));
      dequantize_row_reference(q, c.inputs[0].base.raw_data(), all.data(), rows_shape.numel());
      std::vector<double> want;
      for (int64_t row : {4, 0, 4, 2})
        want.insert(want.end(), all.begin() + row * rows_shape[1],
                    all.begin() + (row + 1) * rows_shape[1]);
      c.outputs.push_back({{4, rows_shape[1]}, DType::kF32, want, {}});
      return c;
    }));
  return out;
}

std::vector<CaseSpec> gather_cases() {
  struct G {
    Shape x, index;
    int dim;
  };
  const G shapes[] = {
      {{4, 5}, {3, 5}, 0}, {{4, 5}, {4, 2}, 1}, {{2, 3, 4}, {2, 6, 3}, 1}, {{3, 1}, {3, 4}, 1}};
  std::vector<CaseSpec> out;
  for (DType dt : kPlain)
    for (const G& g : shapes)
      for (DType idx_dt : {DType::kI32, DType::kI64}) {
        const std::string detail = std::string(dtype_name(dt)) + "_" + shape_tag(g.x) + "_dim" +
                                   std::to_string(g.dim) + "_idx" + dtype_name(idx_dt);
        out.push_back(spec(Op::kGather, detail, [=](Rng& rng) {
          Case c;
          c.op = Op::kGather;
          c.key = dt;
          c.exact = true;
          c.attrs.dim = g.dim;
          c.inputs.push_back(make_input(rng, g.x, dt, Layout::kTransposed, -9, 9));
          c.inputs.push_back(
              make_input(rng, g.index, idx_dt, Layout::kNarrowed, 0, g.x[g.dim] - 1));
          const std::vector<double> x = values_of(c.inputs[0]), idx = values_of(c.inputs[1]);
          std::vector<double> want(idx.size());
          for (int64_t f = 0; f < g.index.numel(); ++f) {
            std::vector<int64_t> p = unravel(f, g.index);
            p[g.dim] = static_cast<int64_t>(idx[f]);
            want[f] = x[ravel(p, g.x)];
          }
          c.outputs.push_back({g.index, dt, want, {}});
          return c;
        }));
      }
  return out;
}

std::vector<CaseSpec> concat_cases() {
  std::vector<CaseSpec> out;
  const Layout layouts[] = {Layout::kTransposed, Layout::kContiguous, Layout::kNarrowed};
  for (DType dt : kPlain)
    for (int dim : {0, 1, 2}) {
      out.push_back(spec(Op::kConcat, std::string(dtype_name(dt)) + "_dim" + std::to_string(dim),
                         [=](Rng& rng) {
                           Case c;
                           c.op = Op::kConcat;
                           c.key = dt;
                           c.exact = true;
                           c.attrs.dim = dim;
                           const int64_t extents[] = {2, 1, 3};
                           std::vector<std::vector<double>> parts;
                           Shape out_shape{3, 4, 5};
                           out_shape[dim] = 6;
                           for (int i = 0; i < 3; ++i) {
                             Shape s{3, 4, 5};
                             s[dim] = extents[i];
                             c.inputs.push_back(make_input(rng, s, dt, layouts[i], -9, 9));
                             parts.push_back(values_of(c.inputs.back()));
                           }
                           std::vector<double> want(static_cast<size_t>(out_shape.numel()));
                           for (int64_t f = 0; f < out_shape.numel(); ++f) {
                             std::vector<int64_t> p = unravel(f, out_shape);
                             int part = 0;
                             while (p[dim] >= extents[part]) p[dim] -= extents[part++];
                             Shape s{3, 4, 5};
                             s[dim] = extents[part];
                             want[f] = parts[part][ravel(p, s)];
                           }
                           c.outputs.push_back({out_shape, dt, want, {}});
                           return c;
                         }));
    }
  return out;
}

std::vector<CaseSpec> where_cases() {
  std::vector<CaseSpec> out;
  for (DType cond_dt : {DType::kBool, DType::kU8})
    for (DType dt : kPlain)
      out.push_back(spec(
          Op::kWhere, std::string(dtype_name(dt)) + "_cond" + dtype_name(cond_dt), [=](Rng& rng) {
            const Shape shape{3, 4, 7};
            Case c;
            c.op = Op::kWhere;
            c.key = dt;
            c.exact = true;
            c.inputs.push_back(make_input(rng, shape, cond_dt, Layout::kBroadcast, 0, 3));
            c.inputs.push_back(make_input(rng, shape, dt, Layout::kTransposed, 0, 9));
            c.inputs.push_back(make_input(rng, shape, dt, Layout::kNarrowed, 0, 9));
            const std::vector<double> cond = values_of(c.inputs[0]);
            const std::vector<double> a = values_of(c.inputs[1]), b = values_of(c.inputs[2]);
            std::vector<double> want(a.size());
            for (size_t i = 0; i < a.size(); ++i) want[i] = cond[i] != 0 ? a[i] : b[i];
            c.outputs.push_back({shape, dt, want, {}});
            return c;
          }));
  return out;
}

std::vector<CaseSpec> attention_mask_cases() {
  struct M {
    int64_t q, kv, offset, window;
  };
  const M masks[] = {{1, 1, 0, 0}, {5, 5, 0, 0}, {3, 10, 7, 0}, {4, 9, 5, 3},
                     {6, 6, 0, 2}, {2, 0, 0, 0}, {1, 8, 7, 4},  {3, 4, 0, 0}};
  std::vector<CaseSpec> out;
  for (const M& m : masks) {
    const std::string detail = fmt::format("q{}_kv{}_off{}_win{}", m.q, m.kv, m.offset, m.window);
    out.push_back(spec(Op::kAttentionMask, detail, [=](Rng&) {
      Case c;
      c.op = Op::kAttentionMask;
      c.key = DType::kF32;
      c.exact = true;
      c.attrs.mask_query_offset = m.offset;
      c.attrs.mask_window = m.window;
      std::vector<double> want;
      for (int64_t i = 0; i < m.q; ++i)
        for (int64_t j = 0; j < m.kv; ++j) {
          const int64_t q = m.offset + i;
          want.push_back(j <= q && (m.window == 0 || q - j < m.window) ? 0.0 : -INFINITY);
        }
      c.outputs.push_back({{m.q, m.kv}, DType::kF32, want, {}});
      return c;
    }));
  }
  return out;
}

std::vector<CaseSpec> topk_cases() {
  struct T {
    Shape shape;
    int64_t k;
    Layout layout;
  };
  const T shapes[] = {{{3, 17}, 1, Layout::kContiguous}, {{3, 17}, 5, Layout::kTransposed},
                      {{3, 17}, 17, Layout::kNarrowed},  {{2, 1}, 1, Layout::kContiguous},
                      {{4, 64}, 8, Layout::kNarrowed},   {{2, 3, 9}, 0, Layout::kBroadcast}};
  std::vector<CaseSpec> out;
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kI32, DType::kI64})
    for (const T& t : shapes) {
      const std::string detail = std::string(dtype_name(dt)) + "_" + shape_tag(t.shape) + "_k" +
                                 std::to_string(t.k) + "_" + layout_name(t.layout);
      out.push_back(spec(Op::kTopk, detail, [=](Rng& rng) {
        Case c;
        c.op = Op::kTopk;
        c.key = dt;
        c.exact = true;
        c.attrs.k = t.k;
        // Integers from a small range give many ties (lower index first).
        const bool integral = dt == DType::kI32 || dt == DType::kI64;
        c.inputs.push_back(make_input(rng, t.shape, dt, t.layout, integral ? 0 : -4, 4));
        const std::vector<double> x = values_of(c.inputs[0]);
        const int64_t d = t.shape.back();
        std::vector<double> values, indices;
        for (size_t r = 0; r < x.size(); r += static_cast<size_t>(d)) {
          std::vector<int64_t> order(static_cast<size_t>(d));
          std::iota(order.begin(), order.end(), 0);
          std::stable_sort(order.begin(), order.end(),
                           [&](int64_t a, int64_t b) { return x[r + a] > x[r + b]; });
          for (int64_t j = 0; j < t.k; ++j) {
            values.push_back(x[r + order[j]]);
            indices.push_back(static_cast<double>(order[j]));
          }
        }
        Shape out_shape = t.shape;
        out_shape[out_shape.rank() - 1] = t.k;
        c.outputs.push_back({out_shape, dt, values, {}});
        c.outputs.push_back({out_shape, DType::kI64, indices, {}});
        return c;
      }));
    }
  return out;
}

// want[b, m, n] = sum_k a[b, m, k] * b[b, k, n] in double.
std::vector<double> matmul_expected(const std::vector<double>& a, const std::vector<double>& b,
                                    int64_t batch, int64_t m, int64_t k, int64_t n) {
  std::vector<double> want(static_cast<size_t>(batch * m * n), 0.0);
  for (int64_t z = 0; z < batch; ++z)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0.0;
        for (int64_t p = 0; p < k; ++p) acc += a[(z * m + i) * k + p] * b[(z * k + p) * n + j];
        want[(z * m + i) * n + j] = acc;
      }
  return want;
}

std::vector<CaseSpec> matmul_cases() {
  struct M {
    int64_t batch, m, k, n;
    Layout la, lb;
  };
  const M shapes[] = {{1, 1, 64, 17, Layout::kContiguous, Layout::kTransposed},
                      {1, 3, 5, 7, Layout::kNarrowed, Layout::kContiguous},
                      {1, 17, 33, 9, Layout::kTransposed, Layout::kTransposed},
                      {2, 4, 8, 3, Layout::kContiguous, Layout::kBroadcast},
                      {3, 9, 70, 33, Layout::kContiguous, Layout::kNarrowed}};
  std::vector<CaseSpec> out;
  for (DType dt : float_dtypes())
    for (const M& s : shapes) {
      const std::string detail = std::string(dtype_name(dt)) + "_b" + std::to_string(s.batch) +
                                 "_m" + std::to_string(s.m) + "k" + std::to_string(s.k) + "n" +
                                 std::to_string(s.n) + "_" + layout_name(s.la) + "_" +
                                 layout_name(s.lb);
      out.push_back(spec(Op::kMatmul, detail, [=](Rng& rng) {
        Case c;
        c.op = Op::kMatmul;
        c.key = dt;
        c.scale = std::sqrt(static_cast<double>(s.k));
        c.inputs.push_back(make_input(rng, {s.batch, s.m, s.k}, dt, s.la, -1, 1));
        c.inputs.push_back(make_input(rng, {s.batch, s.k, s.n}, dt, s.lb, -1, 1));
        c.outputs.push_back({{s.batch, s.m, s.n},
                             dt,
                             matmul_expected(values_of(c.inputs[0]), values_of(c.inputs[1]),
                                             s.batch, s.m, s.k, s.n),
                             {}});
        return c;
      }));
    }
  return out;
}

// The weight (N, K) as doubles: dequantized through the reference codec for block dtypes.
std::vector<double> weight_values(const Tensor& w) {
  if (!dtype_is_quantized(w.dtype())) return values_of(w);
  std::vector<float> v(static_cast<size_t>(w.numel()));
  dequantize_row_reference(w.dtype(), w.raw_data(), v.data(), w.numel());
  return std::vector<double>(v.begin(), v.end());
}

std::vector<CaseSpec> linear_cases() {
  struct L {
    DType x, w;
  };
  // Every float weight dtype, every block dtype (f32 x), and bf16 x with a block weight.
  std::vector<L> dtypes = {{DType::kF32, DType::kF32},  {DType::kF32, DType::kF16},
                           {DType::kF32, DType::kBF16}, {DType::kBF16, DType::kBF16},
                           {DType::kF16, DType::kF16},  {DType::kBF16, DType::kQ4_0}};
  for (DType q : block_dtypes()) dtypes.push_back({DType::kF32, q});
  std::vector<CaseSpec> out;
  for (const L& l : dtypes)
    for (int64_t rows : {1, 3, 9, 33})  // 33: block weights take the prefill panels from 16 rows
      for (bool bias : {false, true}) {
        if (rows == 33 && !dtype_is_quantized(l.w)) continue;
        const std::string detail = std::string("x") + dtype_name(l.x) + "_w" + dtype_name(l.w) +
                                   "_rows" + std::to_string(rows) + (bias ? "_bias" : "");
        out.push_back(spec(Op::kLinear, detail, [=](Rng& rng) {
          const bool quantized = dtype_is_quantized(l.w);
          const int64_t k = quantized ? 256 : 67, n = 17;
          Case c;
          c.op = Op::kLinear;
          c.key = l.w;
          c.scale = std::sqrt(static_cast<double>(k));
          // Fast paths may quantize x to Q8 blocks; CUDA prefill with f16 weights rounds f32 x
          // to f16 (2^-11 relative) for one cuBLAS GEMM.
          c.fast_tol = quantized ? 1e-2 : l.x == DType::kF32 && l.w == DType::kF16 ? 5e-4 : 0.0;
          c.inputs.push_back(make_input(
              rng, {rows, k}, l.x, rows == 3 ? Layout::kNarrowed : Layout::kContiguous, -1, 1));
          c.inputs.push_back(quantized ? Input{random_quantized(rng, {n, k}, l.w, -1, 1), nullptr}
                                       : make_input(rng, {n, k}, l.w, Layout::kContiguous, -1, 1));
          c.inputs.push_back(bias ? make_input(rng, {n}, DType::kF32, Layout::kContiguous, -1, 1)
                                  : Input{});
          const std::vector<double> x = values_of(c.inputs[0]);
          const std::vector<double> w = weight_values(c.inputs[1].base);
          const std::vector<double> b = bias ? values_of(c.inputs[2]) : std::vector<double>(n, 0.0);
          std::vector<double> want;
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < n; ++j) {
              double acc = b[j];
              for (int64_t p = 0; p < k; ++p) acc += x[r * k + p] * w[j * k + p];
              want.push_back(acc);
            }
          c.outputs.push_back({{rows, n}, l.x, want, {}});
          return c;
        }));
      }
  return out;
}

const bool kRegistered = add_cases(index_select_cases()) && add_cases(gather_cases()) &&
                         add_cases(concat_cases()) && add_cases(where_cases()) &&
                         add_cases(attention_mask_cases()) && add_cases(topk_cases()) &&
                         add_cases(matmul_cases()) && add_cases(linear_cases());

}  // namespace
}  // namespace wick::parity
