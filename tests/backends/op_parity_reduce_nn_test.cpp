// Op-parity cases for reductions (sum, mean, max, min, argmax), cumsum, softmax, log_softmax,
// rms_norm, layer_norm and rope, with expected values from plain double-precision loops over
// the logical input values. Row lengths include 1, odd sizes and SIMD-sized ones (64, 128, 257).
#include <cmath>

#include "op_parity.h"

namespace wick::parity {
namespace {

struct ShapeDim {
  Shape shape;
  int dim;
  Layout layout;
};

const ShapeDim kReduceShapes[] = {
    {{3, 5, 7}, 0, Layout::kContiguous}, {{3, 5, 7}, 1, Layout::kTransposed},
    {{3, 5, 7}, 2, Layout::kNarrowed},   {{3, 5, 7}, 2, Layout::kBroadcast},
    {{1, 9}, 1, Layout::kContiguous},    {{6, 1}, 1, Layout::kContiguous},
    {{4, 130}, 1, Layout::kNarrowed},    {{2, 64}, 1, Layout::kContiguous},
};

std::string reduce_detail(DType dt, const ShapeDim& s) {
  return std::string(dtype_name(dt)) + "_" + shape_tag(s.shape) + "_dim" + std::to_string(s.dim) +
         "_" + layout_name(s.layout);
}

bool is_int(DType dt) {
  return dt == DType::kI32 || dt == DType::kI64;
}

// The expected reduction of row (o, j) of x along the split's n.
double reduce_row(Op op, const std::vector<double>& x, const Split& sp, int64_t o, int64_t j) {
  double acc = op == Op::kSum || op == Op::kMean ? 0.0 : x[sp.at(o, 0, j)];
  int64_t best = 0;
  for (int64_t i = 0; i < sp.n; ++i) {
    const double v = x[sp.at(o, i, j)];
    if (op == Op::kSum || op == Op::kMean) acc += v;
    if ((op == Op::kMax || op == Op::kArgmax) && v > acc) acc = v, best = i;
    if (op == Op::kMin && v < acc) acc = v;
  }
  if (op == Op::kMean) return acc / static_cast<double>(sp.n);
  return op == Op::kArgmax ? static_cast<double>(best) : acc;
}

std::vector<CaseSpec> reduce_cases() {
  std::vector<CaseSpec> out;
  for (Op op : {Op::kSum, Op::kMean, Op::kMax, Op::kMin, Op::kArgmax})
    for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kI32, DType::kI64})
      for (const ShapeDim& s : kReduceShapes) {
        if (op == Op::kMean && is_int(dt)) continue;
        out.push_back(spec(op, reduce_detail(dt, s), [=](Rng& rng) {
          Case c;
          c.op = op;
          c.key = dt;
          c.attrs.dim = s.dim;
          c.attrs.keepdim = true;
          c.exact = is_int(dt) || op == Op::kMax || op == Op::kMin || op == Op::kArgmax;
          c.inputs.push_back(
              make_input(rng, s.shape, dt, s.layout, is_int(dt) ? -50 : -4, is_int(dt) ? 50 : 4));
          const std::vector<double> x = values_of(c.inputs[0]);
          const Split sp = split_at(s.shape, s.dim);
          c.scale = op == Op::kSum ? 4.0 * std::sqrt(static_cast<double>(sp.n)) : 4.0;
          Shape out_shape = s.shape;
          out_shape[s.dim] = 1;
          std::vector<double> want;
          for (int64_t o = 0; o < sp.outer; ++o)
            for (int64_t j = 0; j < sp.inner; ++j) want.push_back(reduce_row(op, x, sp, o, j));
          c.outputs.push_back({out_shape, op == Op::kArgmax ? DType::kI64 : dt, want, {}});
          return c;
        }));
      }
  return out;
}

