// Storage allocation: the host allocator and the per-device allocator registry.
#include "core/storage.h"

#include <array>
#include <cstdlib>
#include <new>

#include "core/error.h"

namespace wick {

std::string Device::str() const {
  return type == DeviceType::kCpu ? "cpu" : fmt::format("cuda:{}", index);
}

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  if (text == "cuda") return Device::cuda(0);
  if (text.rfind("cuda:", 0) == 0 && text.size() > 5 && text.size() < 9) {
    int index = 0;
    for (size_t i = 5; i < text.size(); ++i) {
      WICK_CHECK(text[i] >= '0' && text[i] <= '9', ErrorKind::kInvalidArgument,
                 "bad device '{}': expected cpu, cuda or cuda:N", text);
      index = index * 10 + (text[i] - '0');
    }
    return Device::cuda(index);
  }
  fail(ErrorKind::kInvalidArgument, "bad device '{}': expected cpu, cuda or cuda:N", text);
}

namespace {

std::array<StorageAllocator, kDeviceTypeCount>& allocators() {
  static std::array<StorageAllocator, kDeviceTypeCount> table = {};
  return table;
}

}  // namespace

std::shared_ptr<Storage> allocate_host_storage(size_t bytes) {
  constexpr size_t kAlign = 64;
  const size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  void* data = std::aligned_alloc(kAlign, rounded == 0 ? kAlign : rounded);
  WICK_CHECK(data != nullptr, ErrorKind::kOutOfMemory, "cannot allocate {} bytes of host memory",
             bytes);
  std::shared_ptr<void> owner(data, [](void* p) { std::free(p); });
  return std::make_shared<Storage>(Device::cpu(), data, bytes, std::move(owner));
}

void register_storage_allocator(DeviceType type, StorageAllocator allocator) {
  allocators()[static_cast<size_t>(type)] = allocator;
}

std::shared_ptr<Storage> allocate_storage(Device device, size_t bytes) {
  if (device.is_cpu()) return allocate_host_storage(bytes);
  StorageAllocator allocator = allocators()[static_cast<size_t>(device.type)];
  WICK_CHECK(allocator != nullptr, ErrorKind::kUnsupported,
             "no backend for device {} in this build", device.str());
  return allocator(device, bytes);
}

}  // namespace wick
