// Shape and strides: a fixed-capacity list of up to kMaxRank int64 extents, so views and shape
// inference never touch the heap (decode runs many small ops per token).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>

#include "core/error.h"

namespace wick {

inline constexpr int kMaxRank = 8;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : Shape(std::span<const int64_t>(dims.begin(), dims.size())) {}
  explicit Shape(std::span<const int64_t> dims) {
    WICK_CHECK(dims.size() <= static_cast<size_t>(kMaxRank), ErrorKind::kInvalidArgument,
               "rank {} exceeds the maximum of {}", dims.size(), kMaxRank);
    rank_ = static_cast<int>(dims.size());
    for (int i = 0; i < rank_; ++i) dims_[i] = dims[static_cast<size_t>(i)];
  }
  static Shape filled(int rank, int64_t value) {
    Shape s;
    s.resize(rank, value);
    return s;
  }

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[i]; }
  int64_t& operator[](int i) { return dims_[i]; }
  const int64_t* begin() const { return dims_; }
  const int64_t* end() const { return dims_ + rank_; }
  int64_t back() const { return dims_[rank_ - 1]; }
  std::span<const int64_t> span() const { return {dims_, static_cast<size_t>(rank_)}; }

  void resize(int rank, int64_t value = 0) {
    WICK_CHECK(rank >= 0 && rank <= kMaxRank, ErrorKind::kInvalidArgument,
               "rank {} outside [0, {}]", rank, kMaxRank);
    for (int i = rank_; i < rank; ++i) dims_[i] = value;
    rank_ = rank;
  }
  void push_back(int64_t v) {
    resize(rank_ + 1);
    dims_[rank_ - 1] = v;
  }
  void insert(int pos, int64_t v) {
    resize(rank_ + 1);
    for (int i = rank_ - 1; i > pos; --i) dims_[i] = dims_[i - 1];
    dims_[pos] = v;
  }
  void erase(int pos) {
    for (int i = pos; i + 1 < rank_; ++i) dims_[i] = dims_[i + 1];
    --rank_;
  }

  // Product of extents (1 for rank 0). Throws on overflow.
  int64_t numel() const;
  // Dimension index with Python-style negatives resolved; throws if out of range.
  int axis(int dim) const;

  bool operator==(const Shape& o) const {
    if (rank_ != o.rank_) return false;
    for (int i = 0; i < rank_; ++i)
      if (dims_[i] != o.dims_[i]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }

  std::string str() const;  // "(2, 3, 4)"

 private:
  int64_t dims_[kMaxRank] = {};
  int rank_ = 0;
};

// Row-major strides (in elements) of a contiguous tensor of this shape.
Shape contiguous_strides(const Shape& shape);
// The shape both operands broadcast to (NumPy rules); throws naming both shapes if incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b);

}  // namespace wick
