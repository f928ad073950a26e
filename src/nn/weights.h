// Loading named weights with the shape a layer expects. Every failure names the tensor, the shape
// found and wanted, and the file (WeightSource::describe()), so a wrong checkpoint is diagnosable
// without a debugger. 1-D float tensors (norms, biases) are converted to f32 at load because ops
// take no mixed dtypes; matrices keep their stored dtype (linear() accepts any). Tensors land on
// the load device (ScopedLoadDevice), so architecture files never take a device argument.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "formats/weight_source.h"

namespace wick::nn {

// The device load_weight() and friends place tensors on: the CPU unless a ScopedLoadDevice on
// this thread says otherwise (models::load_model sets one for the duration of a load).
Device load_device();
class ScopedLoadDevice {
 public:
  explicit ScopedLoadDevice(Device device);
  ~ScopedLoadDevice();
  ScopedLoadDevice(const ScopedLoadDevice&) = delete;
  ScopedLoadDevice& operator=(const ScopedLoadDevice&) = delete;

 private:
  Device previous_;
};

// The tensor `name` with exactly `shape` (PyTorch order). Throws kNotFound / kInvalidArgument.
Tensor load_weight(const WeightSource& ws, const std::string& name, std::vector<int64_t> shape);
// Same, but returns an undefined tensor when the source has no tensor of that name.
Tensor load_optional(const WeightSource& ws, const std::string& name, std::vector<int64_t> shape);
// A 1-D or 2-D float tensor converted to f32 (norm weights, biases, position tables).
Tensor load_f32(const WeightSource& ws, const std::string& name, std::vector<int64_t> shape);
Tensor load_f32_optional(const WeightSource& ws, const std::string& name,
                         std::vector<int64_t> shape);

std::string shape_str(const std::vector<int64_t>& shape);  // "(2, 3)"

}  // namespace wick::nn
