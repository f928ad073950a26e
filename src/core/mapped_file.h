// Read-only memory-mapped files. Opening a multi-GB model is O(1): pages load on first touch.
// The mapping lives as long as any shared_ptr to it, so tensors can view weights zero-copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace wick {

class MappedFile {
 public:
  // Throws Error(kIo / kNotFound) naming the path on failure. An empty file maps to an empty span.
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace wick
