// Tensor construction, views and host access. No arithmetic here: see backend/ops.h.
#include "core/tensor.h"

#include <algorithm>

namespace wick {

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  Tensor t;
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  const uint64_t bytes = dtype_bytes_for(dtype, static_cast<uint64_t>(shape.numel()));
  t.storage_ = allocate_storage(device, bytes);
  return t;
}

Tensor Tensor::from_storage(std::shared_ptr<Storage> storage, const Shape& shape, DType dtype,
                            int64_t offset_elems) {
  WICK_CHECK(storage != nullptr, ErrorKind::kInvalidArgument, "from_storage: null storage");
  const int64_t n = shape.numel();
  const uint64_t end = dtype_bytes_for(dtype, static_cast<uint64_t>(offset_elems)) +
                       dtype_bytes_for(dtype, static_cast<uint64_t>(n));
  WICK_CHECK(end <= storage->bytes(), ErrorKind::kInvalidArgument,
             "tensor {} {} at element offset {} needs {} bytes but storage holds {}",
             dtype_name(dtype), shape.str(), offset_elems, end, storage->bytes());
  Tensor t;
  t.storage_ = std::move(storage);
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.offset_ = offset_elems;
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::from_floats(const Shape& shape, std::span<const float> values, DType dtype) {
  Tensor t = empty(shape, dtype);
  t.check_numel_matches(values.size());
  switch (dtype) {
    case DType::kF32:
      std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(float));
      break;
    case DType::kF16: {
      auto* out = static_cast<uint16_t*>(t.raw_data());
      for (size_t i = 0; i < values.size(); ++i) out[i] = f32_to_f16(values[i]);
      break;
    }
    case DType::kBF16: {
      auto* out = static_cast<uint16_t*>(t.raw_data());
      for (size_t i = 0; i < values.size(); ++i) out[i] = f32_to_bf16(values[i]);
      break;
    }
    default:
      fail(ErrorKind::kInvalidArgument, "from_floats: dtype {} is not a float type",
           dtype_name(dtype));
  }
  return t;
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int i = shape_.rank() - 1; i >= 0; --i) {
    if (shape_[i] == 1) continue;
    if (strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  WICK_CHECK(storage_ != nullptr, ErrorKind::kInvalidArgument, "access to an undefined tensor");
  const DTypeInfo& info = dtype_info(dtype_);
  const uint64_t byte_offset = static_cast<uint64_t>(offset_) /
                               static_cast<uint64_t>(info.block_size) *
                               static_cast<uint64_t>(info.block_bytes);
  return static_cast<uint8_t*>(storage_->data()) + byte_offset;
}

void Tensor::check_dtype_matches(DType expected) const {
  WICK_CHECK(dtype_ == expected, ErrorKind::kInvalidArgument, "tensor is {}, accessed as {}",
             dtype_name(dtype_), dtype_name(expected));
}

void Tensor::check_numel_matches(size_t n) const {
  WICK_CHECK(static_cast<int64_t>(n) == numel(), ErrorKind::kInvalidArgument,
             "{} values given for shape {} ({} elements)", n, shape_.str(), numel());
}

void Tensor::check_view_keeps_blocks(const char* op) const {
  if (!dtype_is_quantized(dtype_)) return;
  const int64_t block = dtype_info(dtype_).block_size;
  const bool last_contiguous = shape_.rank() > 0 && strides_[shape_.rank() - 1] == 1;
  bool aligned = offset_ % block == 0 && shape_.rank() > 0 && shape_.back() % block == 0;
  for (int i = 0; i + 1 < shape_.rank(); ++i) aligned = aligned && strides_[i] % block == 0;
  WICK_CHECK(last_contiguous && aligned, ErrorKind::kInvalidArgument,
             "{} on a {} tensor must keep the last dimension whole blocks of {} (shape {})", op,
             dtype_name(dtype_), block, shape_.str());
}

Tensor Tensor::reshape(const Shape& new_shape_in) const {
  Shape new_shape = new_shape_in;
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < new_shape.rank(); ++i) {
    if (new_shape[i] == -1) {
      WICK_CHECK(infer < 0, ErrorKind::kInvalidArgument, "reshape to {}: more than one -1",
                 new_shape_in.str());
      infer = i;
    } else {
      known *= new_shape[i];
    }
  }
  const int64_t n = numel();
  if (infer >= 0) {
    WICK_CHECK(known != 0 && n % known == 0, ErrorKind::kInvalidArgument,
               "cannot reshape {} to {}", shape_.str(), new_shape_in.str());
    new_shape[infer] = n / known;
  }
  WICK_CHECK(new_shape.numel() == n, ErrorKind::kInvalidArgument,
             "cannot reshape {} ({} elements) to {}", shape_.str(), n, new_shape_in.str());
  // A view exists when every run of merged/split dimensions is contiguous within itself. We
  // support the common cases: the tensor is contiguous, or only size-1 dims change.
  Tensor out = *this;
  out.shape_ = new_shape;
  if (is_contiguous()) {
    out.strides_ = contiguous_strides(new_shape);
  } else {
    Shape squeezed_old, squeezed_old_strides, squeezed_new;
    for (int i = 0; i < rank(); ++i)
      if (shape_[i] != 1) {
        squeezed_old.push_back(shape_[i]);
        squeezed_old_strides.push_back(strides_[i]);
      }
    for (int i = 0; i < new_shape.rank(); ++i)
      if (new_shape[i] != 1) squeezed_new.push_back(new_shape[i]);
    WICK_CHECK(squeezed_old == squeezed_new, ErrorKind::kInvalidArgument,
               "reshape {} -> {} needs a copy: call contiguous() first", shape_.str(),
               new_shape.str());
    out.strides_ = Shape::filled(new_shape.rank(), 1);
    int j = 0;
    for (int i = 0; i < new_shape.rank(); ++i) {
      if (new_shape[i] != 1) out.strides_[i] = squeezed_old_strides[j++];
    }
  }
  out.check_view_keeps_blocks("reshape");
  return out;
}

