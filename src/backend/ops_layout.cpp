// Op API for layout and conversion: contiguous, copies, casts, fills, device transfers.
#include "backend/backend.h"
#include "backend/kernel_table.h"
#include "backend/ops.h"

namespace wick {
namespace {

void run_unary_call(Op op, DType key, const Tensor& in, Tensor& out, const OpAttrs& attrs) {
  const Tensor inputs[1] = {in};
  Tensor outputs[1] = {out};
  run_kernel(op, out.device().type, key, OpCall{op, inputs, outputs, attrs});
}

}  // namespace

Tensor copy(const Tensor& x) {
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (dtype_is_quantized(x.dtype())) {
    // Rows of whole blocks: the op API only allows views that keep rows contiguous.
    WICK_CHECK(x.is_contiguous(), ErrorKind::kUnsupported, "copy of a strided {} tensor",
               dtype_name(x.dtype()));
  }
  run_unary_call(Op::kCopy, x.dtype(), x, out, OpAttrs{});
  return out;
}

Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : copy(x); }

void copy_into(const Tensor& src, Tensor& dst) {
  WICK_CHECK(src.shape() == dst.shape(), ErrorKind::kInvalidArgument,
             "copy_into: source shape {} differs from destination {}", src.shape().str(),
             dst.shape().str());
  WICK_CHECK(src.device() == dst.device(), ErrorKind::kInvalidArgument,
             "copy_into: devices differ ({} vs {})", src.device().str(), dst.device().str());
  const Op op = src.dtype() == dst.dtype() ? Op::kCopy : Op::kCast;
  run_unary_call(op, src.dtype(), src, dst, OpAttrs{});
}

Tensor to_dtype(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor out = Tensor::empty(x.shape(), dtype, x.device());
  if (dtype_is_quantized(x.dtype()) || dtype_is_quantized(dtype)) {
    WICK_CHECK(x.is_contiguous(), ErrorKind::kUnsupported,
               "to_dtype {} -> {}: quantized conversions need a contiguous input",
               dtype_name(x.dtype()), dtype_name(dtype));
  }
  run_unary_call(Op::kCast, x.dtype(), x, out, OpAttrs{});
  return out;
}

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  WICK_CHECK(!dtype_is_quantized(dtype), ErrorKind::kInvalidArgument, "full() of {} tensor",
             dtype_name(dtype));
  Tensor out = Tensor::empty(shape, dtype, device);
  OpAttrs attrs;
  attrs.scalar = value;
  Tensor outputs[1] = {out};
  run_kernel(Op::kFill, device.type, dtype, OpCall{Op::kFill, {}, outputs, attrs});
  return out;
}

Tensor zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }

Tensor to_device(const Tensor& x, Device device) {
  if (x.device() == device) return x;
  WICK_CHECK(
      !is_packed(x), ErrorKind::kUnsupported,
      "to_device: {} is a linear weight in a backend's packed layout; unpack_linear_weight() "
      "it first",
      x.str());
  const Tensor src = contiguous(x);
  Tensor out = Tensor::empty(src.shape(), src.dtype(), device);
  const size_t bytes = static_cast<size_t>(src.nbytes());
  if (src.device().is_cpu()) {
    Backend* backend = find_backend(device.type);
    WICK_CHECK(backend != nullptr, ErrorKind::kUnsupported, "no backend for {}", device.str());
    backend->copy_host_to_device(src.raw_data(), out.raw_data(), bytes);
  } else if (device.is_cpu()) {
    Backend* backend = find_backend(src.device().type);
    WICK_CHECK(backend != nullptr, ErrorKind::kUnsupported, "no backend for {}", src.device().str());
    backend->copy_device_to_host(src.raw_data(), out.raw_data(), bytes);
  } else {
    // Device to device of another kind or index: stage through the host.
    return to_device(to_device(src, Device::cpu()), device);
  }
  return out;
}

}  // namespace wick
