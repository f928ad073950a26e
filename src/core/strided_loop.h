// Row-major iteration over several tensors of one shape with their own strides: the loop that
// reference kernels are written with. fn(offsets) gets each tensor's element offset.
#pragma once

#include <array>
#include <cstdint>

#include "core/shape.h"

namespace wick {

template <size_t N, class Fn>
void for_each_offsets(const Shape& shape, const std::array<const Shape*, N>& strides,
                      const std::array<int64_t, N>& bases, Fn&& fn) {
  const int rank = shape.rank();
  for (int i = 0; i < rank; ++i)
    if (shape[i] == 0) return;
  int64_t index[kMaxRank] = {};
  std::array<int64_t, N> offsets = bases;
  while (true) {
    fn(offsets);
    int d = rank - 1;
    for (; d >= 0; --d) {
      for (size_t t = 0; t < N; ++t) offsets[t] += (*strides[t])[d];
      if (++index[d] < shape[d]) break;
      for (size_t t = 0; t < N; ++t) offsets[t] -= (*strides[t])[d] * shape[d];
      index[d] = 0;
    }
    if (d < 0) return;
  }
}

}  // namespace wick
