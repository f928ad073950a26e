// Op-parity cases for elementwise binary and unary ops, copy, cast (plain and quantized) and
// fill. Expected values come from the formulas here in double precision; casts and copies must
// match exactly (f16/bf16 rounding via core/half.h, blocks via the core/quant codecs).
#include <cmath>

#include "op_parity.h"

namespace wick::parity {
namespace {

const Layout kAllLayouts[] = {Layout::kContiguous, Layout::kTransposed, Layout::kNarrowed,
                              Layout::kBroadcast};

double binary_expected(Op op, double a, double b, bool integral) {
  switch (op) {
    case Op::kAdd:
      return a + b;
    case Op::kSub:
      return a - b;
    case Op::kMul:
      return a * b;
    case Op::kDiv:
      return integral ? (b == 0 ? 0.0 : std::trunc(a / b)) : a / b;
    case Op::kMaximum:
      return a > b || std::isnan(a) ? a : b;
    case Op::kMinimum:
      return a < b || std::isnan(a) ? a : b;
    default:
      return NAN;
  }
}

double unary_expected(Op op, double x) {
  switch (op) {
    case Op::kNeg:
      return -x;
    case Op::kExp:
      return std::exp(x);
    case Op::kLog:
      return std::log(x);
    case Op::kSqrt:
      return std::sqrt(x);
    case Op::kRsqrt:
      return 1.0 / std::sqrt(x);
    case Op::kTanh:
      return std::tanh(x);
    case Op::kSigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case Op::kSilu:
      return x / (1.0 + std::exp(-x));
    case Op::kGeluErf:
      return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case Op::kGeluTanh: {
      const double k = std::sqrt(2.0 / M_PI);
      return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
    }
    case Op::kRelu:
      return x > 0 ? x : 0.0;
    case Op::kAbs:
      return std::fabs(x);
    case Op::kSqr:
      return x * x;
    default:
      return NAN;
  }
}

bool is_int(DType dt) {
  return dt == DType::kI32 || dt == DType::kI64;
}

std::vector<CaseSpec> binary_cases() {
  std::vector<CaseSpec> out;
  struct B {
    Shape shape;
    Layout la, lb;
  };
  // Strided views, plus contiguous odd sizes and a broadcast scalar for SIMD paths and tails.
  const B shapes[] = {{{7}, Layout::kContiguous, Layout::kBroadcast},
                      {{3, 5}, Layout::kTransposed, Layout::kContiguous},
                      {{2, 3, 17}, Layout::kNarrowed, Layout::kTransposed},
                      {{1, 1}, Layout::kBroadcast, Layout::kNarrowed},
                      {{2, 131}, Layout::kContiguous, Layout::kContiguous},
                      {{1000}, Layout::kContiguous, Layout::kBroadcast}};
  for (Op op : {Op::kAdd, Op::kSub, Op::kMul, Op::kDiv, Op::kMaximum, Op::kMinimum})
    for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kI32, DType::kI64})
      for (const B& bs : shapes) {
        const Shape shape = bs.shape;
        const Layout la = bs.la, lb = bs.lb;
        const std::string detail = std::string(dtype_name(dt)) + "_" + shape_tag(shape) + "_" +
                                   layout_name(la) + "_" + layout_name(lb);
        out.push_back(spec(op, detail, [=](Rng& rng) {
          const bool integral = is_int(dt);
          Case c;
          c.op = op;
          c.key = dt;
          c.exact = integral;
          c.inputs.push_back(
              make_input(rng, shape, dt, la, integral ? -50 : -4, integral ? 50 : 4));
          // Float division stays away from 0; integer division meets 0 (defined as 0).
          const bool div = op == Op::kDiv && !integral;
          c.inputs.push_back(
              make_input(rng, shape, dt, lb, integral ? -5 : (div ? 0.25 : -4), integral ? 5 : 4));
          const std::vector<double> a = values_of(c.inputs[0]), b = values_of(c.inputs[1]);
          std::vector<double> want(a.size());
          for (size_t i = 0; i < a.size(); ++i) want[i] = binary_expected(op, a[i], b[i], integral);
          c.outputs.push_back({shape, dt, want, {}});
          return c;
        }));
      }
  return out;
}

struct ShapeLayout {
  Shape shape;
  Layout layout;
};
// Contiguous sizes that leave SIMD tails, and strided views.
const ShapeLayout kUnaryShapes[] = {{{67}, Layout::kContiguous},
                                    {{1, 1031}, Layout::kContiguous},
                                    {{5, 9}, Layout::kTransposed},
                                    {{5, 9}, Layout::kNarrowed}};

