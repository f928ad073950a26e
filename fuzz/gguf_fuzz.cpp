// libFuzzer target for the GGUF reader: parse arbitrary bytes, then touch everything a loader
// would (typed getters, array conversions, tensor byte spans, the HF-name WeightSource with its
// fixups) and round-trip the metadata through GgufWriter. Any wick::Error is an accepted outcome;
// crashes, sanitizer reports and huge allocations are bugs.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/error.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "formats/weight_source.h"

namespace {

void touch_metadata(const wick::GgufFile& f) {
  for (const wick::GgufKeyValue& kv : f.metadata()) {
    try {
      if (kv.value.is_array()) {
        if (kv.value.elem_type == wick::GgufType::kString) {
          (void)f.get_string_array(kv.key);
        } else if (wick::gguf_type_size(kv.value.elem_type) != 0) {
          (void)f.get_f32_array(kv.key);
          (void)f.get_i32_array(kv.key);
        }
      } else if (kv.value.type == wick::GgufType::kString) {
        (void)f.get_string(kv.key);
      } else {
        (void)f.get_i64(kv.key);
        (void)f.get_f64(kv.key);
      }
    } catch (const wick::Error&) {
    }
  }
}

void round_trip_metadata(const wick::GgufFile& f) {
  wick::GgufWriter w(f.alignment());
  for (const wick::GgufKeyValue& kv : f.metadata()) {
    if (kv.key != "general.alignment") w.add_value(kv.key, kv.value);
  }
  const std::vector<uint8_t> bytes = w.to_bytes();
  const auto again = wick::GgufFile::open_bytes(bytes, "round-trip");
  if (again->metadata().size() != f.metadata().size()) __builtin_trap();
}

void touch_weights(const std::shared_ptr<wick::GgufFile>& f) {
  wick::GgufWeightSource source(f);
  for (const std::string& name : source.names()) {
    try {
      const wick::Tensor t = source.tensor(name);
      (void)t.nbytes();
    } catch (const wick::Error&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto f = wick::GgufFile::open_bytes(std::span<const uint8_t>(data, size), "fuzz.gguf");
    touch_metadata(*f);
    uint64_t sum = 0;
    for (const wick::GgufTensorInfo& t : f->tensors()) {
      const auto bytes = f->tensor_bytes(t);
      if (!bytes.empty()) sum += bytes.front() + bytes.back();
    }
    round_trip_metadata(*f);
    touch_weights(f);
    return static_cast<int>(sum & 0);
  } catch (const wick::Error&) {
  }
  return 0;
}
