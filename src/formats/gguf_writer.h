// GGUF v3 writer: metadata of every value type, tensors laid out at the alignment. Used by tests,
// fixtures and `wick quantize`; files it writes are read by GgufFile and by llama.cpp's `gguf`
// Python package. Shapes are given in PyTorch order (rows first) and stored innermost-first.
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "formats/gguf.h"

namespace wick {

class GgufWriter {
 public:
  // An alignment other than 32 is recorded as general.alignment (u32), as the format requires.
  explicit GgufWriter(uint32_t alignment = kGgufDefaultAlignment);

  // Metadata, written in the order added. A key may be added once (throws kInvalidArgument).
  void add_u8(std::string_view key, uint8_t v);
  void add_i8(std::string_view key, int8_t v);
  void add_u16(std::string_view key, uint16_t v);
  void add_i16(std::string_view key, int16_t v);
  void add_u32(std::string_view key, uint32_t v);
  void add_i32(std::string_view key, int32_t v);
  void add_u64(std::string_view key, uint64_t v);
  void add_i64(std::string_view key, int64_t v);
  void add_f32(std::string_view key, float v);
  void add_f64(std::string_view key, double v);
  void add_bool(std::string_view key, bool v);
  void add_string(std::string_view key, std::string_view v);
  void add_array(std::string_view key, std::span<const uint8_t> v);
  void add_array(std::string_view key, std::span<const int32_t> v);
  void add_array(std::string_view key, std::span<const uint32_t> v);
  void add_array(std::string_view key, std::span<const int64_t> v);
  void add_array(std::string_view key, std::span<const float> v);
  void add_array(std::string_view key, std::span<const double> v);
  void add_array(std::string_view key, std::span<const std::string> v);
  void add_array(std::string_view key, std::span<const std::string_view> v);
  // An array of arrays of strings (GGUF allows nested arrays).
  void add_array(std::string_view key, const std::vector<std::vector<std::string>>& v);
  // Copies a value read from another file (any type, nested arrays included).
  void add_value(std::string_view key, const GgufValue& v);

  // Tensors, laid out in the order added. `shape` is PyTorch order; the last extent must be a
  // whole number of blocks and `bytes` exactly dtype_bytes_for(numel). The bytes are copied.
  void add_tensor(std::string_view name, DType dtype, std::span<const int64_t> shape,
                  std::span<const uint8_t> bytes);
  // A zero-filled tensor; write() leaves its data as a file hole (sparse), to_bytes() zeros.
  void add_zero_tensor(std::string_view name, DType dtype, std::span<const int64_t> shape);

  std::vector<uint8_t> to_bytes() const;
  void write(const std::string& path) const;  // throws kIo naming the path

 private:
  struct PendingTensor {
    std::string name;
    uint32_t ggml_type;
    std::vector<uint64_t> ne;  // innermost first
    uint64_t n_bytes;
    uint64_t offset;            // in the data section
    std::vector<uint8_t> data;  // empty for zero tensors
  };

  void begin_kv(std::string_view key, GgufType type);
  void put_value(const GgufValue& v);
  PendingTensor make_tensor(std::string_view name, DType dtype,
                            std::span<const int64_t> shape) const;
  void push_tensor(PendingTensor t);
  std::vector<uint8_t> header_bytes() const;  // up to the (aligned) data section
  uint64_t data_section_bytes() const;

  uint32_t alignment_;
  std::vector<uint8_t> kv_bytes_;
  uint64_t kv_count_ = 0;
  std::set<std::string, std::less<>> keys_;
  std::vector<PendingTensor> tensors_;
  std::set<std::string, std::less<>> tensor_names_;
  uint64_t data_end_ = 0;  // end of the last tensor in the data section
};

}  // namespace wick
