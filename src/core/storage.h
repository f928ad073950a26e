// Storage: a block of bytes on a device, shared by every tensor that views it. What backs the
// memory (aligned host allocation, a mapped file, a CUDA allocation) is kept alive by `keepalive`.
// Allocation for a device goes through an allocator that the device's backend registers, so the
// core never names a backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace wick {

enum class DeviceType : uint8_t { kCpu, kCuda };
inline constexpr int kDeviceTypeCount = 2;

struct Device {
  DeviceType type = DeviceType::kCpu;
  int index = 0;

  static Device cpu() { return {DeviceType::kCpu, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::kCuda, index}; }
  bool is_cpu() const { return type == DeviceType::kCpu; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const;  // "cpu", "cuda:0"
};

// Parses "cpu", "cuda", "cuda:1"; throws on anything else.
Device parse_device(const std::string& text);

class Storage {
 public:
  Storage(Device device, void* data, size_t bytes, std::shared_ptr<void> keepalive)
      : device_(device), data_(data), bytes_(bytes), keepalive_(std::move(keepalive)) {}

  Device device() const { return device_; }
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

  // Nonzero: the bytes are rearranged for one backend's linear kernels (a prepared weight, see
  // backend/ops.h prepare_linear_weight), the value naming that backend's layout. Only linear()
  // reads such a tensor; every other op rejects it.
  int packed_layout() const { return packed_layout_; }
  void set_packed_layout(int layout) { packed_layout_ = layout; }
  // A read-only view of a file mapping: its pages can be dropped and are read again from the file.
  bool file_mapped() const { return file_mapped_; }
  void set_file_mapped(bool mapped) { file_mapped_ = mapped; }

 private:
  Device device_;
  void* data_;
  size_t bytes_;
  std::shared_ptr<void> keepalive_;
  int packed_layout_ = 0;
  bool file_mapped_ = false;
};

using StorageAllocator = std::shared_ptr<Storage> (*)(Device device, size_t bytes);

// Backends register their allocator at start-up; the CPU allocator is built in (64-byte aligned).
void register_storage_allocator(DeviceType type, StorageAllocator allocator);
std::shared_ptr<Storage> allocate_storage(Device device, size_t bytes);
std::shared_ptr<Storage> allocate_host_storage(size_t bytes);

}  // namespace wick
