// Reference CPU kernels for copy, cast and fill. Casts between plain dtypes convert through the
// compute type (f32 for floats); float -> integer truncates toward zero as C++ and torch do.
#include <cstring>

#include "backend/kernel_table.h"
#include "backends/cpu/dispatch.h"
#include "backends/cpu/quant_cast.h"
#include "core/strided_loop.h"

namespace wick::cpu {
namespace {

// in: any strides; out: any strides, same shape and dtype.
void copy_ref(const OpCall& call) {
  const Tensor& in = call.inputs[0];
  Tensor& out = call.outputs[0];
  if (dtype_is_quantized(in.dtype())) {  // contiguous rows of blocks (checked by the op API)
    std::memcpy(out.raw_data(), in.raw_data(), static_cast<size_t>(in.nbytes()));
    return;
  }
  const size_t size = static_cast<size_t>(dtype_info(in.dtype()).block_bytes);
  const auto* src = static_cast<const uint8_t*>(in.storage()->data());
  auto* dst = static_cast<uint8_t*>(out.storage()->data());
  for_each_offsets<2>(out.shape(), {&in.strides(), &out.strides()}, {in.offset(), out.offset()},
                      [&](const auto& off) {
                        std::memcpy(dst + static_cast<size_t>(off[1]) * size,
                                    src + static_cast<size_t>(off[0]) * size, size);
                      });
}

template <class From, class To>
To convert(const From& v) {
  To out{};
  if constexpr (std::is_same_v<To, bool>) {
    out = load(v) != 0;
  } else {
    store(out, load(v));
  }
  return out;
}

void cast_ref(const OpCall& call) {
  const Tensor& in = call.inputs[0];
  Tensor& out = call.outputs[0];
  if (dtype_is_float(in.dtype()) && dtype_is_quantized(out.dtype())) {
    cast_float_to_quantized_ref(call);  // quant_cast_ref.cpp
    return;
  }
  WICK_CHECK(!dtype_is_quantized(in.dtype()) && !dtype_is_quantized(out.dtype()),
             ErrorKind::kUnsupported, "cast {} -> {} on cpu", dtype_name(in.dtype()),
             dtype_name(out.dtype()));
  dispatch_plain(in.dtype(), [&]<class From>() {
    dispatch_plain(out.dtype(), [&]<class To>() {
      const From* src = typed<From>(in);
      To* dst = typed<To>(out);
      for_each_offsets<2>(out.shape(), {&in.strides(), &out.strides()},
                          {in.offset(), out.offset()},
                          [&](const auto& off) { dst[off[1]] = convert<From, To>(src[off[0]]); });
    });
  });
}

void fill_ref(const OpCall& call) {
  Tensor& out = call.outputs[0];
  dispatch_plain(out.dtype(), [&]<class T>() {
    T value{};
    if constexpr (std::is_same_v<T, bool>) {
      value = call.attrs.scalar != 0.0;
    } else if constexpr (std::is_same_v<compute_t<T>, float>) {
      store(value, static_cast<float>(call.attrs.scalar));
    } else {
      store(value, static_cast<T>(call.attrs.scalar));
    }
    T* dst = typed<T>(out);
    for_each_offsets<1>(out.shape(), {&out.strides()}, {out.offset()},
                        [&](const auto& off) { dst[off[0]] = value; });
  });
}

const bool kRegistered = [] {
  for (int i = 0; i < kDTypeCount; ++i) {
    const auto dt = static_cast<DType>(i);
    register_reference_kernel(Op::kCopy, DeviceType::kCpu, dt, &copy_ref);
    if (!dtype_is_quantized(dt)) {
      register_reference_kernel(Op::kCast, DeviceType::kCpu, dt, &cast_ref);
      register_reference_kernel(Op::kFill, DeviceType::kCpu, dt, &fill_ref);
    }
  }
  return true;
}();

}  // namespace
}  // namespace wick::cpu