std::vector<CaseSpec> cumsum_cases() {
  std::vector<CaseSpec> out;
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kI32, DType::kI64})
    for (const ShapeDim& s : kReduceShapes)
      out.push_back(spec(Op::kCumsum, reduce_detail(dt, s), [=](Rng& rng) {
        Case c;
        c.op = Op::kCumsum;
        c.key = dt;
        c.attrs.dim = s.dim;
        c.exact = is_int(dt);
        c.inputs.push_back(
            make_input(rng, s.shape, dt, s.layout, is_int(dt) ? -50 : -4, is_int(dt) ? 50 : 4));
        std::vector<double> want = values_of(c.inputs[0]);
        const Split sp = split_at(s.shape, s.dim);
        c.scale = 4.0 * std::sqrt(static_cast<double>(sp.n));
        for (int64_t o = 0; o < sp.outer; ++o)
          for (int64_t j = 0; j < sp.inner; ++j)
            for (int64_t i = 1; i < sp.n; ++i) want[sp.at(o, i, j)] += want[sp.at(o, i - 1, j)];
        c.outputs.push_back({s.shape, dt, want, {}});
        return c;
      }));
  return out;
}

const ShapeDim kRowShapes[] = {
    {{1, 1}, -1, Layout::kContiguous},   {{3, 7}, -1, Layout::kTransposed},
    {{2, 3, 33}, -1, Layout::kNarrowed}, {{4, 64}, -1, Layout::kBroadcast},
    {{5, 128}, -1, Layout::kContiguous}, {{2, 257}, -1, Layout::kNarrowed},
    {{3, 19}, -1, Layout::kContiguous},  {{2, 1001}, -1, Layout::kContiguous},
};

std::string row_detail(DType dt, const ShapeDim& s) {
  return std::string(dtype_name(dt)) + "_" + shape_tag(s.shape) + "_" + layout_name(s.layout);
}

std::vector<CaseSpec> softmax_cases() {
  std::vector<CaseSpec> out;
  for (Op op : {Op::kSoftmax, Op::kLogSoftmax})
    for (DType dt : float_dtypes())
      for (const ShapeDim& s : kRowShapes)
        out.push_back(spec(op, row_detail(dt, s), [=](Rng& rng) {
          Case c;
          c.op = op;
          c.key = dt;
          c.scale = op == Op::kSoftmax ? 1e-2 : 8.0;
          c.inputs.push_back(make_input(rng, s.shape, dt, s.layout, -8, 8));
          std::vector<double> x = values_of(c.inputs[0]);
          const int64_t d = s.shape.back();
          for (size_t r = 0; r < x.size(); r += static_cast<size_t>(d)) {
            double max = -INFINITY, sum = 0.0;
            for (int64_t i = 0; i < d; ++i) max = std::max(max, x[r + i]);
            for (int64_t i = 0; i < d; ++i) sum += std::exp(x[r + i] - max);
            for (int64_t i = 0; i < d; ++i)
              x[r + i] = op == Op::kSoftmax ? std::exp(x[r + i] - max) / sum
                                            : x[r + i] - max - std::log(sum);
          }
          c.outputs.push_back({s.shape, dt, x, {}});
          return c;
        }));
  return out;
}

