// CUDA kernels for every op but matmul/linear (matmul.cpp): each entry turns the OpCall's
// tensors into Dims/Views and launches the device kernel on the output device's stream. They are
// registered as the *reference* kernels of DeviceType::kCuda; the CPU reference is the spec they
// are tested against (tests/backends/op_parity_test.cpp). One exception runs on the host: casting
// floats to a GGUF block type (quantizing) copies to the host and uses the core/quant codecs,
// because it happens once at load time and must match the CPU bytes exactly.
#include <cstring>
#include <vector>

#include "backend/backend.h"
#include "backend/kernel_table.h"
#include "backend/ops.h"
#include "backends/cuda/context.h"
#include "core/quant/quant.h"

namespace wick::cuda {
namespace {

int elem_bytes(const Tensor& t) {
  return dtype_info(t.dtype()).block_bytes;
}

// The index space of `shape` with one size-1 slot at `dim` (a row per element of the rest).
Dims rows_of(const Shape& shape, int dim) {
  Shape rows = shape;
  rows[dim] = 1;
  return dims_of(rows);
}

// ---- layout: copy, cast, fill ----

void copy_kernel(const OpCall& call) {
  const Tensor& in = call.inputs[0];
  Tensor& out = call.outputs[0];
  cudaStream_t s = stream_for(out);
  if (dtype_is_quantized(in.dtype())) {  // contiguous rows of blocks (checked by the op API)
    check(cudaMemcpyAsync(out.raw_data(), in.raw_data(), in.nbytes(), cudaMemcpyDeviceToDevice, s),
          "copy");
    return;
  }
  Dims dims = dims_of(out.shape());
  View views[2] = {view_of(in), view_of(out)};
  coalesce(dims, views, 2);
  launch_copy(s, dims, elem_bytes(in), views[0], views[1]);
}

// Float -> block dtype on the host with the reference codec (see the file comment).
void quantize_on_host(const Tensor& in, Tensor& out) {
  const Tensor host = to_device(contiguous(to_dtype(in, DType::kF32)), Device::cpu());
  const int64_t d = out.shape().back();
  WICK_CHECK(d % dtype_info(out.dtype()).block_size == 0, ErrorKind::kInvalidArgument,
             "cast {} -> {}: shape {} does not split into whole blocks", dtype_name(in.dtype()),
             dtype_name(out.dtype()), out.shape().str());
  std::vector<uint8_t> bytes(static_cast<size_t>(out.nbytes()));
  const uint64_t row_bytes = dtype_bytes_for(out.dtype(), static_cast<uint64_t>(d));
  for (int64_t r = 0; d > 0 && r < out.numel() / d; ++r)
    quantize_row(out.dtype(), host.data<float>() + r * d, bytes.data() + r * row_bytes, d);
  find_backend(DeviceType::kCuda)->copy_host_to_device(bytes.data(), out.raw_data(), bytes.size());
}

void cast_kernel(const OpCall& call) {
  const Tensor& in = call.inputs[0];
  Tensor& out = call.outputs[0];
  cudaStream_t s = stream_for(out);
  if (dtype_is_quantized(out.dtype())) {
    quantize_on_host(in, out);
    return;
  }
  if (dtype_is_quantized(in.dtype())) {
    WICK_CHECK(dtype_is_float(out.dtype()) && in.is_contiguous() && out.is_contiguous(),
               ErrorKind::kUnsupported,
               "cuda cast {} -> {} (shape {}): quantized tensors "
               "dequantize contiguously to f32/f16/bf16 only",
               dtype_name(in.dtype()), dtype_name(out.dtype()), in.shape().str());
    const int64_t d = in.rank() == 0 ? 1 : in.shape().back();
    if (in.numel() == 0) return;
    launch_dequantize(s, qtype_of(in.dtype()), in.raw_data(), in.numel() / d, d,
                      elem_of(out.dtype()), out.raw_data());
    return;
  }
  Dims dims = dims_of(out.shape());
  View views[2] = {view_of(in), view_of(out)};
  coalesce(dims, views, 2);
  launch_cast(s, dims, elem_of(in.dtype()), elem_of(out.dtype()), views[0], views[1]);
}

// The element's bytes exactly as the CPU reference's fill stores them.
uint64_t fill_pattern(DType dtype, double value) {
  uint64_t bits = 0;
  auto put = [&](auto v) { std::memcpy(&bits, &v, sizeof(v)); };
  switch (dtype) {
    case DType::kF32:
      put(static_cast<float>(value));
      break;
    case DType::kF16:
      put(f32_to_f16(static_cast<float>(value)));
      break;
    case DType::kBF16:
      put(f32_to_bf16(static_cast<float>(value)));
      break;
    case DType::kI32:
      put(static_cast<int32_t>(value));
      break;
    case DType::kI64:
      put(static_cast<int64_t>(value));
      break;
    case DType::kU8:
      put(static_cast<uint8_t>(value));
      break;
    case DType::kBool:
      put(static_cast<uint8_t>(value != 0.0 ? 1 : 0));
      break;
    default:
      fail(ErrorKind::kUnsupported, "cuda fill of {}", dtype_name(dtype));
  }
  return bits;
}

void fill_kernel(const OpCall& call) {
  Tensor& out = call.outputs[0];
  Dims dims = dims_of(out.shape());
  View views[1] = {view_of(out)};
  coalesce(dims, views, 1);
  launch_fill(stream_for(out), dims, elem_bytes(out), fill_pattern(out.dtype(), call.attrs.scalar),
              views[0]);
}

// ---- elementwise ----

BinaryOp binary_op(Op op) {
  switch (op) {
    case Op::kAdd:
      return BinaryOp::kAdd;
    case Op::kSub:
      return BinaryOp::kSub;
    case Op::kMul:
      return BinaryOp::kMul;
    case Op::kDiv:
      return BinaryOp::kDiv;
    case Op::kMaximum:
      return BinaryOp::kMaximum;
    case Op::kMinimum:
      return BinaryOp::kMinimum;
    default:
      fail(ErrorKind::kInternal, "cuda: {} is not a binary op", op_name(op));
  }
}

UnaryOp unary_op(Op op) {
  switch (op) {
    case Op::kNeg:
      return UnaryOp::kNeg;
    case Op::kExp:
      return UnaryOp::kExp;
    case Op::kLog:
      return UnaryOp::kLog;
    case Op::kSqrt:
      return UnaryOp::kSqrt;
    case Op::kRsqrt:
      return UnaryOp::kRsqrt;
    case Op::kTanh:
      return UnaryOp::kTanh;
    case Op::kSigmoid:
      return UnaryOp::kSigmoid;
    case Op::kSilu:
      return UnaryOp::kSilu;
    case Op::kGeluErf:
      return UnaryOp::kGeluErf;
    case Op::kGeluTanh:
      return UnaryOp::kGeluTanh;
    case Op::kRelu:
      return UnaryOp::kRelu;
    case Op::kAbs:
      return UnaryOp::kAbs;
    case Op::kSqr:
      return UnaryOp::kSqr;
    default:
      fail(ErrorKind::kInternal, "cuda: {} is not a unary op", op_name(op));
  }
}

void binary_kernel(const OpCall& call) {
  Tensor& out = call.outputs[0];
  Dims dims = dims_of(out.shape());
  View views[3] = {view_of(call.inputs[0]), view_of(call.inputs[1]), view_of(out)};
  coalesce(dims, views, 3);
  launch_binary(stream_for(out), binary_op(call.op), elem_of(out.dtype()), dims, views[0], views[1],
                views[2]);
}

void unary_kernel(const OpCall& call) {
  Tensor& out = call.outputs[0];
  Dims dims = dims_of(out.shape());
  View views[2] = {view_of(call.inputs[0]), view_of(out)};
  coalesce(dims, views, 2);
  launch_unary(stream_for(out), unary_op(call.op), elem_of(out.dtype()), dims, views[0], views[1]);
}

void gated_act_kernel(const OpCall& call) {
  Tensor& out = call.outputs[0];
  Dims dims = dims_of(out.shape());
  View views[3] = {view_of(call.inputs[0]), view_of(call.inputs[1]), view_of(out)};
  coalesce(dims, views, 3);
  launch_gated_act(stream_for(out), unary_op(call.attrs.act), elem_of(out.dtype()), dims, views[0],
                   views[1], views[2]);
}

// inputs: x, h (.., D) contiguous, weight (D) contiguous or undefined; outputs: sum, normed.
void add_rms_norm_kernel(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  const Tensor& w = call.inputs[2];
  const int64_t n = x.rank() == 0 ? 1 : x.shape().back();
  launch_add_rms_norm(stream_for(call.outputs[0]), elem_of(x.dtype()), x.raw_data(),
                      call.inputs[1].raw_data(), w.defined() ? w.raw_data() : nullptr,
                      call.outputs[0].raw_data(), call.outputs[1].raw_data(),
                      n == 0 ? 0 : x.numel() / n, n, call.attrs.weight_offset, call.attrs.eps);
}

// ---- reductions and row ops ----

ReduceOp reduce_op(Op op) {
  switch (op) {
    case Op::kSum:
      return ReduceOp::kSum;
    case Op::kMean:
      return ReduceOp::kMean;
    case Op::kMax:
      return ReduceOp::kMax;
    case Op::kMin:
      return ReduceOp::kMin;
    case Op::kArgmax:
      return ReduceOp::kArgmax;
    default:
      fail(ErrorKind::kInternal, "cuda: {} is not a reduction", op_name(op));
  }
}

// x: (.., n, ..) n at attrs.dim; out: x's shape with 1 there.
void reduce_kernel(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  Tensor& out = call.outputs[0];
  const int dim = call.attrs.dim;
  Dims rows = rows_of(x.shape(), dim);
  View views[2] = {view_of(x), view_of(out)};
  coalesce(rows, views, 2);
  launch_reduce(stream_for(out), reduce_op(call.op), elem_of(x.dtype()), rows, views[0], views[1],
                x.shape()[dim], x.strides()[dim]);
}

void cumsum_kernel(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  Tensor& out = call.outputs[0];
  const int dim = call.attrs.dim;
  Dims rows = rows_of(x.shape(), dim);
  View views[2] = {view_of(x), view_of(out)};
  coalesce(rows, views, 2);
  launch_cumsum(stream_for(out), elem_of(x.dtype()), rows, views[0], views[1], x.shape()[dim],
                x.strides()[dim], out.strides()[dim]);
}

// x, out: (.., D) over the last dim.
void softmax_kernel(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  Tensor& out = call.outputs[0];
  const int last = x.rank() - 1;
  Dims rows = rows_of(x.shape(), last);
  View views[2] = {view_of(x), view_of(out)};
  coalesce(rows, views, 2);
  launch_softmax(stream_for(out), call.op == Op::kLogSoftmax, elem_of(x.dtype()), rows, views[0],
                 views[1], x.shape()[last], x.strides()[last], out.strides()[last]);
}

void rms_norm_kernel(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  Tensor& out = call.outputs[0];
  const int last = x.rank() - 1;
  Dims rows = rows_of(x.shape(), last);
  View views[2] = {view_of(x), view_of(out)};
  coalesce(rows, views, 2);
  launch_rms_norm(stream_for(out), elem_of(x.dtype()), rows, views[0], views[1], x.shape()[last],
                  x.strides()[last], out.strides()[last], view_of(call.inputs[1]),
                  call.attrs.weight_offset, call.attrs.eps);
}

void layer_norm_kernel(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  Tensor& out = call.outputs[0];
  const int last = x.rank() - 1;
  Dims rows = rows_of(x.shape(), last);
  View views[2] = {view_of(x), view_of(out)};
  coalesce(rows, views, 2);
  launch_layer_norm(stream_for(out), elem_of(x.dtype()), rows, views[0], views[1], x.shape()[last],
                    x.strides()[last], out.strides()[last], view_of(call.inputs[1]),
                    view_of(call.inputs[2]), call.attrs.eps);
}

// x, out: (.., H, D); positions: x.shape[:-2] (broadcast views allowed); inv_freq (R/2) f32.
void rope_kernel(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  const Tensor& positions = call.inputs[1];
  const Tensor& inv_freq = call.inputs[2];
  Tensor& out = call.outputs[0];
  View pos = view_of(positions);
  pos.strides[x.rank() - 2] = 0;  // positions are shared by every head and dim
  pos.strides[x.rank() - 1] = 0;
  launch_rope(stream_for(out), elem_of(x.dtype()), dims_of(x.shape()), view_of(x), view_of(out),
              pos, positions.dtype() == DType::kI64, view_of(inv_freq), inv_freq.shape()[0],
              call.attrs.rope_neox);
}

void topk_kernel(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  Tensor& values = call.outputs[0];
  Tensor& indices = call.outputs[1];
  const int last = x.rank() - 1;
  Dims rows = rows_of(x.shape(), last);
  View views[3] = {view_of(x), view_of(values), view_of(indices)};
  coalesce(rows, views, 3);
  launch_topk(stream_for(values), elem_of(x.dtype()), rows, views[0], views[1], views[2],
              x.shape()[last], call.attrs.k, x.strides()[last], values.strides()[last],
              indices.strides()[last]);
}

// ---- indexing ----

void index_select_kernel(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  const Tensor& indices = call.inputs[1];
  Tensor& out = call.outputs[0];
  cudaStream_t s = stream_for(out);
  const bool i64 = indices.dtype() == DType::kI64;
  if (dtype_is_quantized(x.dtype())) {  // x (V, ..) contiguous rows of blocks -> out (n, ..) f32
    const int64_t d = x.shape()[0] == 0 ? 0 : x.numel() / x.shape()[0];
    launch_dequantize_rows(s, qtype_of(x.dtype()), x.raw_data(), d, x.shape()[0], view_of(indices),
                           i64, indices.shape()[0], static_cast<float*>(out.raw_data()));
    return;
  }
  launch_index(s, dims_of(out.shape()), elem_bytes(x), call.attrs.dim, x.shape()[call.attrs.dim],
               view_of(x), view_of(indices), i64, /*index_1d=*/true, view_of(out));
}

void gather_kernel(const OpCall& call) {
  const Tensor& x = call.inputs[0];
  const Tensor& index = call.inputs[1];
  Tensor& out = call.outputs[0];
  launch_index(stream_for(out), dims_of(index.shape()), elem_bytes(x), call.attrs.dim,
               x.shape()[call.attrs.dim], view_of(x), view_of(index), index.dtype() == DType::kI64,
               /*index_1d=*/false, view_of(out));
}

void concat_kernel(const OpCall& call) {
  Tensor& out = call.outputs[0];
  cudaStream_t s = stream_for(out);
  const int dim = call.attrs.dim;
  int64_t start = 0;
  for (const Tensor& x : call.inputs) {
    const Tensor slot = out.narrow(dim, start, x.shape()[dim]);
    start += x.shape()[dim];
    Dims dims = dims_of(x.shape());
    View views[2] = {view_of(x), view_of(slot)};
    coalesce(dims, views, 2);
    launch_copy(s, dims, elem_bytes(x), views[0], views[1]);
  }
}

void where_kernel(const OpCall& call) {
  Tensor& out = call.outputs[0];
  Dims dims = dims_of(out.shape());
  View views[4] = {view_of(call.inputs[0]), view_of(call.inputs[1]), view_of(call.inputs[2]),
                   view_of(out)};
  coalesce(dims, views, 4);
  launch_where(stream_for(out), dims, elem_bytes(out), views[0], views[1], views[2], views[3]);
}

void attention_mask_kernel(const OpCall& call) {
  Tensor& out = call.outputs[0];
  launch_attention_mask(stream_for(out), out.shape()[0], out.shape()[1],
                        call.attrs.mask_query_offset, call.attrs.mask_window, view_of(out));
}

// Registers fn behind guarded() so device-side errors come out as wick::Error.
template <void (*Fn)(const OpCall&)>
void reg(Op op, DType dtype) {
  register_reference_kernel(op, DeviceType::kCuda, dtype,
                            [](const OpCall& call) { guarded(call.op, [&] { Fn(call); }); });
}

const bool kRegistered = [] {
  const DType floats[] = {DType::kF32, DType::kF16, DType::kBF16};
  const DType arith[] = {DType::kF32, DType::kF16, DType::kBF16, DType::kI32, DType::kI64};
  for (int i = 0; i < kDTypeCount; ++i) {
    const auto dt = static_cast<DType>(i);
    reg<copy_kernel>(Op::kCopy, dt);
    if (dtype_is_quantized(dt)) {
      reg<cast_kernel>(Op::kCast, dt);
      reg<index_select_kernel>(Op::kIndexSelect, dt);
      continue;
    }
    reg<cast_kernel>(Op::kCast, dt);
    reg<fill_kernel>(Op::kFill, dt);
    reg<index_select_kernel>(Op::kIndexSelect, dt);
    reg<gather_kernel>(Op::kGather, dt);
    reg<concat_kernel>(Op::kConcat, dt);
    reg<where_kernel>(Op::kWhere, dt);
  }
  for (DType dt : arith) {
    for (Op op : {Op::kAdd, Op::kSub, Op::kMul, Op::kDiv, Op::kMaximum, Op::kMinimum})
      reg<binary_kernel>(op, dt);
    for (Op op : {Op::kSum, Op::kMax, Op::kMin, Op::kArgmax}) reg<reduce_kernel>(op, dt);
    reg<cumsum_kernel>(Op::kCumsum, dt);
    reg<topk_kernel>(Op::kTopk, dt);
  }
  for (DType dt : floats) {
    for (Op op : {Op::kNeg, Op::kExp, Op::kLog, Op::kSqrt, Op::kRsqrt, Op::kTanh, Op::kSigmoid,
                  Op::kSilu, Op::kGeluErf, Op::kGeluTanh, Op::kRelu, Op::kAbs, Op::kSqr})
      reg<unary_kernel>(op, dt);
    reg<reduce_kernel>(Op::kMean, dt);
    reg<softmax_kernel>(Op::kSoftmax, dt);
    reg<softmax_kernel>(Op::kLogSoftmax, dt);
    reg<rms_norm_kernel>(Op::kRmsNorm, dt);
    reg<layer_norm_kernel>(Op::kLayerNorm, dt);
    reg<rope_kernel>(Op::kRope, dt);
    reg<gated_act_kernel>(Op::kGatedAct, dt);
    reg<add_rms_norm_kernel>(Op::kAddRmsNorm, dt);
  }
  for (DType dt : {DType::kI32, DType::kI64})
    for (Op op : {Op::kNeg, Op::kAbs, Op::kSqr, Op::kRelu}) reg<unary_kernel>(op, dt);
  reg<attention_mask_kernel>(Op::kAttentionMask, DType::kF32);
  return true;
}();

}  // namespace

// ---- helpers declared in context.h ----

Elem elem_of(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return Elem::kF32;
    case DType::kF16:
      return Elem::kF16;
    case DType::kBF16:
      return Elem::kBF16;
    case DType::kI32:
      return Elem::kI32;
    case DType::kI64:
      return Elem::kI64;
    case DType::kU8:
      return Elem::kU8;
    case DType::kBool:
      return Elem::kBool;
    default:
      fail(ErrorKind::kUnsupported, "cuda: {} is not a plain element type", dtype_name(dtype));
  }
}

