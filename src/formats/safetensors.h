// safetensors reader (HF's weight format): 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, then the raw data, mapped
// zero-copy. The header is validated completely before any tensor is handed out: known dtype,
// shape product matches the byte range, ranges inside the file and non-overlapping. Sharded
// checkpoints (model.safetensors.index.json) resolve each tensor name to its shard.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/dtype.h"

namespace wick {

struct SafetensorsTensorInfo {
  std::string name;
  std::string dtype_name;      // as in the file: "BF16", "F8_E4M3"
  std::optional<DType> dtype;  // nullopt for types wick does not compute with (F64, I16, F8...)
  uint32_t element_bytes = 0;
  std::vector<int64_t> shape;  // PyTorch order, rows first
  uint64_t n_elements = 0;
  uint64_t begin = 0;        // data_offsets[0], relative to the data section
  uint64_t n_bytes = 0;      // data_offsets[1] - data_offsets[0]
  uint64_t file_offset = 0;  // absolute position of the first byte
};

class SafetensorsFile {
 public:
  // Throws Error(kParse) naming the file, field and offset for malformed files.
  static std::shared_ptr<SafetensorsFile> open(const std::string& path);
  static std::shared_ptr<SafetensorsFile> open_bytes(
      std::span<const uint8_t> bytes, std::string name,
      std::shared_ptr<const void> keepalive = nullptr);

  const std::string& path() const { return path_; }
  uint64_t file_size() const { return bytes_.size(); }
  uint64_t header_bytes() const { return header_bytes_; }  // JSON length
  uint64_t data_offset() const { return 8 + header_bytes_; }
  const std::shared_ptr<const void>& keepalive() const { return keepalive_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Sorted by data offset (file order).
  const std::vector<SafetensorsTensorInfo>& tensors() const { return tensors_; }
  const SafetensorsTensorInfo* find_tensor(std::string_view name) const;
  std::span<const uint8_t> tensor_bytes(const SafetensorsTensorInfo& info) const;

 private:
  friend class SafetensorsParser;
  SafetensorsFile() = default;

  std::string path_;
  std::span<const uint8_t> bytes_;
  std::shared_ptr<const void> keepalive_;
  uint64_t header_bytes_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<SafetensorsTensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> index_;
};

// Largest JSON header accepted (the reference implementation's limit).
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100u << 20;

// A checkpoint of one or more safetensors files. open() accepts a .safetensors file, a
// model.safetensors.index.json, or a directory holding either (the index wins). Shard names in
// the index must be plain file names next to it (no directories, no ".."): the index is untrusted.
class SafetensorsCheckpoint {
 public:
  static std::shared_ptr<SafetensorsCheckpoint> open(const std::string& path);

  const std::vector<std::shared_ptr<SafetensorsFile>>& shards() const { return shards_; }
  // Tensor names in shard order (shards sorted by file name), then file order.
  const std::vector<std::string>& names() const { return names_; }
  // The tensor and the shard holding it; {nullptr, nullptr} if absent.
  std::pair<const SafetensorsTensorInfo*, const SafetensorsFile*> find(std::string_view name) const;
  const std::map<std::string, std::string>& index_metadata() const { return index_metadata_; }

 private:
  void open_index(const std::string& index_path);

  std::vector<std::shared_ptr<SafetensorsFile>> shards_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, size_t> shard_of_;   // name -> index in shards_
  std::map<std::string, std::string> index_metadata_;  // "metadata" of the index, as strings
};

}  // namespace wick
