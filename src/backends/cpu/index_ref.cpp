// Reference CPU kernels for index_select (plain and quantized rows), gather, concat, where,
// attention_mask and topk. Data movement copies whole elements as bytes, so one kernel serves
// every plain dtype; index values are bounds-checked here because they are data.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backend/kernel_table.h"
#include "backends/cpu/dispatch.h"
#include "core/quant/quant.h"
#include "core/strided_loop.h"

namespace wick::cpu {
namespace {

size_t element_bytes(const Tensor& t) {
  return static_cast<size_t>(dtype_info(t.dtype()).block_bytes);
}

const uint8_t* bytes_of(const Tensor& t) {
  return static_cast<const uint8_t*>(t.storage()->data());
}
uint8_t* mutable_bytes_of(const Tensor& t) {
  return static_cast<uint8_t*>(t.storage()->data());
}

// Copies src into dst element by element (same shape and dtype, any strides).
void copy_elements(const Tensor& src, const Tensor& dst) {
  const size_t size = element_bytes(src);
  const uint8_t* from = bytes_of(src);
  uint8_t* to = mutable_bytes_of(dst);
  for_each_offsets<2>(dst.shape(), {&src.strides(), &dst.strides()}, {src.offset(), dst.offset()},
                      [&](const auto& off) {
                        std::memcpy(to + static_cast<size_t>(off[1]) * size,
                                    from + static_cast<size_t>(off[0]) * size, size);
                      });
}

// Element `off` of an i32/i64 index tensor, checked against [0, limit).
int64_t load_index(Op op, const Tensor& index, int64_t off, int64_t limit) {
  const int64_t value =
      index.dtype() == DType::kI32 ? typed<int32_t>(index)[off] : typed<int64_t>(index)[off];
  WICK_CHECK(value >= 0 && value < limit, ErrorKind::kInvalidArgument,
             "{}: index {} out of range [0, {})", op_name(op), value, limit);
  return value;
}

// x: (.., V, ..) V at attrs.dim; indices: (n); out: x's shape with n at attrs.dim.
void index_select_ref(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  const Tensor& indices = call.inputs[1];
  const Tensor& out = call.outputs[0];
  const int dim = call.attrs.dim;
  const int64_t n = indices.shape()[0];
  for (int64_t j = 0; j < n; ++j) {
    const int64_t row =
        load_index(call.op, indices, indices.offset() + j * indices.strides()[0], x.shape()[dim]);
    copy_elements(x.narrow(dim, row, 1), out.narrow(dim, j, 1));
  }
}

// x: (V, ..) quantized, contiguous; out: (n, ..) f32 contiguous. Rows dequantize whole.
void index_select_quantized_ref(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  const Tensor& indices = call.inputs[1];
  const Tensor& out = call.outputs[0];
  const int64_t row_values = x.numel() / x.shape()[0];
  const uint64_t row_bytes = dtype_bytes_for(x.dtype(), static_cast<uint64_t>(row_values));
  const auto* base = static_cast<const uint8_t*>(x.raw_data());
  auto* dst = static_cast<float*>(out.raw_data());
  for (int64_t j = 0; j < indices.shape()[0]; ++j) {
    const int64_t row =
        load_index(call.op, indices, indices.offset() + j * indices.strides()[0], x.shape()[0]);
    dequantize_row(x.dtype(), base + static_cast<uint64_t>(row) * row_bytes, dst + j * row_values,
                   row_values);
  }
}

// x: any shape; index: same rank, extents <= x's off attrs.dim; out: index's shape.
// out[.., i, ..] = x[.., index[.., i, ..], ..] along attrs.dim.
void gather_ref(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  const Tensor& index = call.inputs[1];
  const Tensor& out = call.outputs[0];
  const int dim = call.attrs.dim;
  Shape x_strides = x.strides();  // the gathered dim's offset comes from the index value
  x_strides[dim] = 0;
  const size_t size = element_bytes(x);
  const uint8_t* from = bytes_of(x);
  uint8_t* to = mutable_bytes_of(out);
  for_each_offsets<3>(index.shape(), {&x_strides, &index.strides(), &out.strides()},
                      {x.offset(), index.offset(), out.offset()}, [&](const auto& off) {
                        const int64_t i = load_index(call.op, index, off[1], x.shape()[dim]);
                        const int64_t src = off[0] + i * x.strides()[dim];
                        std::memcpy(to + static_cast<size_t>(off[2]) * size,
                                    from + static_cast<size_t>(src) * size, size);
                      });
}

// inputs: n tensors equal but for attrs.dim; out: their extents along attrs.dim summed.
void concat_ref(const OpCall& call) {
  const Tensor& out = call.outputs[0];
  const int dim = call.attrs.dim;
  int64_t start = 0;
  for (const Tensor& x : call.inputs) {
    copy_elements(x, out.narrow(dim, start, x.shape()[dim]));
    start += x.shape()[dim];
  }
}

// cond (bool/u8, nonzero = true), a, b, out: one shape (broadcast by the op API).
void where_ref(const OpCall& call) {
  const Tensor& cond = call.inputs[0];
  const Tensor& a = call.inputs[1];
  const Tensor& b = call.inputs[2];
  const Tensor& out = call.outputs[0];
  const size_t size = element_bytes(out);
  const uint8_t* pc = bytes_of(cond);  // bool and u8 are both one byte
  const uint8_t* pa = bytes_of(a);
  const uint8_t* pb = bytes_of(b);
  uint8_t* po = mutable_bytes_of(out);
  for_each_offsets<4>(out.shape(), {&cond.strides(), &a.strides(), &b.strides(), &out.strides()},
                      {cond.offset(), a.offset(), b.offset(), out.offset()}, [&](const auto& off) {
                        const uint8_t* src = pc[off[0]] != 0
                                                 ? pa + static_cast<size_t>(off[1]) * size
                                                 : pb + static_cast<size_t>(off[2]) * size;
                        std::memcpy(po + static_cast<size_t>(off[3]) * size, src, size);
                      });
}

// out: (Tq, Tk) f32. Query i sits at absolute position q = query_offset + i and sees key j
// when j <= q and (window == 0 or q - j < window).
void attention_mask_ref(const OpCall& call) {
  const Tensor& out = call.outputs[0];
  float* po = typed<float>(out);
  const int64_t offset = call.attrs.mask_query_offset;
  const int64_t window = call.attrs.mask_window;
  for (int64_t i = 0; i < out.shape()[0]; ++i) {
    for (int64_t j = 0; j < out.shape()[1]; ++j) {
      const int64_t q = offset + i;
      const bool visible = j <= q && (window == 0 || q - j < window);
      po[out.offset() + i * out.strides()[0] + j * out.strides()[1]] =
          visible ? 0.0f : -std::numeric_limits<float>::infinity();
    }
  }
}

// True when (va, ia) ranks before (vb, ib): larger value first, NaN largest, ties by index.
template <class V>
bool ranks_before(V va, int64_t ia, V vb, int64_t ib) {
  if constexpr (!std::is_integral_v<V>) {
    const bool na = std::isnan(va), nb = std::isnan(vb);
    if (na || nb) return na && nb ? ia < ib : na;
  }
  return va != vb ? va > vb : ia < ib;
}

// x: (.., D); values: (.., k) x's dtype; indices: (.., k) i64.
void topk_ref(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  const Tensor& values = call.outputs[0];
  const Tensor& indices = call.outputs[1];
  const int64_t d = x.shape().back();
  const int64_t k = call.attrs.k;
  const int last = x.rank() - 1;
  Shape rows = x.shape();
  rows[last] = 1;
  dispatch_arith(x.dtype(), [&]<class T>() {
    const T* px = typed<T>(x);
    T* pv = typed<T>(values);
    int64_t* pi = typed<int64_t>(indices);
    std::vector<int64_t> order(static_cast<size_t>(d));
    for_each_offsets<3>(
        rows, {&x.strides(), &values.strides(), &indices.strides()},
        {x.offset(), values.offset(), indices.offset()}, [&](const auto& off) {
          const auto value = [&](int64_t i) { return load(px[off[0] + i * x.strides()[last]]); };
          for (int64_t i = 0; i < d; ++i) order[static_cast<size_t>(i)] = i;
          std::partial_sort(
              order.begin(), order.begin() + k, order.end(),
              [&](int64_t a, int64_t b) { return ranks_before(value(a), a, value(b), b); });
          for (int64_t j = 0; j < k; ++j) {
            const int64_t i = order[static_cast<size_t>(j)];
            pv[off[1] + j * values.strides()[last]] = px[off[0] + i * x.strides()[last]];
            pi[off[2] + j * indices.strides()[last]] = i;
          }
        });
  });
}

const bool kRegistered = [] {
  for (int i = 0; i < kDTypeCount; ++i) {
    const auto dt = static_cast<DType>(i);
    if (dtype_is_quantized(dt)) {
      register_reference_kernel(Op::kIndexSelect, DeviceType::kCpu, dt,
                                &index_select_quantized_ref);
      continue;
    }
    register_reference_kernel(Op::kIndexSelect, DeviceType::kCpu, dt, &index_select_ref);
    register_reference_kernel(Op::kGather, DeviceType::kCpu, dt, &gather_ref);
    register_reference_kernel(Op::kConcat, DeviceType::kCpu, dt, &concat_ref);
    register_reference_kernel(Op::kWhere, DeviceType::kCpu, dt, &where_ref);
  }
  register_reference_kernel(Op::kAttentionMask, DeviceType::kCpu, DType::kF32, &attention_mask_ref);
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kI32, DType::kI64})
    register_reference_kernel(Op::kTopk, DeviceType::kCpu, dt, &topk_ref);
  return true;
}();

}  // namespace
}  // namespace wick::cpu
