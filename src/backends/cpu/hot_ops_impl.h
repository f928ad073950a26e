// add, mul, silu, softmax and rms_norm over contiguous f32 rows, written once over `Vec`
// (simd_vec_impl.h); hot_ops_avx2.cpp and hot_ops_avx512.cpp each compile a copy. Math is f32
// (the references compute in double): add/mul are bit-exact, silu/softmax use vexp (~2 ulp),
// rms_norm sums squares in f32 lanes; all stay within ~1e-6 relative of the reference.
#pragma once

#include <cmath>
#include <cstring>

#include "backends/cpu/hot_ops_simd.h"
#include "backends/cpu/simd_vec_impl.h"

namespace wick::cpu {
namespace {

constexpr int kLanes = Vec::kWidth;

struct AddOp {
  static Vec::R apply(Vec::R a, Vec::R b) { return Vec::add(a, b); }
};
struct MulOp {
  static Vec::R apply(Vec::R a, Vec::R b) { return Vec::mul(a, b); }
};

template <class Op>
void binary_span(const float* a, const float* b, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    Vec::store(out + i, Op::apply(Vec::load(a + i), Vec::load(b + i)));
  if (i < n) {
    const int rem = static_cast<int>(n - i);
    Vec::store_n(out + i, Op::apply(Vec::load_n(a + i, rem), Vec::load_n(b + i, rem)), rem);
  }
}

template <class Op>
void binary_rows(const float* a, const float* b, int64_t b_row_stride, float* out, int64_t rows,
                 int64_t d) {
  for (int64_t r = 0; r < rows; ++r)
    binary_span<Op>(a + r * d, b + r * b_row_stride, out + r * d, d);
}

template <class Op>
void binary_scalar(const float* a, float s, float* out, int64_t n) {
  const Vec::R sv = Vec::set1(s);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) Vec::store(out + i, Op::apply(Vec::load(a + i), sv));
  if (i < n) {
    const int rem = static_cast<int>(n - i);
    Vec::store_n(out + i, Op::apply(Vec::load_n(a + i, rem), sv), rem);
  }
}

inline Vec::R silu_vec(Vec::R x) {
  const Vec::R e = vexp(Vec::sub(Vec::zero(), x));
  return Vec::div(x, Vec::add(Vec::set1(1.0f), e));
}

void silu(const float* x, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) Vec::store(out + i, silu_vec(Vec::load(x + i)));
  if (i < n) {
    const int rem = static_cast<int>(n - i);
    Vec::store_n(out + i, silu_vec(Vec::load_n(x + i, rem)), rem);
  }
}

// The last partial vector of a row, padded with `fill`.
inline Vec::R load_tail(const float* p, int n, float fill) {
  float tmp[kLanes];
  for (float& t : tmp) t = fill;
  std::memcpy(tmp, p, static_cast<size_t>(n) * sizeof(float));
  return Vec::load(tmp);
}

// A row holding NaN or +-inf at its max: the reference formula in double, so the special values
// come out exactly as the reference's (NaN rows).
void softmax_row_scalar(const float* x, float* out, int64_t d) {
  double max = -INFINITY;
  for (int64_t i = 0; i < d; ++i) max = std::fmax(max, static_cast<double>(x[i]));
  double sum = 0.0;
  for (int64_t i = 0; i < d; ++i) sum += std::exp(static_cast<double>(x[i]) - max);
  for (int64_t i = 0; i < d; ++i)
    out[i] = static_cast<float>(std::exp(static_cast<double>(x[i]) - max) / sum);
}

