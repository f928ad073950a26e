// Backends other than the CPU (CUDA) register a Backend object for moving bytes between host and
// device and for synchronising their stream; kernels register separately in the kernel table.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/storage.h"

namespace wick {

// A recorded sequence of device work that can be launched again (a CUDA graph), with a private
// memory pool: device allocations made inside run_in_pool() or capture() come from the pool and
// return to it, so the addresses the recorded work uses stay reserved for it until the graph dies.
class StepGraph {
 public:
  virtual ~StepGraph() = default;
  // Runs fn eagerly with the pool active (a warm-up fills the pool with the blocks fn needs).
  virtual void run_in_pool(const std::function<void()>& fn) = 0;
  // Records fn's device work (nothing runs) with the pool active; false when the work cannot be
  // recorded (the graph is then unusable and the caller runs eagerly).
  virtual bool capture(const std::function<void()>& fn) = 0;
  // Launches the recorded work on the device's stream (asynchronously).
  virtual void replay() = 0;
  // Device bytes the pool holds.
  virtual size_t pool_bytes() const = 0;
};

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
  // Copy ordered on `device`'s stream that may return before it completes: `host` must stay
  // valid and unchanged until the next synchronising call (a device->host copy, synchronize()).
  virtual void copy_host_to_device_async(Device device, const void* host, void* device_ptr,
                                         size_t bytes) {
    (void)device;
    copy_host_to_device(host, device_ptr, bytes);
  }
  // Page-locked host memory (a CPU storage) for fast asynchronous uploads.
  virtual std::shared_ptr<Storage> allocate_pinned_host(size_t bytes) {
    return allocate_host_storage(bytes);
  }
  // Free and total bytes of `device`'s memory; false when unknown.
  virtual bool memory_info(Device device, size_t* free_bytes, size_t* total_bytes) {
    (void)device, (void)free_bytes, (void)total_bytes;
    return false;
  }
  // A graph recorder for `device`; nullptr when the backend cannot record (then run eagerly).
  virtual std::unique_ptr<StepGraph> new_step_graph(Device device) {
    (void)device;
    return nullptr;
  }
};

void register_backend(Backend* backend);
// nullptr when the build or machine has no such backend.
Backend* find_backend(DeviceType type);
// The best device present: CUDA when a CUDA backend reports a device, else the CPU.
Device default_device();

}  // namespace wick
