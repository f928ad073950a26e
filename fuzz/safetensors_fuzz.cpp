// libFuzzer target for the safetensors reader: parse arbitrary bytes as a safetensors file and
// touch every tensor's byte span. Any wick::Error is an accepted outcome; crashes, sanitizer
// reports and huge allocations are bugs.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto f =
        wick::SafetensorsFile::open_bytes(std::span<const uint8_t>(data, size), "fuzz.safetensors");
    uint64_t sum = 0;
    for (const wick::SafetensorsTensorInfo& t : f->tensors()) {
      const auto bytes = f->tensor_bytes(t);
      if (!bytes.empty()) sum += bytes.front() + bytes.back();
      if (f->find_tensor(t.name) != &t) __builtin_trap();
    }
    return static_cast<int>(sum & 0);
  } catch (const wick::Error&) {
  }
  return 0;
}