// Norm cases: weight/bias presence by bit (1: weight, 2: bias), Gemma offset for rms_norm.
std::vector<CaseSpec> norm_cases() {
  std::vector<CaseSpec> out;
  for (Op op : {Op::kRmsNorm, Op::kLayerNorm})
    for (DType dt : float_dtypes())
      for (const ShapeDim& s : kRowShapes)
        for (int params : {0, 1, 2, 3}) {
          if (op == Op::kRmsNorm && params == 2) continue;
          const bool gemma = op == Op::kRmsNorm && params == 3;
          const std::string detail = row_detail(dt, s) + (params & 1 ? "_w" : "") +
                                     (op == Op::kLayerNorm && params & 2 ? "_b" : "") +
                                     (gemma ? "_offset1" : "");
          out.push_back(spec(op, detail, [=](Rng& rng) {
            const int64_t d = s.shape.back();
            Case c;
            c.op = op;
            c.key = dt;
            c.attrs.eps = op == Op::kRmsNorm ? 1e-6f : 1e-5f;
            c.attrs.weight_offset = gemma ? 1.0f : 0.0f;
            c.inputs.push_back(make_input(rng, s.shape, dt, s.layout, -3, 3));
            c.inputs.push_back(params & 1 ? make_input(rng, {d}, dt, Layout::kNarrowed, -2, 2)
                                          : Input{});
            if (op == Op::kLayerNorm)
              c.inputs.push_back(params & 2 ? make_input(rng, {d}, dt, Layout::kContiguous, -1, 1)
                                            : Input{});
            std::vector<double> x = values_of(c.inputs[0]);
            const std::vector<double> w =
                params & 1 ? values_of(c.inputs[1]) : std::vector<double>(d, 1.0);
            const std::vector<double> b = op == Op::kLayerNorm && params & 2
                                              ? values_of(c.inputs[2])
                                              : std::vector<double>(d, 0.0);
            for (size_t r = 0; r < x.size(); r += static_cast<size_t>(d)) {
              double mean = 0.0, sq = 0.0;
              for (int64_t i = 0; i < d; ++i) mean += x[r + i] / static_cast<double>(d);
              if (op == Op::kRmsNorm) mean = 0.0;
              for (int64_t i = 0; i < d; ++i) sq += (x[r + i] - mean) * (x[r + i] - mean);
              const double inv = 1.0 / std::sqrt(sq / static_cast<double>(d) + c.attrs.eps);
              for (int64_t i = 0; i < d; ++i)
                x[r + i] = (x[r + i] - mean) * inv * (w[i] + c.attrs.weight_offset) + b[i];
            }
            c.outputs.push_back({s.shape, dt, x, {}});
            return c;
          }));
        }
  return out;
}

// add_rms_norm: contiguous x and h (the op API makes them so), with/without weight and offset.
// Expected: the sum rounded to the dtype (what add() stores), then the RMSNorm of that sum.
std::vector<CaseSpec> add_rms_norm_cases() {
  const Shape shapes[] = {{1, 1}, {3, 7}, {2, 3, 33}, {5, 128}, {2, 1001}, {2, 4096}};
  std::vector<CaseSpec> out;
  for (DType dt : float_dtypes())
    for (const Shape& shape : shapes)
      for (int params : {0, 1, 3}) {
        const std::string detail = std::string(dtype_name(dt)) + "_" + shape_tag(shape) +
                                   (params & 1 ? "_w" : "") + (params & 2 ? "_offset1" : "");
        out.push_back(spec(Op::kAddRmsNorm, detail, [=](Rng& rng) {
          const int64_t d = shape.back();
          Case c;
          c.op = Op::kAddRmsNorm;
          c.key = dt;
          c.attrs.eps = 1e-6f;
          c.attrs.weight_offset = params & 2 ? 1.0f : 0.0f;
          c.inputs.push_back(make_input(rng, shape, dt, Layout::kContiguous, -3, 3));
          c.inputs.push_back(make_input(rng, shape, dt, Layout::kContiguous, -2, 2));
          c.inputs.push_back(params & 1 ? make_input(rng, {d}, dt, Layout::kContiguous, -2, 2)
                                        : Input{});
          const std::vector<double> x = values_of(c.inputs[0]), h = values_of(c.inputs[1]);
          const std::vector<double> w =
              params & 1 ? values_of(c.inputs[2]) : std::vector<double>(d, 1.0);
          std::vector<float> sum_f(x.size());
          for (size_t i = 0; i < x.size(); ++i)
            sum_f[i] = static_cast<float>(static_cast<float>(x[i]) + static_cast<float>(h[i]));
          const std::vector<double> sum =
              values_of(Input{Tensor::from_floats(shape, sum_f, dt), nullptr});
          std::vector<double> normed = sum;
          for (size_t r = 0; r < sum.size(); r += static_cast<size_t>(d)) {
            double sq = 0.0;
            for (int64_t i = 0; i < d; ++i) sq += sum[r + i] * sum[r + i];
            const double inv = 1.0 / std::sqrt(sq / static_cast<double>(d) + c.attrs.eps);
            for (int64_t i = 0; i < d; ++i)
              normed[r + i] = sum[r + i] * inv * (w[i] + (params & 1 ? c.attrs.weight_offset : 0.0));
          }
          c.outputs.push_back({shape, dt, sum, {}});
          c.outputs.push_back({shape, dt, normed, {}});
          return c;
        }));
      }
  return out;
}