QType qtype_of(DType dtype) {
  switch (dtype) {
    case DType::kQ4_0:
      return QType::kQ4_0;
    case DType::kQ4_1:
      return QType::kQ4_1;
    case DType::kQ5_0:
      return QType::kQ5_0;
    case DType::kQ5_1:
      return QType::kQ5_1;
    case DType::kQ8_0:
      return QType::kQ8_0;
    case DType::kQ8_1:
      return QType::kQ8_1;
    case DType::kQ2_K:
      return QType::kQ2_K;
    case DType::kQ3_K:
      return QType::kQ3_K;
    case DType::kQ4_K:
      return QType::kQ4_K;
    case DType::kQ5_K:
      return QType::kQ5_K;
    case DType::kQ6_K:
      return QType::kQ6_K;
    case DType::kQ8_K:
      return QType::kQ8_K;
    case DType::kIQ4_NL:
      return QType::kIQ4_NL;
    case DType::kIQ4_XS:
      return QType::kIQ4_XS;
    default:
      fail(ErrorKind::kUnsupported, "cuda: no block decoder for {}", dtype_name(dtype));
  }
}

Dims dims_of(const Shape& shape) {
  Dims d;
  d.rank = shape.rank();
  for (int i = 0; i < shape.rank(); ++i) d.shape[i] = shape[i];
  return d;
}