std::vector<CaseSpec> unary_cases() {
  std::vector<CaseSpec> out;
  const Op float_ops[] = {Op::kNeg,  Op::kExp,     Op::kLog,  Op::kSqrt,    Op::kRsqrt,
                          Op::kTanh, Op::kSigmoid, Op::kSilu, Op::kGeluErf, Op::kGeluTanh,
                          Op::kRelu, Op::kAbs,     Op::kSqr};
  for (Op op : float_ops)
    for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kI32, DType::kI64})
      for (const ShapeLayout& sl : kUnaryShapes) {
        const Shape shape = sl.shape;
        const Layout layout = sl.layout;
        const bool int_ok = op == Op::kNeg || op == Op::kAbs || op == Op::kSqr || op == Op::kRelu;
        if (is_int(dt) && (!int_ok || layout == Layout::kNarrowed)) continue;
        const std::string detail =
            std::string(dtype_name(dt)) + "_" + shape_tag(shape) + "_" + layout_name(layout);
        out.push_back(spec(op, detail, [=](Rng& rng) {
          const bool positive = op == Op::kLog || op == Op::kSqrt || op == Op::kRsqrt;
          Case c;
          c.op = op;
          c.key = dt;
          c.exact = is_int(dt);
          c.inputs.push_back(make_input(rng, shape, dt, layout, positive ? 0.05 : -5, 5));
          std::vector<double> want = values_of(c.inputs[0]);
          for (double& v : want) v = unary_expected(op, v);
          c.outputs.push_back({shape, dt, want, {}});
          return c;
        }));
      }
  return out;
}

// gated_act: act(gate) * up for each activation, float dtype and layout (both inputs alike).
std::vector<CaseSpec> gated_act_cases() {
  std::vector<CaseSpec> out;
  for (Op act : {Op::kSilu, Op::kGeluTanh, Op::kGeluErf, Op::kRelu})
    for (DType dt : {DType::kF32, DType::kF16, DType::kBF16})
      for (const ShapeLayout& sl : kUnaryShapes) {
        const Shape shape = sl.shape;
        const Layout layout = sl.layout;
        const std::string detail = std::string(op_name(act)) + "_" + dtype_name(dt) + "_" +
                                   shape_tag(shape) + "_" + layout_name(layout);
        out.push_back(spec(Op::kGatedAct, detail, [=](Rng& rng) {
          Case c;
          c.op = Op::kGatedAct;
          c.key = dt;
          c.attrs.act = act;
          c.scale = 5.0;
          c.inputs.push_back(make_input(rng, shape, dt, layout, -5, 5));
          c.inputs.push_back(make_input(rng, shape, dt, layout, -3, 3));
          std::vector<double> want = values_of(c.inputs[0]);
          const std::vector<double> up = values_of(c.inputs[1]);
          for (size_t i = 0; i < want.size(); ++i) want[i] = unary_expected(act, want[i]) * up[i];
          c.outputs.push_back({shape, dt, want, {}});
          return c;
        }));
      }
  return out;
}

const DType kPlain[] = {DType::kF32, DType::kF16, DType::kBF16, DType::kI32,
                        DType::kI64, DType::kU8,  DType::kBool};

std::vector<CaseSpec> copy_cases() {
  std::vector<CaseSpec> out;
  for (DType dt : kPlain)
    for (Layout layout : kAllLayouts) {
      const Shape shape{3, 4, 5};
      out.push_back(
          spec(Op::kCopy, std::string(dtype_name(dt)) + "_" + layout_name(layout), [=](Rng& rng) {
            Case c;
            c.op = Op::kCopy;
            c.key = dt;
            c.exact = true;
            c.inputs.push_back(make_input(rng, shape, dt, layout, 0, 100));
            c.outputs.push_back({shape, dt, values_of(c.inputs[0]), {}});
            return c;
          }));
    }
  for (DType q : block_dtypes())
    out.push_back(spec(Op::kCopy, dtype_name(q), [=](Rng& rng) {
      const Shape shape{3, 2 * dtype_info(q).block_size};
      Case c;
      c.op = Op::kCopy;
      c.key = q;
      c.inputs.push_back({random_quantized(rng, shape, q, -2, 2), nullptr});
      const auto* p = static_cast<const uint8_t*>(c.inputs[0].base.raw_data());
      c.outputs.push_back({shape, q, {}, std::vector<uint8_t>(p, p + c.inputs[0].base.nbytes())});
      return c;
    }));
  return out;
}