struct RopeShape {
  Shape x;  // (.., H, D)
  int64_t rotated;
  Layout layout;
};

std::vector<CaseSpec> rope_cases() {
  const RopeShape shapes[] = {
      {{5, 2, 8}, 8, Layout::kContiguous},   {{3, 4, 64}, 64, Layout::kNarrowed},
      {{3, 4, 64}, 32, Layout::kTransposed}, {{2, 3, 2, 16}, 16, Layout::kBroadcast},
      {{1, 1, 6}, 4, Layout::kContiguous},   {{2, 1, 128}, 128, Layout::kContiguous},
  };
  std::vector<CaseSpec> out;
  for (DType dt : float_dtypes())
    for (const RopeShape& s : shapes)
      for (bool neox : {true, false})
        for (DType pos_dt : {DType::kI32, DType::kI64}) {
          const std::string detail = std::string(dtype_name(dt)) + "_" + shape_tag(s.x) + "_r" +
                                     std::to_string(s.rotated) + "_" + layout_name(s.layout) +
                                     (neox ? "_neox" : "_gptj") + "_pos" + dtype_name(pos_dt);
          out.push_back(spec(Op::kRope, detail, [=](Rng& rng) {
            const int r = s.x.rank();
            const int64_t d = s.x.back(), h = s.x[r - 2], half = s.rotated / 2;
            const Shape lead(std::span<const int64_t>(s.x.begin(), static_cast<size_t>(r - 2)));
            Case c;
            c.op = Op::kRope;
            c.key = dt;
            c.scale = 2.0;
            c.attrs.rope_neox = neox;
            c.inputs.push_back(make_input(rng, s.x, dt, s.layout, -2, 2));
            // Positions up to 4096: their f32 product with inv_freq is what HF rotates by.
            c.inputs.push_back(make_input(
                rng, lead, pos_dt,
                s.layout == Layout::kBroadcast ? Layout::kBroadcast : Layout::kContiguous, 0,
                4096));
            std::vector<float> freq(static_cast<size_t>(half));
            for (int64_t i = 0; i < half; ++i)
              freq[i] = static_cast<float>(1.0 / std::pow(10000.0, 2.0 * i / s.rotated));
            c.inputs.push_back({Tensor::from_floats({half}, freq), nullptr});
            std::vector<double> x = values_of(c.inputs[0]);
            const std::vector<double> pos = values_of(c.inputs[1]);
            for (size_t row = 0; row * d < x.size(); ++row) {
              double* v = x.data() + row * d;
              const auto p = static_cast<float>(pos[row / static_cast<size_t>(h)]);
              for (int64_t i = 0; i < half; ++i) {
                const double angle = p * freq[i];  // the f32 product, widened
                const int64_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
                const double xa = v[a], xb = v[b];
                v[a] = xa * std::cos(angle) - xb * std::sin(angle);
                v[b] = xb * std::cos(angle) + xa * std::sin(angle);
              }
            }
            c.outputs.push_back({s.x, dt, x, {}});
            return c;
          }));
        }
  return out;
}

const bool kRegistered = add_cases(reduce_cases()) && add_cases(cumsum_cases()) &&
                         add_cases(softmax_cases()) && add_cases(norm_cases()) &&
                         add_cases(rope_cases()) && add_cases(add_rms_norm_cases());

}  // namespace
}  // namespace wick::parity
