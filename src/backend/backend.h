// Backends other than the CPU (CUDA) register a Backend object for moving bytes between host and
// device and for synchronising their stream; kernels register separately in the kernel table.
#pragma once

#include <cstddef>
#include <string>

#include "core/storage.h"

namespace wick {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual DeviceType type() const = 0;
  virtual std::string name() const = 0;
  virtual int device_count() const = 0;
  virtual void copy_host_to_device(const void* host, void* device_ptr, size_t bytes) = 0;
  virtual void copy_device_to_host(const void* device_ptr, void* host, size_t bytes) = 0;
  virtual void copy_device_to_device(const void* src, void* dst, size_t bytes) = 0;
  virtual void synchronize() = 0;
};

void register_backend(Backend* backend);
// nullptr when the build or machine has no such backend.
Backend* find_backend(DeviceType type);
// The best device present: CUDA when a CUDA backend reports a device, else the CPU.
Device default_device();

}  // namespace wick
