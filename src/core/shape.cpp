// Shape helpers: numel with overflow checks, axis resolution, broadcasting.
#include "core/shape.h"

#include <fmt/format.h>

#include <algorithm>

namespace wick {

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) {
    WICK_CHECK(dims_[i] >= 0, ErrorKind::kInvalidArgument, "negative extent in shape {}", str());
    int64_t next = 0;
    WICK_CHECK(!__builtin_mul_overflow(n, dims_[i], &next), ErrorKind::kInvalidArgument,
               "element count of shape {} overflows int64", str());
    n = next;
  }
  return n;
}

int Shape::axis(int dim) const {
  const int resolved = dim < 0 ? dim + rank_ : dim;
  WICK_CHECK(resolved >= 0 && resolved < rank_, ErrorKind::kInvalidArgument,
             "dimension {} out of range for shape {}", dim, str());
  return resolved;
}

std::string Shape::str() const {
  return fmt::format("({})", fmt::join(span(), ", "));
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides = Shape::filled(shape.rank(), 1);
  int64_t stride = 1;
  for (int i = shape.rank() - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const int rank = std::max(a.rank(), b.rank());
  Shape out = Shape::filled(rank, 1);
  for (int i = 0; i < rank; ++i) {
    const int ia = a.rank() - rank + i;
    const int ib = b.rank() - rank + i;
    const int64_t da = ia >= 0 ? a[ia] : 1;
    const int64_t db = ib >= 0 ? b[ib] : 1;
    WICK_CHECK(da == db || da == 1 || db == 1, ErrorKind::kInvalidArgument,
               "shapes {} and {} do not broadcast (dimension {}: {} vs {})", a.str(), b.str(), i,
               da, db);
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace wick
