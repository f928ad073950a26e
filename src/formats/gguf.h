// GGUF v2/v3 reader (llama.cpp's model file format) over a memory-mapped file: header, typed
// metadata, tensor infos and zero-copy tensor bytes. The file is untrusted: every count, length,
// offset and size is checked before use, and failures throw Error(kParse) naming the file, the
// field and its byte offset. Strings and arrays are views into the mapping, so a 262k-entry
// token list loads in one pass with one vector of string_views and no per-element allocation.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/dtype.h"

namespace wick {

class MappedFile;

// GGUF metadata value types (gguf_type in ggml, same numeric ids).
enum class GgufType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

const char* gguf_type_name(GgufType type);  // "u32", "string", "array"...
// Bytes of one element of a fixed-size type; 0 for string and array.
size_t gguf_type_size(GgufType type);
bool gguf_type_is_integer(GgufType type);

// One metadata value. Scalars are decoded; strings and arrays view the file's bytes.
struct GgufValue {
  GgufType type = GgufType::kU8;
  // kU8..kI64, kBool: the value, sign-extended for signed types (read through as_i64/as_u64).
  uint64_t int_bits = 0;
  double float_value = 0;   // kF32, kF64
  std::string_view string;  // kString: bytes in the file (not validated as UTF-8)

  // kArray only.
  GgufType elem_type = GgufType::kU8;
  uint64_t count = 0;
  std::span<const uint8_t> raw;           // fixed-size elements, little-endian, unaligned
  std::vector<std::string_view> strings;  // elem_type == kString
  std::vector<GgufValue> arrays;          // elem_type == kArray (nested arrays)

  bool is_array() const { return type == GgufType::kArray; }
  bool is_integer() const { return gguf_type_is_integer(type); }
  bool is_float() const { return type == GgufType::kF32 || type == GgufType::kF64; }
  // Integer (or bool) value converted to the target range; nullopt if not an integer or it
  // does not fit.
  std::optional<int64_t> as_i64() const;
  std::optional<uint64_t> as_u64() const;
  // Element i of a fixed-size numeric array as double / int64 (caller checks i < count).
  double float_at(uint64_t i) const;
  int64_t int_at(uint64_t i) const;  // u64 values above INT64_MAX wrap; use raw for those
};

struct GgufKeyValue {
  std::string_view key;
  GgufValue value;
  uint64_t file_offset = 0;  // where the key starts, for messages
};

// Properties of a ggml tensor type, including ones wick cannot compute with (IQ2_XXS, F64...),
// so a file that holds them still opens and can be inspected.
struct GgmlTypeInfo {
  uint32_t id;
  const char* name;  // "q4_k", "iq2_xxs"
  uint32_t block_size;
  uint32_t block_bytes;
};
// nullptr for ids ggml never assigned (or removed).
const GgmlTypeInfo* ggml_type_info(uint32_t ggml_type);

struct GgufTensorInfo {
  std::string_view name;
  uint32_t ggml_type = 0;
  const char* type_name = "";  // ggml name, "q4_k"
  std::optional<DType> dtype;  // nullopt when wick has no DType for the ggml type
  // GGUF order: innermost first, ne[0] is the number of columns (contiguous dimension).
  std::vector<uint64_t> ne;
  // PyTorch order, rows first: shape = reverse(ne). A (rows, cols) matrix has ne = {cols, rows}.
  std::vector<int64_t> shape;
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  uint64_t offset = 0;       // relative to the data section, as stored in the file
  uint64_t file_offset = 0;  // absolute position of the first byte in the file
};

class GgufFile {
 public:
  // Maps and parses `path`. Throws Error(kParse) for malformed files, kIo/kNotFound from mmap.
  static std::shared_ptr<GgufFile> open(const std::string& path);
  // Parses bytes held elsewhere (fuzzers, tests). `keepalive` owns the bytes (may be null when the
  // caller guarantees they outlive the GgufFile); `name` is used in messages.
  static std::shared_ptr<GgufFile> open_bytes(std::span<const uint8_t> bytes, std::string name,
                                              std::shared_ptr<const void> keepalive = nullptr);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t file_size() const { return bytes_.size(); }
  uint64_t data_offset() const { return data_offset_; }  // start of the aligned data section
  // Shared owner of the bytes: hold it to keep tensor_bytes() spans valid.
  const std::shared_ptr<const void>& keepalive() const { return keepalive_; }
  // True when open() mapped the file (not open_bytes): the bytes are read-only file pages.
  bool file_mapped() const { return file_mapped_; }

  // ---- metadata ----
  const std::vector<GgufKeyValue>& metadata() const { return kvs_; }
  const GgufValue* find(std::string_view key) const;
  std::string_view architecture() const;  // general.architecture, "" if absent
  // Typed getters: throw kNotFound when the key is missing and kParse when the stored type does
  // not convert (integers accept any integer type whose value fits; floats accept f32/f64).
  uint32_t get_u32(std::string_view key) const;
  int32_t get_i32(std::string_view key) const;
  uint64_t get_u64(std::string_view key) const;
  int64_t get_i64(std::string_view key) const;
  float get_f32(std::string_view key) const;
  double get_f64(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  std::string_view get_string(std::string_view key) const;
  uint32_t get_u32_or(std::string_view key, uint32_t fallback) const;
  float get_f32_or(std::string_view key, float fallback) const;
  bool get_bool_or(std::string_view key, bool fallback) const;
  std::string_view get_string_or(std::string_view key, std::string_view fallback) const;
  // Arrays: strings are views into the file; numeric arrays are converted (any numeric
  // element type for f32; any integer type whose values fit for i32/u32/i64).
  std::span<const std::string_view> get_string_array(std::string_view key) const;
  std::vector<float> get_f32_array(std::string_view key) const;
  std::vector<int32_t> get_i32_array(std::string_view key) const;
  std::vector<uint32_t> get_u32_array(std::string_view key) const;
  std::vector<int64_t> get_i64_array(std::string_view key) const;

  // ---- tensors ----
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  // The tensor's bytes inside the mapping (valid while keepalive() lives).
  std::span<const uint8_t> tensor_bytes(const GgufTensorInfo& info) const;

 private:
  friend class GgufParser;
  GgufFile() = default;
  const GgufValue& require(std::string_view key) const;
  const GgufValue& require_array(std::string_view key, const char* wanted) const;
  template <class T>
  std::vector<T> get_int_array(std::string_view key, const char* wanted) const;

  std::string path_;
  std::span<const uint8_t> bytes_;
  std::shared_ptr<const void> keepalive_;
  bool file_mapped_ = false;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKeyValue> kvs_;
  std::unordered_map<std::string_view, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr int kGgufMaxDims = 4;  // GGML_MAX_DIMS
inline constexpr int kGgufMaxArrayNesting = 8;

}  // namespace wick
