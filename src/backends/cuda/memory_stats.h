// What the CUDA caching allocator holds per device, for leak checks and memory reports. A plain
// C++ header (no CUDA includes) so tests and tools can ask without the toolkit's headers.
#pragma once

#include <cstddef>

namespace wick::cuda {

struct MemoryStats {
  size_t in_use_bytes = 0;  // size classes held by live storages
  size_t cached_bytes = 0;  // freed blocks kept for reuse
};

// Zeros for a device index the allocator never saw.
MemoryStats memory_stats(int device);

}  // namespace wick::cuda
