// The op-parity harness: each Case is one kernel call (op, key dtype, attrs, input views) with
// the outputs worked out independently in double precision by the test. op_parity_test.cpp runs
// every case (a) through the CPU reference kernel against those values and (b) through every
// other kernel registered for it (CPU fast paths, and a device backend such as CUDA when one is
// present) against the CPU reference. Case families live in op_parity_*_test.cpp.
//
// Adding an op or a dtype: write a function returning std::vector<CaseSpec> (one spec() per
// dtype x shape x layout, with the expected values computed from values_of(input) by the plain
// formula) and register it with add_cases(). OpParityCoverage fails while any registered CPU
// kernel (op, dtype) has no case, so a new fast path or dtype cannot go untested.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "backend/op.h"
#include "backend/ops.h"
#include "core/quant/quant.h"

namespace wick::parity {

// splitmix64: deterministic on every platform (std distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53;
  }
  int64_t integer(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1));
  }

 private:
  uint64_t state_;
};

// How an input is laid out in memory; the op sees the same logical values either way.
enum class Layout {
  kContiguous,
  kTransposed,  // stored with the last two dims swapped, viewed through t()
  kNarrowed,    // a window of a larger tensor: offset and padded row stride
  kBroadcast,   // dim 0 stored once and broadcast (stride 0)
};

inline const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::kContiguous:
      return "contig";
    case Layout::kTransposed:
      return "transposed";
    case Layout::kNarrowed:
      return "narrowed";
    case Layout::kBroadcast:
      return "broadcast";
  }
  return "?";
}

// A contiguous CPU tensor and the view of it that the kernel gets.
struct Input {
  Tensor base;
  std::function<Tensor(const Tensor&)> view;  // null: base itself

  Tensor on(Device device) const {
    const Tensor moved = device.is_cpu() ? base : to_device(base, device);
    return view ? view(moved) : moved;
  }
};

struct Output {
  Shape shape;
  DType dtype;
  std::vector<double> expected;         // row-major values (plain dtypes)
  std::vector<uint8_t> expected_bytes;  // block dtypes: the exact encoding
};

struct Case {
  Op op = Op::kCopy;
  DType key = DType::kF32;  // kernel-table dtype (see kernel_table.h)
  OpAttrs attrs;
  std::vector<Input> inputs;  // an undefined base stands for an absent optional input
  std::vector<Output> outputs;
  bool exact = false;     // data movement, integer math, indices: values must match exactly
  double scale = 1.0;     // magnitude of the summed terms: absolute tolerance = 2e-5 * scale
  double fast_tol = 0.0;  // looser relative tolerance granted to other kernels (e.g. Q8 inputs)
};

struct CaseSpec {
  Op op;             // for the coverage check
  std::string name;  // gtest name: letters, digits, underscores
  std::function<Case()> make;
};
inline void PrintTo(const CaseSpec& spec, std::ostream* os) {
  *os << spec.name;
}

// All cases, filled by the op_parity_*_test.cpp files at static-initialisation time (only names
// and closures: tensors are made when a test runs).
inline std::vector<CaseSpec>& registry() {
  static std::vector<CaseSpec> cases;
  return cases;
}
inline bool add_cases(std::vector<CaseSpec> cases) {
  for (CaseSpec& c : cases) registry().push_back(std::move(c));
  return true;
}

// ---- helpers for writing cases ----

inline uint64_t fnv1a(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : text) h = (h ^ ch) * 0x100000001b3ull;
  return h;
}

// A case named "<op>_<detail>" whose inputs come from an Rng seeded by that name.
inline CaseSpec spec(Op op, const std::string& detail, std::function<Case(Rng&)> make) {
  std::string name = std::string(op_name(op)) + "_" + detail;
  const uint64_t seed = fnv1a(name);
  return {op, std::move(name), [make = std::move(make), seed] {
            Rng rng(seed);
            return make(rng);
          }};
}

inline std::string shape_tag(const Shape& s) {
  std::string out;
  for (int i = 0; i < s.rank(); ++i) {
    if (i > 0) out += 'x';
    out += std::to_string(s[i]);
  }
  return s.rank() == 0 ? "scalar" : out;
}

