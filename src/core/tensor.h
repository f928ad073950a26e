// Tensor: a strided view (shape, strides and offset in elements) of a dtype over shared Storage.
// Views (reshape, permute, narrow, broadcast, squeeze...) share storage and never copy; anything
// that computes (contiguous, casts, ops) lives in the backend layer (backend/ops.h).
// Quantized block dtypes: strides/offset still count logical values, the last dimension must stay
// contiguous and block-aligned, so a row of a Q4_K matrix is a run of whole blocks.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "core/half.h"
#include "core/shape.h"
#include "core/storage.h"

namespace wick {

// C++ element type of a plain dtype (uint16_t for f16/bf16 bits, uint8_t for bool).
template <class T>
constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::kF32; }
template <> constexpr DType dtype_of<int32_t>() { return DType::kI32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::kI64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::kU8; }
template <> constexpr DType dtype_of<bool>() { return DType::kBool; }
template <> constexpr DType dtype_of<f16_t>() { return DType::kF16; }
template <> constexpr DType dtype_of<bf16_t>() { return DType::kBF16; }

class Tensor {
 public:
  Tensor() = default;  // undefined tensor; defined() is false

  // Uninitialised tensor of a contiguous layout on `device`.
  static Tensor empty(const Shape& shape, DType dtype, Device device = Device::cpu());
  // Views memory owned elsewhere (mmap'd weights); `storage` keeps it alive.
  static Tensor from_storage(std::shared_ptr<Storage> storage, const Shape& shape, DType dtype,
                             int64_t offset_elems = 0);
  // CPU tensor copied from host values (float for any float dtype, converting to f16/bf16).
  static Tensor from_floats(const Shape& shape, std::span<const float> values,
                            DType dtype = DType::kF32);
  template <class T>
  static Tensor from_vector(const Shape& shape, std::span<const T> values) {
    Tensor t = empty(shape, dtype_of<T>());
    t.check_numel_matches(values.size());
    std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
    return t;
  }
  template <class T>
  static Tensor from_vector(const Shape& shape, const std::vector<T>& values) {
    return from_vector<T>(shape, std::span<const T>(values));
  }

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  int rank() const { return shape_.rank(); }
  int64_t dim(int d) const { return shape_[shape_.axis(d)]; }
  int64_t numel() const { return shape_.numel(); }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device() : Device::cpu(); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  bool is_contiguous() const;
  // Bytes covered by a contiguous tensor of this shape and dtype.
  uint64_t nbytes() const { return dtype_bytes_for(dtype_, static_cast<uint64_t>(numel())); }

  // Pointer to the first element (byte offset applied). Host pointer on CPU, device pointer else.
  void* raw_data() const;
  template <class T>
  T* data() const {
    check_dtype_matches(dtype_of<T>());
    return static_cast<T*>(raw_data());
  }

  // ---- views (no copies) ----
  // New shape with the same element count; one extent may be -1. Throws if the strides do not
  // allow a view (call contiguous() from backend/ops.h first).
  Tensor reshape(const Shape& shape) const;
  Tensor permute(std::span<const int> order) const;
  Tensor permute(std::initializer_list<int> order) const {
    return permute(std::span<const int>(order.begin(), order.size()));
  }
  Tensor transpose(int a, int b) const;
  Tensor t() const { return transpose(-2, -1); }  // swap the last two dimensions
  Tensor narrow(int dim, int64_t start, int64_t length) const;
  Tensor select(int dim, int64_t index) const;  // narrow to 1 and drop the dimension
  Tensor broadcast_to(const Shape& shape) const;
  Tensor squeeze(int dim) const;
  Tensor unsqueeze(int dim) const;

  // ---- host access for tests and I/O (CPU, plain dtypes; any strides) ----
  std::vector<float> to_float_vector() const;  // f32/f16/bf16/int types converted to float
  template <class T>
  std::vector<T> to_vector() const {
    check_dtype_matches(dtype_of<T>());
    std::vector<T> out(static_cast<size_t>(numel()));
    copy_strided_to_host(out.data());
    return out;
  }
  template <class T>
  T item() const {
    WICK_CHECK(numel() == 1, ErrorKind::kInvalidArgument, "item() on tensor of shape {}",
               shape_.str());
    return to_vector<T>()[0];
  }

  std::string str() const;  // "f32 (2, 3) cpu"

 private:
  void check_dtype_matches(DType expected) const;
  void check_numel_matches(size_t n) const;
  void check_view_keeps_blocks(const char* op) const;
  void copy_strided_to_host(void* out) const;

  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Shape strides_;
  int64_t offset_ = 0;
  DType dtype_ = DType::kF32;
};

// Calls fn(offset) with the element offset (strides applied) of every index of `shape`, in
// row-major order. The generic loop that reference kernels are written with.
template <class Fn>
void for_each_offset(const Shape& shape, const Shape& strides, int64_t base, Fn&& fn) {
  const int rank = shape.rank();
  for (int i = 0; i < rank; ++i)
    if (shape[i] == 0) return;
  int64_t index[kMaxRank] = {};
  int64_t offset = base;
  while (true) {
    fn(offset);
    int d = rank - 1;
    for (; d >= 0; --d) {
      offset += strides[d];
      if (++index[d] < shape[d]) break;
      offset -= strides[d] * shape[d];
      index[d] = 0;
    }
    if (d < 0) return;
  }
}

}  // namespace wick