void softmax_row(const float* x, float* out, int64_t d) {
  const int64_t full = d / kLanes * kLanes;
  const int rem = static_cast<int>(d - full);
  Vec::R mv = Vec::set1(-INFINITY);
  bool nan = false;
  for (int64_t i = 0; i < full; i += kLanes) {
    const Vec::R v = Vec::load(x + i);
    nan |= Vec::any_nan(v);
    mv = Vec::max(mv, v);
  }
  if (rem > 0) {
    const Vec::R v = load_tail(x + full, rem, -INFINITY);
    nan |= Vec::any_nan(v);
    mv = Vec::max(mv, v);
  }
  const float max = Vec::hmax(mv);
  if (nan || std::isinf(max)) {
    softmax_row_scalar(x, out, d);
    return;
  }
  const Vec::R maxv = Vec::set1(max);
  Vec::R sv = Vec::zero();
  for (int64_t i = 0; i < full; i += kLanes) {
    const Vec::R e = vexp(Vec::sub(Vec::load(x + i), maxv));
    Vec::store(out + i, e);
    sv = Vec::add(sv, e);
  }
  if (rem > 0) {
    const Vec::R e = vexp(Vec::sub(load_tail(x + full, rem, -INFINITY), maxv));
    Vec::store_n(out + full, e, rem);
    sv = Vec::add(sv, e);
  }
  const Vec::R inv = Vec::set1(1.0f / Vec::hsum(sv));
  for (int64_t i = 0; i < full; i += kLanes) Vec::store(out + i, Vec::mul(Vec::load(out + i), inv));
  if (rem > 0) Vec::store_n(out + full, Vec::mul(Vec::load_n(out + full, rem), inv), rem);
}

void softmax_rows(const float* x, float* out, int64_t rows, int64_t d) {
  for (int64_t r = 0; r < rows; ++r) softmax_row(x + r * d, out + r * d, d);
}

void rms_norm_row(const float* x, const float* w, float w_offset, float eps, float* out,
                  int64_t d) {
  const int64_t full = d / kLanes * kLanes;
  const int rem = static_cast<int>(d - full);
  Vec::R s0 = Vec::zero(), s1 = Vec::zero();
  int64_t i = 0;
  for (; i + 2 * kLanes <= full; i += 2 * kLanes) {
    const Vec::R a = Vec::load(x + i), b = Vec::load(x + i + kLanes);
    s0 = Vec::fma(a, a, s0);
    s1 = Vec::fma(b, b, s1);
  }
  for (; i < full; i += kLanes) {
    const Vec::R a = Vec::load(x + i);
    s0 = Vec::fma(a, a, s0);
  }
  if (rem > 0) {
    const Vec::R a = Vec::load_n(x + full, rem);
    s1 = Vec::fma(a, a, s1);
  }
  const double mean_sq = static_cast<double>(Vec::hsum(Vec::add(s0, s1))) / static_cast<double>(d);
  const Vec::R inv =
      Vec::set1(static_cast<float>(1.0 / std::sqrt(mean_sq + static_cast<double>(eps))));
  const Vec::R off = Vec::set1(w_offset);
  for (i = 0; i < full; i += kLanes) {
    Vec::R y = Vec::mul(Vec::load(x + i), inv);
    if (w != nullptr) y = Vec::mul(y, Vec::add(Vec::load(w + i), off));
    Vec::store(out + i, y);
  }
  if (rem > 0) {
    Vec::R y = Vec::mul(Vec::load_n(x + full, rem), inv);
    if (w != nullptr) y = Vec::mul(y, Vec::add(Vec::load_n(w + full, rem), off));
    Vec::store_n(out + full, y, rem);
  }
}

void rms_norm_rows(const float* x, const float* w, float w_offset, float eps, float* out,
                   int64_t rows, int64_t d) {
  for (int64_t r = 0; r < rows; ++r) rms_norm_row(x + r * d, w, w_offset, eps, out + r * d, d);
}

constexpr HotOpKernels kHotOps = {
    &binary_rows<AddOp>, &binary_rows<MulOp>, &binary_scalar<AddOp>, &binary_scalar<MulOp>, &silu,
    &softmax_rows,       &rms_norm_rows};

}  // namespace
}  // namespace wick::cpu