View view_of(const Tensor& t) {
  View v;
  if (!t.defined()) return v;
  v.base = t.storage()->data();
  v.offset = t.offset();
  for (int i = 0; i < t.rank(); ++i) v.strides[i] = t.strides()[i];
  return v;
}

void coalesce(Dims& dims, View* views, int n_views) {
  for (int d = 0; d < dims.rank; ++d)
    if (dims.shape[d] == 0) return;  // nothing to walk; keep the shape as is
  Dims out;
  int64_t strides[4][kMaxDims] = {};
  for (int d = 0; d < dims.rank; ++d) {
    if (dims.shape[d] == 1) continue;
    // Merge into the previous kept dim when every view steps through both as one.
    bool merge = out.rank > 0;
    for (int t = 0; merge && t < n_views; ++t)
      merge = strides[t][out.rank - 1] == views[t].strides[d] * dims.shape[d];
    if (merge) {
      out.shape[out.rank - 1] *= dims.shape[d];
      for (int t = 0; t < n_views; ++t) strides[t][out.rank - 1] = views[t].strides[d];
      continue;
    }
    out.shape[out.rank] = dims.shape[d];
    for (int t = 0; t < n_views; ++t) strides[t][out.rank] = views[t].strides[d];
    ++out.rank;
  }
  dims = out;
  for (int t = 0; t < n_views; ++t)
    for (int d = 0; d < kMaxDims; ++d) views[t].strides[d] = d < out.rank ? strides[t][d] : 0;
}

}  // namespace wick::cuda
