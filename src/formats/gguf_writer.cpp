// GGUF v3 serialisation: the metadata is encoded as it is added; tensor infos and the padded data
// section are laid out at write time. Tensor data is padded to the alignment after every tensor,
// as ggml and gguf-py do, so offsets agree with files written by either.
#include "formats/gguf_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "core/error.h"

namespace wick {
namespace {

template <class T>
void put(std::vector<uint8_t>& out, T v) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

void put_string(std::vector<uint8_t>& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

uint64_t align_up(uint64_t v, uint64_t alignment) {
  return (v + alignment - 1) / alignment * alignment;
}

template <class T>
void put_array(std::vector<uint8_t>& out, GgufType elem, std::span<const T> v) {
  put<uint32_t>(out, static_cast<uint32_t>(elem));
  put<uint64_t>(out, v.size());
  const size_t at = out.size();
  out.resize(at + v.size_bytes());
  if (!v.empty()) std::memcpy(out.data() + at, v.data(), v.size_bytes());
}

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  WICK_CHECK(alignment != 0 && (alignment & (alignment - 1)) == 0, ErrorKind::kInvalidArgument,
             "GGUF alignment {} is not a power of two", alignment);
  if (alignment != kGgufDefaultAlignment) add_u32("general.alignment", alignment);
}

void GgufWriter::begin_kv(std::string_view key, GgufType type) {
  WICK_CHECK(keys_.emplace(key).second, ErrorKind::kInvalidArgument,
             "GGUF metadata key '{}' added twice", key);
  put_string(kv_bytes_, key);
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(type));
  ++kv_count_;
}

#define WICK_GGUF_SCALAR(method, T, type)              \
  void GgufWriter::method(std::string_view key, T v) { \
    begin_kv(key, type);                               \
    put<T>(kv_bytes_, v);                              \
  }
WICK_GGUF_SCALAR(add_u8, uint8_t, GgufType::kU8)
WICK_GGUF_SCALAR(add_i8, int8_t, GgufType::kI8)
WICK_GGUF_SCALAR(add_u16, uint16_t, GgufType::kU16)
WICK_GGUF_SCALAR(add_i16, int16_t, GgufType::kI16)
WICK_GGUF_SCALAR(add_u32, uint32_t, GgufType::kU32)
WICK_GGUF_SCALAR(add_i32, int32_t, GgufType::kI32)
WICK_GGUF_SCALAR(add_u64, uint64_t, GgufType::kU64)
WICK_GGUF_SCALAR(add_i64, int64_t, GgufType::kI64)
WICK_GGUF_SCALAR(add_f32, float, GgufType::kF32)
WICK_GGUF_SCALAR(add_f64, double, GgufType::kF64)
#undef WICK_GGUF_SCALAR

void GgufWriter::add_bool(std::string_view key, bool v) {
  begin_kv(key, GgufType::kBool);
  put<uint8_t>(kv_bytes_, v ? 1 : 0);
}

void GgufWriter::add_string(std::string_view key, std::string_view v) {
  begin_kv(key, GgufType::kString);
  put_string(kv_bytes_, v);
}

#define WICK_GGUF_ARRAY(T, elem)                                           \
  void GgufWriter::add_array(std::string_view key, std::span<const T> v) { \
    begin_kv(key, GgufType::kArray);                                       \
    put_array<T>(kv_bytes_, elem, v);                                      \
  }
WICK_GGUF_ARRAY(uint8_t, GgufType::kU8)
WICK_GGUF_ARRAY(int32_t, GgufType::kI32)
WICK_GGUF_ARRAY(uint32_t, GgufType::kU32)
WICK_GGUF_ARRAY(int64_t, GgufType::kI64)
WICK_GGUF_ARRAY(float, GgufType::kF32)
WICK_GGUF_ARRAY(double, GgufType::kF64)
#undef WICK_GGUF_ARRAY

void GgufWriter::add_array(std::string_view key, std::span<const std::string> v) {
  begin_kv(key, GgufType::kArray);
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kString));
  put<uint64_t>(kv_bytes_, v.size());
  for (const std::string& s : v) put_string(kv_bytes_, s);
}

void GgufWriter::add_array(std::string_view key, std::span<const std::string_view> v) {
  begin_kv(key, GgufType::kArray);
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kString));
  put<uint64_t>(kv_bytes_, v.size());
  for (std::string_view s : v) put_string(kv_bytes_, s);
}

void GgufWriter::add_array(std::string_view key, const std::vector<std::vector<std::string>>& v) {
  begin_kv(key, GgufType::kArray);
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kArray));
  put<uint64_t>(kv_bytes_, v.size());
  for (const std::vector<std::string>& inner : v) {
    put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kString));
    put<uint64_t>(kv_bytes_, inner.size());
    for (const std::string& s : inner) put_string(kv_bytes_, s);
  }
}

void GgufWriter::add_value(std::string_view key, const GgufValue& v) {
  begin_kv(key, v.type);
  put_value(v);
}

// Payload of a value (without the type id), recursively for arrays.
void GgufWriter::put_value(const GgufValue& v) {
  switch (v.type) {
    case GgufType::kString:
      put_string(kv_bytes_, v.string);
      return;
    case GgufType::kF32:
      put<float>(kv_bytes_, static_cast<float>(v.float_value));
      return;
    case GgufType::kF64:
      put<double>(kv_bytes_, v.float_value);
      return;
    case GgufType::kArray:
      break;
    default: {  // integers and bool: the low bytes of the (sign-extended) bits
      const size_t at = kv_bytes_.size();
      kv_bytes_.resize(at + gguf_type_size(v.type));
      std::memcpy(kv_bytes_.data() + at, &v.int_bits, gguf_type_size(v.type));
      return;
    }
  }
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(v.elem_type));
  put<uint64_t>(kv_bytes_, v.count);
  if (v.elem_type == GgufType::kString) {
    for (std::string_view s : v.strings) put_string(kv_bytes_, s);
  } else if (v.elem_type == GgufType::kArray) {
    for (const GgufValue& item : v.arrays) put_value(item);
  } else {
    kv_bytes_.insert(kv_bytes_.end(), v.raw.begin(), v.raw.end());
  }
}