// What a cast of value v (already exact in the source dtype) to `to` must produce.
double cast_expected(double v, DType to) {
  switch (to) {
    case DType::kF32:
      return static_cast<float>(v);
    case DType::kF16:
      return f16_to_f32(f32_to_f16(static_cast<float>(v)));
    case DType::kBF16:
      return bf16_to_f32(f32_to_bf16(static_cast<float>(v)));
    case DType::kBool:
      return v != 0 ? 1.0 : 0.0;
    default:
      return std::trunc(v);  // integers truncate toward zero
  }
}

std::vector<CaseSpec> cast_cases() {
  std::vector<CaseSpec> out;
  for (DType from : kPlain)
    for (DType to : kPlain) {
      if (from == to) continue;
      const std::string detail = std::string(dtype_name(from)) + "_to_" + dtype_name(to);
      out.push_back(spec(Op::kCast, detail, [=](Rng& rng) {
        Case c;
        c.op = Op::kCast;
        c.key = from;
        c.exact = true;
        // u8 targets get non-negative sources (a negative float -> u8 is undefined in C++).
        const double lo = to == DType::kU8 ? 0 : -100;
        c.inputs.push_back(make_input(rng, {4, 6}, from, Layout::kTransposed, lo, 100));
        std::vector<double> want = values_of(c.inputs[0]);
        for (double& v : want) v = cast_expected(v, to);
        c.outputs.push_back({{4, 6}, to, want, {}});
        return c;
      }));
    }
  return out;
}

std::vector<CaseSpec> quantized_cast_cases() {
  std::vector<CaseSpec> out;
  for (DType q : block_dtypes()) {
    const Shape shape{3, 2 * dtype_info(q).block_size};
    for (DType to : float_dtypes())
      out.push_back(
          spec(Op::kCast, std::string(dtype_name(q)) + "_to_" + dtype_name(to), [=](Rng& rng) {
            Case c;
            c.op = Op::kCast;
            c.key = q;
            c.exact = true;
            c.inputs.push_back({random_quantized(rng, shape, q, -3, 3), nullptr});
            std::vector<float> rows(static_cast<size_t>(shape.numel()));
            dequantize_row_reference(q, c.inputs[0].base.raw_data(), rows.data(), shape.numel());
            std::vector<double> want(rows.begin(), rows.end());
            for (double& v : want) v = cast_expected(v, to);
            c.outputs.push_back({shape, to, want, {}});
            return c;
          }));
    for (DType from : {DType::kF32, DType::kBF16})
      out.push_back(
          spec(Op::kCast, std::string(dtype_name(from)) + "_to_" + dtype_name(q), [=](Rng& rng) {
            Case c;
            c.op = Op::kCast;
            c.key = from;
            c.inputs.push_back(make_input(rng, shape, from, Layout::kContiguous, -3, 3));
            const Tensor f32 = to_dtype(c.inputs[0].base, DType::kF32);
            std::vector<uint8_t> bytes(dtype_bytes_for(q, shape.numel()));
            const int64_t d = shape.back();
            for (int64_t r = 0; r < shape[0]; ++r)
              quantize_row(q, f32.data<float>() + r * d, bytes.data() + r * (bytes.size() / 3), d);
            c.outputs.push_back({shape, q, {}, bytes});
            return c;
          }));
  }
  return out;
}

std::vector<CaseSpec> fill_cases() {
  std::vector<CaseSpec> out;
  for (DType dt : kPlain)
    for (const Shape& shape : {Shape{3, 5}, Shape{}, Shape{0, 4}})
      out.push_back(
          spec(Op::kFill, std::string(dtype_name(dt)) + "_" + shape_tag(shape), [=](Rng&) {
            Case c;
            c.op = Op::kFill;
            c.key = dt;
            c.exact = true;
            c.attrs.scalar = 3.0;
            const double v = dt == DType::kBool ? 1.0 : 3.0;
            c.outputs.push_back(
                {shape, dt, std::vector<double>(static_cast<size_t>(shape.numel()), v), {}});
            return c;
          }));
  return out;
}

const bool kRegistered = add_cases(binary_cases()) && add_cases(unary_cases()) &&
                         add_cases(gated_act_cases()) &&
                         add_cases(copy_cases()) && add_cases(cast_cases()) &&
                         add_cases(quantized_cast_cases()) && add_cases(fill_cases());

}  // namespace
}  // namespace wick::parity
