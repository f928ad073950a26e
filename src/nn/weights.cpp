// Named weight loading with shape checks (see weights.h).
#include "nn/weights.h"

#include <fmt/format.h>

#include "backend/ops.h"

namespace wick::nn {

namespace {
thread_local Device g_load_device = Device::cpu();
}  // namespace

Device load_device() {
  return g_load_device;
}

ScopedLoadDevice::ScopedLoadDevice(Device device) : previous_(g_load_device) {
  g_load_device = device;
}

ScopedLoadDevice::~ScopedLoadDevice() {
  g_load_device = previous_;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

Tensor load_weight(const WeightSource& ws, const std::string& name, std::vector<int64_t> shape) {
  if (!ws.contains(name))
    fail(ErrorKind::kNotFound, "tensor {} not found in {}", name, ws.describe());
  WeightInfo info = ws.info(name);
  if (info.shape != shape)
    fail(ErrorKind::kInvalidArgument, "tensor {} in {}: shape {} but the config implies {}", name,
         ws.describe(), shape_str(info.shape), shape_str(shape));
  const Tensor t = ws.tensor(name);
  return t.device() == load_device() ? t : to_device(t, load_device());
}

Tensor load_optional(const WeightSource& ws, const std::string& name, std::vector<int64_t> shape) {
  if (!ws.contains(name)) return Tensor();
  return load_weight(ws, name, std::move(shape));
}

Tensor load_f32(const WeightSource& ws, const std::string& name, std::vector<int64_t> shape) {
  Tensor t = load_weight(ws, name, std::move(shape));
  if (!dtype_is_float(t.dtype()))
    fail(ErrorKind::kUnsupported, "tensor {} in {}: dtype {} where a float vector is expected",
         name, ws.describe(), dtype_name(t.dtype()));
  return t.dtype() == DType::kF32 ? t : to_dtype(t, DType::kF32);
}

Tensor load_f32_optional(const WeightSource& ws, const std::string& name,
                         std::vector<int64_t> shape) {
  if (!ws.contains(name)) return Tensor();
  return load_f32(ws, name, std::move(shape));
}

}  // namespace wick::nn