Tensor Tensor::permute(std::span<const int> order) const {
  WICK_CHECK(static_cast<int>(order.size()) == rank(), ErrorKind::kInvalidArgument,
             "permute of rank-{} tensor given {} dimensions", rank(), order.size());
  Tensor out = *this;
  bool seen[kMaxRank] = {};
  for (int i = 0; i < rank(); ++i) {
    const int src = shape_.axis(order[static_cast<size_t>(i)]);
    WICK_CHECK(!seen[src], ErrorKind::kInvalidArgument, "permute: dimension {} repeated", src);
    seen[src] = true;
    out.shape_[i] = shape_[src];
    out.strides_[i] = strides_[src];
  }
  out.check_view_keeps_blocks("permute");
  return out;
}

Tensor Tensor::transpose(int a, int b) const {
  int order[kMaxRank];
  for (int i = 0; i < rank(); ++i) order[i] = i;
  std::swap(order[shape_.axis(a)], order[shape_.axis(b)]);
  return permute(std::span<const int>(order, static_cast<size_t>(rank())));
}

Tensor Tensor::narrow(int dim, int64_t start, int64_t length) const {
  const int d = shape_.axis(dim);
  WICK_CHECK(start >= 0 && length >= 0 && start + length <= shape_[d], ErrorKind::kInvalidArgument,
             "narrow(dim {}, start {}, length {}) out of range for shape {}", dim, start, length,
             shape_.str());
  Tensor out = *this;
  out.shape_[d] = length;
  out.offset_ += start * strides_[d];
  out.check_view_keeps_blocks("narrow");
  return out;
}

Tensor Tensor::select(int dim, int64_t index) const {
  return narrow(dim, index, 1).squeeze(dim);
}

