// Backend registry.
#include "backend/backend.h"

#include <array>

namespace wick {
namespace {

std::array<Backend*, kDeviceTypeCount>& backends() {
  static std::array<Backend*, kDeviceTypeCount> table = {};
  return table;
}

}  // namespace

void register_backend(Backend* backend) { backends()[static_cast<size_t>(backend->type())] = backend; }

Backend* find_backend(DeviceType type) { return backends()[static_cast<size_t>(type)]; }

Device default_device() {
  Backend* cuda = find_backend(DeviceType::kCuda);
  if (cuda != nullptr && cuda->device_count() > 0) return Device::cuda(0);
  return Device::cpu();
}

}  // namespace wick