GgufWriter::PendingTensor GgufWriter::make_tensor(std::string_view name, DType dtype,
                                                  std::span<const int64_t> shape) const {
  const DTypeInfo& info = dtype_info(dtype);
  WICK_CHECK(info.ggml_type >= 0, ErrorKind::kUnsupported, "tensor '{}': dtype {} has no GGUF type",
             name, info.name);
  WICK_CHECK(shape.size() <= static_cast<size_t>(kGgufMaxDims), ErrorKind::kInvalidArgument,
             "tensor '{}': rank {} exceeds GGUF's {}", name, shape.size(), kGgufMaxDims);
  WICK_CHECK(!tensor_names_.contains(name), ErrorKind::kInvalidArgument,
             "GGUF tensor '{}' added twice", name);
  PendingTensor t;
  t.name = name;
  t.ggml_type = static_cast<uint32_t>(info.ggml_type);
  int64_t numel = 1;
  for (auto it = shape.rbegin(); it != shape.rend(); ++it) {
    WICK_CHECK(*it >= 0 && !__builtin_mul_overflow(numel, *it, &numel), ErrorKind::kInvalidArgument,
               "tensor '{}': bad extent {}", name, *it);
    t.ne.push_back(static_cast<uint64_t>(*it));
  }
  const int64_t columns = shape.empty() ? 1 : shape.back();
  WICK_CHECK(columns % info.block_size == 0, ErrorKind::kInvalidArgument,
             "tensor '{}': last extent {} is not a multiple of the {} block size {}", name, columns,
             info.name, info.block_size);
  t.n_bytes = dtype_bytes_for(dtype, static_cast<uint64_t>(numel));
  return t;
}

void GgufWriter::push_tensor(PendingTensor t) {
  t.offset = align_up(data_end_, alignment_);
  data_end_ = t.offset + t.n_bytes;
  tensor_names_.insert(t.name);
  tensors_.push_back(std::move(t));
}

void GgufWriter::add_tensor(std::string_view name, DType dtype, std::span<const int64_t> shape,
                            std::span<const uint8_t> bytes) {
  PendingTensor t = make_tensor(name, dtype, shape);
  WICK_CHECK(bytes.size() == t.n_bytes, ErrorKind::kInvalidArgument,
             "tensor '{}': {} bytes given, the {} data needs {}", name, bytes.size(),
             dtype_name(dtype), t.n_bytes);
  t.data.assign(bytes.begin(), bytes.end());
  push_tensor(std::move(t));
}

void GgufWriter::add_zero_tensor(std::string_view name, DType dtype,
                                 std::span<const int64_t> shape) {
  push_tensor(make_tensor(name, dtype, shape));
}

std::vector<uint8_t> GgufWriter::header_bytes() const {
  std::vector<uint8_t> out;
  put<uint32_t>(out, kGgufMagic);
  put<uint32_t>(out, 3);
  put<uint64_t>(out, tensors_.size());
  put<uint64_t>(out, kv_count_);
  out.insert(out.end(), kv_bytes_.begin(), kv_bytes_.end());
  for (const PendingTensor& t : tensors_) {
    put_string(out, t.name);
    put<uint32_t>(out, static_cast<uint32_t>(t.ne.size()));
    for (uint64_t extent : t.ne) put<uint64_t>(out, extent);
    put<uint32_t>(out, t.ggml_type);
    put<uint64_t>(out, t.offset);
  }
  out.resize(align_up(out.size(), alignment_), 0);
  return out;
}

uint64_t GgufWriter::data_section_bytes() const {
  return align_up(data_end_, alignment_);
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  std::vector<uint8_t> out = header_bytes();
  const size_t data_start = out.size();
  out.resize(data_start + data_section_bytes(), 0);
  for (const PendingTensor& t : tensors_) {
    if (!t.data.empty()) std::memcpy(out.data() + data_start + t.offset, t.data.data(), t.n_bytes);
  }
  return out;
}

void GgufWriter::write(const std::string& path) const {
  const std::vector<uint8_t> header = header_bytes();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) fail(ErrorKind::kIo, "cannot create {}: {}", path, std::strerror(errno));
  auto check = [&](bool ok, const char* what) {
    if (!ok) fail(ErrorKind::kIo, "cannot {} {}: {}", what, path, std::strerror(errno));
  };
  check(std::fwrite(header.data(), 1, header.size(), f.get()) == header.size(), "write");
  // Tensors are in offset order; zero tensors and padding are skipped with seeks (file holes).
  for (const PendingTensor& t : tensors_) {
    if (t.data.empty()) continue;
    const uint64_t at = header.size() + t.offset;
    check(fseeko(f.get(), static_cast<off_t>(at), SEEK_SET) == 0, "seek in");
    check(std::fwrite(t.data.data(), 1, t.data.size(), f.get()) == t.data.size(), "write");
  }
  check(std::fflush(f.get()) == 0, "write");
  const uint64_t total = header.size() + data_section_bytes();
  check(::ftruncate(fileno(f.get()), static_cast<off_t>(total)) == 0, "resize");
  std::FILE* raw = f.release();
  check(std::fclose(raw) == 0, "close");
}

}  // namespace wick