Tensor Tensor::broadcast_to(const Shape& target) const {
  WICK_CHECK(target.rank() >= rank(), ErrorKind::kInvalidArgument,
             "cannot broadcast {} to lower rank {}", shape_.str(), target.str());
  Tensor out = *this;
  out.shape_ = target;
  out.strides_ = Shape::filled(target.rank(), 0);
  const int lead = target.rank() - rank();
  for (int i = 0; i < rank(); ++i) {
    const int64_t from = shape_[i];
    const int64_t to = target[lead + i];
    WICK_CHECK(from == to || from == 1, ErrorKind::kInvalidArgument,
               "cannot broadcast {} to {}", shape_.str(), target.str());
    out.strides_[lead + i] = from == to ? strides_[i] : 0;
  }
  WICK_CHECK(!dtype_is_quantized(dtype_) || (target.back() == shape_.back()),
             ErrorKind::kInvalidArgument, "cannot broadcast the rows of a {} tensor",
             dtype_name(dtype_));
  return out;
}

Tensor Tensor::squeeze(int dim) const {
  const int d = shape_.axis(dim);
  WICK_CHECK(shape_[d] == 1, ErrorKind::kInvalidArgument, "squeeze({}) of extent {} in {}", dim,
             shape_[d], shape_.str());
  Tensor out = *this;
  out.shape_.erase(d);
  out.strides_.erase(d);
  return out;
}

Tensor Tensor::unsqueeze(int dim) const {
  const int d = dim < 0 ? dim + rank() + 1 : dim;
  WICK_CHECK(d >= 0 && d <= rank(), ErrorKind::kInvalidArgument,
             "unsqueeze({}) out of range for shape {}", dim, shape_.str());
  Tensor out = *this;
  const int64_t stride = d < rank() ? strides_[d] * shape_[d] : 1;
  out.shape_.insert(d, 1);
  out.strides_.insert(d, stride);
  return out;
}

void Tensor::copy_strided_to_host(void* out) const {
  WICK_CHECK(device().is_cpu(), ErrorKind::kInvalidArgument,
             "host access to a tensor on {}: copy it to the CPU first", device().str());
  WICK_CHECK(!dtype_is_quantized(dtype_), ErrorKind::kInvalidArgument,
             "element access to a {} tensor: dequantize it first", dtype_name(dtype_));
  const size_t size = static_cast<size_t>(dtype_info(dtype_).block_bytes);
  const auto* base = static_cast<const uint8_t*>(storage_->data());
  auto* dst = static_cast<uint8_t*>(out);
  if (is_contiguous()) {
    std::memcpy(dst, base + static_cast<size_t>(offset_) * size,
                static_cast<size_t>(numel()) * size);
    return;
  }
  for_each_offset(shape_, strides_, offset_, [&](int64_t off) {
    std::memcpy(dst, base + static_cast<size_t>(off) * size, size);
    dst += size;
  });
}

std::vector<float> Tensor::to_float_vector() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  if (dtype_ == DType::kF32) {
    copy_strided_to_host(out.data());
    return out;
  }
  const size_t size = static_cast<size_t>(dtype_info(dtype_).block_bytes);
  std::vector<uint8_t> raw(out.size() * size);
  copy_strided_to_host(raw.data());
  for (size_t i = 0; i < out.size(); ++i) {
    const uint8_t* p = raw.data() + i * size;
    switch (dtype_) {
      case DType::kF16: { uint16_t v; std::memcpy(&v, p, 2); out[i] = f16_to_f32(v); break; }
      case DType::kBF16: { uint16_t v; std::memcpy(&v, p, 2); out[i] = bf16_to_f32(v); break; }
      case DType::kI32: { int32_t v; std::memcpy(&v, p, 4); out[i] = static_cast<float>(v); break; }
      case DType::kI64: { int64_t v; std::memcpy(&v, p, 8); out[i] = static_cast<float>(v); break; }
      case DType::kU8:
      case DType::kBool: out[i] = static_cast<float>(*p); break;
      default: fail(ErrorKind::kInvalidArgument, "to_float_vector: {}", dtype_name(dtype_));
    }
  }
  return out;
}

std::string Tensor::str() const {
  return fmt::format("{} {} {}", dtype_name(dtype_), shape_.str(), device().str());
}

}  // namespace wick