// A contiguous CPU tensor of `dtype` with values in [lo, hi] (integers: inclusive range).
inline Tensor random_tensor(Rng& rng, const Shape& shape, DType dtype, double lo, double hi) {
  const auto n = static_cast<size_t>(shape.numel());
  if (dtype_is_float(dtype)) {
    std::vector<float> v(n);
    for (float& x : v) x = static_cast<float>(rng.uniform(lo, hi));
    return Tensor::from_floats(shape, v, dtype);
  }
  Tensor t = Tensor::empty(shape, dtype);
  const auto ilo = static_cast<int64_t>(lo), ihi = static_cast<int64_t>(hi);
  for (size_t i = 0; i < n; ++i) {
    const int64_t x = rng.integer(ilo, ihi);
    switch (dtype) {
      case DType::kI32:
        static_cast<int32_t*>(t.raw_data())[i] = static_cast<int32_t>(x);
        break;
      case DType::kI64:
        static_cast<int64_t*>(t.raw_data())[i] = x;
        break;
      case DType::kU8:
        static_cast<uint8_t*>(t.raw_data())[i] = static_cast<uint8_t>(x);
        break;
      case DType::kBool:
        static_cast<uint8_t*>(t.raw_data())[i] = x != 0 ? 1 : 0;
        break;
      default:
        fail(ErrorKind::kInternal, "random_tensor: dtype {}", dtype_name(dtype));
    }
  }
  return t;
}

// A contiguous tensor of block dtype `q` (last dim a multiple of its block size) holding
// random values in [lo, hi] encoded with the core/quant reference codec.
inline Tensor random_quantized(Rng& rng, const Shape& shape, DType q, double lo, double hi) {
  const Tensor values = random_tensor(rng, shape, DType::kF32, lo, hi);
  Tensor t = Tensor::empty(shape, q);
  const int64_t d = shape.back();
  const uint64_t row_bytes = dtype_bytes_for(q, static_cast<uint64_t>(d));
  for (int64_t r = 0; r < shape.numel() / d; ++r)
    quantize_row(q, values.data<float>() + r * d,
                 static_cast<uint8_t*>(t.raw_data()) + r * row_bytes, d);
  return t;
}

inline std::vector<DType> block_dtypes() {
  std::vector<DType> out;
  for (int i = 0; i < kDTypeCount; ++i)
    if (dtype_is_quantized(static_cast<DType>(i))) out.push_back(static_cast<DType>(i));
  return out;
}

// An input of logical `shape` stored per `layout`. kTransposed needs rank >= 2; kBroadcast
// stores dim 0 once (a rank-0 or size-1 dim 0 degrades to contiguous).
inline Input make_input(Rng& rng, const Shape& shape, DType dtype, Layout layout, double lo,
                        double hi) {
  const int r = shape.rank();
  if (layout == Layout::kTransposed && r >= 2) {
    Shape stored = shape;
    std::swap(stored[r - 1], stored[r - 2]);
    return {random_tensor(rng, stored, dtype, lo, hi), [](const Tensor& t) { return t.t(); }};
  }
  if (layout == Layout::kNarrowed && r >= 1) {
    Shape stored = shape;
    stored[r - 1] += 3;
    if (r >= 2) stored[0] += 1;
    const int64_t n0 = shape[0], n_last = shape[r - 1];
    return {random_tensor(rng, stored, dtype, lo, hi), [n0, n_last, r](const Tensor& t) {
              const Tensor rows = r >= 2 ? t.narrow(0, 1, n0) : t;
              return rows.narrow(r - 1, 2, n_last);
            }};
  }
  if (layout == Layout::kBroadcast && r >= 1) {
    Shape stored = shape;
    stored[0] = 1;
    return {random_tensor(rng, stored, dtype, lo, hi),
            [shape](const Tensor& t) { return t.broadcast_to(shape); }};
  }
  return {random_tensor(rng, shape, dtype, lo, hi), nullptr};
}

// The logical values of an input (its view on the CPU), row-major, as doubles.
inline std::vector<double> values_of(const Tensor& t) {
  std::vector<double> out(static_cast<size_t>(t.numel()));
  if (t.dtype() == DType::kI64) {
    const std::vector<int64_t> v = t.to_vector<int64_t>();
    for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<double>(v[i]);
  } else {
    const std::vector<float> v = t.to_float_vector();
    for (size_t i = 0; i < v.size(); ++i) out[i] = v[i];
  }
  return out;
}
inline std::vector<double> values_of(const Input& in) {
  return values_of(in.on(Device::cpu()));
}

// Row-major split of `shape` around `dim`: (outer, n, inner) with element (o, i, j) at
// (o * n + i) * inner + j.
struct Split {
  int64_t outer = 1, n = 1, inner = 1;
  int64_t at(int64_t o, int64_t i, int64_t j) const { return (o * n + i) * inner + j; }
};
inline Split split_at(const Shape& shape, int dim) {
  Split s;
  for (int i = 0; i < shape.rank(); ++i) {
    if (i < dim) s.outer *= shape[i];
    if (i > dim) s.inner *= shape[i];
  }
  s.n = shape.rank() == 0 ? 1 : shape[dim];
  return s;
}

inline std::vector<DType> float_dtypes() {
  return {DType::kF32, DType::kF16, DType::kBF16};
}

}  // namespace wick::parity
