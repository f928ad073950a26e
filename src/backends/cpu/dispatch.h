// The CPU backend's one dtype switch: maps a runtime DType to a C++ element type, and converts
// elements to and from the compute type (f32 for every float dtype; the type itself for ints).
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/error.h"
#include "core/half.h"
#include "core/tensor.h"

namespace wick::cpu {

template <class T> struct ComputeType { using type = T; };
template <> struct ComputeType<f16_t> { using type = float; };
template <> struct ComputeType<bf16_t> { using type = float; };
template <class T> using compute_t = typename ComputeType<T>::type;

template <class T> inline compute_t<T> load(const T& v) { return v; }
inline float load(const f16_t& v) { return f16_to_f32(v.bits); }
inline float load(const bf16_t& v) { return bf16_to_f32(v.bits); }

template <class T, class V> inline void store(T& dst, V v) { dst = static_cast<T>(v); }
template <class V> inline void store(f16_t& dst, V v) { dst.bits = f32_to_f16(static_cast<float>(v)); }
template <class V> inline void store(bf16_t& dst, V v) { dst.bits = f32_to_bf16(static_cast<float>(v)); }

// fn.template operator()<T>() for the element type of `dtype`. Which families an op accepts is
// checked by the op API; reaching an unlisted dtype here is a bug.
template <class Fn>
void dispatch_plain(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kF32: fn.template operator()<float>(); return;
    case DType::kF16: fn.template operator()<f16_t>(); return;
    case DType::kBF16: fn.template operator()<bf16_t>(); return;
    case DType::kI32: fn.template operator()<int32_t>(); return;
    case DType::kI64: fn.template operator()<int64_t>(); return;
    case DType::kU8: fn.template operator()<uint8_t>(); return;
    case DType::kBool: fn.template operator()<bool>(); return;
    default: fail(ErrorKind::kInternal, "cpu dispatch: unexpected dtype {}", dtype_name(dtype));
  }
}

template <class T>
inline constexpr bool kIsFloatElement =
    std::is_same_v<T, float> || std::is_same_v<T, f16_t> || std::is_same_v<T, bf16_t>;
template <class T>
inline constexpr bool kIsArithElement =
    kIsFloatElement<T> || std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>;

// The same switch, instantiating fn only for the float dtypes and the wide integers (the types
// with arithmetic), so kernels need not compile their math for bool and u8.
template <class Fn>
void dispatch_arith(DType dtype, Fn&& fn) {
  dispatch_plain(dtype, [&]<class T>() {
    if constexpr (kIsArithElement<T>) {
      fn.template operator()<T>();
    } else {
      fail(ErrorKind::kInternal, "cpu dispatch: expected an arithmetic dtype, got {}",
           dtype_name(dtype));
    }
  });
}

// Only the float dtypes (f32, f16, bf16).
template <class Fn>
void dispatch_float(DType dtype, Fn&& fn) {
  dispatch_plain(dtype, [&]<class T>() {
    if constexpr (kIsFloatElement<T>) {
      fn.template operator()<T>();
    } else {
      fail(ErrorKind::kInternal, "cpu dispatch: expected a float dtype, got {}", dtype_name(dtype));
    }
  });
}

template <class T>
T* typed(const Tensor& t) {
  return static_cast<T*>(t.storage()->data());  // element offsets are applied by the caller
}

}  // namespace wick::cpu
