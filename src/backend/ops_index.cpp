// Op API for indexing and masking: index_select / embedding, gather, concat, where,
// attention_mask and topk. Index tensors are i32 or i64; their values are data, so bounds are
// checked by the kernels (which throw naming the op, the bad index and the valid range).

#include <algorithm>

#include "backend/kernel_table.h"
#include "backend/ops.h"

namespace wick {
namespace {

void run_op(Op op, DType key, Device device, std::span<const Tensor> inputs,
            std::span<Tensor> outputs, const OpAttrs& attrs) {
  run_kernel(op, device.type, key, OpCall{op, inputs, outputs, attrs});
}

int resolve_dim(Op op, const Tensor& x, int dim) {
  const int d = dim < 0 ? dim + x.rank() : dim;
  WICK_CHECK(d >= 0 && d < x.rank(), ErrorKind::kInvalidArgument,
             "{}: dim {} out of range for input of shape {}", op_name(op), dim, x.shape().str());
  return d;
}

void check_index_tensor(Op op, const char* what, const Tensor& index, const Tensor& x) {
  WICK_CHECK(index.defined(), ErrorKind::kInvalidArgument, "{}: {} is undefined", op_name(op),
             what);
  WICK_CHECK(index.dtype() == DType::kI32 || index.dtype() == DType::kI64,
             ErrorKind::kInvalidArgument, "{}: {} dtype {} (shape {}) is not i32/i64", op_name(op),
             what, dtype_name(index.dtype()), index.shape().str());
  WICK_CHECK(index.device() == x.device(), ErrorKind::kInvalidArgument,
             "{}: {} is on {}, input on {}", op_name(op), what, index.device().str(),
             x.device().str());
}

void check_plain(Op op, const Tensor& x) {
  WICK_CHECK(x.defined(), ErrorKind::kInvalidArgument, "{}: input is undefined", op_name(op));
  WICK_CHECK(!dtype_is_quantized(x.dtype()), ErrorKind::kInvalidArgument,
             "{}: {} input (shape {}) is quantized; dequantize with to_dtype() first", op_name(op),
             dtype_name(x.dtype()), x.shape().str());
}

// The shape cond, a and b broadcast to (NumPy rules), or an error naming all three.
Shape broadcast3(const Shape& c, const Shape& a, const Shape& b) {
  const int rank = std::max({c.rank(), a.rank(), b.rank()});
  Shape out = Shape::filled(rank, 1);
  for (const Shape* s : {&c, &a, &b})
    for (int i = 0; i < s->rank(); ++i) {
      const int o = rank - s->rank() + i;
      const int64_t d = (*s)[i];
      WICK_CHECK(d == 1 || out[o] == 1 || out[o] == d, ErrorKind::kInvalidArgument,
                 "where: shapes cond {}, a {}, b {} do not broadcast", c.str(), a.str(), b.str());
      if (d != 1) out[o] = d;
    }
  return out;
}

}  // namespace

// x: (.., V, ..) with V at dim; indices: (n) -> out: x's shape with n at dim. A quantized x
// selects whole rows along dim 0 and dequantizes them to f32.
Tensor index_select(const Tensor& x, int dim, const Tensor& indices) {
  WICK_CHECK(x.defined(), ErrorKind::kInvalidArgument, "index_select: input is undefined");
  const int d = resolve_dim(Op::kIndexSelect, x, dim);
  check_index_tensor(Op::kIndexSelect, "indices", indices, x);
  WICK_CHECK(indices.rank() == 1, ErrorKind::kInvalidArgument,
             "index_select: indices of shape {} must be 1-d", indices.shape().str());
  DType out_dtype = x.dtype();
  if (dtype_is_quantized(x.dtype())) {
    WICK_CHECK(d == 0 && x.rank() >= 2 && x.is_contiguous(), ErrorKind::kUnsupported,
               "index_select: a {} input (shape {}) selects contiguous rows along dim 0 only, "
               "got dim {}",
               dtype_name(x.dtype()), x.shape().str(), dim);
    out_dtype = DType::kF32;
  }
  Shape out_shape = x.shape();
  out_shape[d] = indices.shape()[0];
  Tensor out = Tensor::empty(out_shape, out_dtype, x.device());
  OpAttrs attrs;
  attrs.dim = d;
  const Tensor inputs[2] = {x, indices};
  Tensor outputs[1] = {out};
  run_op(Op::kIndexSelect, x.dtype(), x.device(), inputs, outputs, attrs);
  return out;
}

// weight: (V, D); ids: any shape -> (ids.., D). Quantized weights give f32 rows.
Tensor embedding(const Tensor& weight, const Tensor& ids) {
  WICK_CHECK(weight.defined() && weight.rank() == 2, ErrorKind::kInvalidArgument,
             "embedding: weight must be 2-d (V, D), got shape {}",
             weight.defined() ? weight.shape().str() : "undefined");
  check_index_tensor(Op::kIndexSelect, "ids", ids, weight);
  const Tensor flat = contiguous(ids).reshape(Shape{ids.numel()});
  Shape out_shape = ids.shape();
  out_shape.push_back(weight.shape()[1]);
  return index_select(weight, 0, flat).reshape(out_shape);
}

// torch.gather: out[i][j] = x[index[i][j]][j] for dim 0; index has x's rank and
// index.shape[d] <= x.shape[d] for d != dim. out: index's shape, x's dtype.
Tensor gather(const Tensor& x, int dim, const Tensor& index) {
  check_plain(Op::kGather, x);
  const int d = resolve_dim(Op::kGather, x, dim);
  check_index_tensor(Op::kGather, "index", index, x);
  WICK_CHECK(index.rank() == x.rank(), ErrorKind::kInvalidArgument,
             "gather: index of shape {} must have the rank of input {}", index.shape().str(),
             x.shape().str());
  for (int i = 0; i < x.rank(); ++i)
    WICK_CHECK(i == d || index.shape()[i] <= x.shape()[i], ErrorKind::kInvalidArgument,
               "gather: index shape {} exceeds input shape {} in dim {}", index.shape().str(),
               x.shape().str(), i);
  Tensor out = Tensor::empty(index.shape(), x.dtype(), x.device());
  OpAttrs attrs;
  attrs.dim = d;
  const Tensor inputs[2] = {x, index};
  Tensor outputs[1] = {out};
  run_op(Op::kGather, x.dtype(), x.device(), inputs, outputs, attrs);
  return out;
}

Tensor concat(std::span<const Tensor> xs, int dim) {
  WICK_CHECK(!xs.empty(), ErrorKind::kInvalidArgument, "concat: no input tensors");
  const Tensor& first = xs[0];
  check_plain(Op::kConcat, first);
  const int d = resolve_dim(Op::kConcat, first, dim);
  Shape out_shape = first.shape();
  out_shape[d] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    check_plain(Op::kConcat, x);
    WICK_CHECK(x.dtype() == first.dtype() && x.device() == first.device(),
               ErrorKind::kInvalidArgument, "concat: input {} is {} on {}, input 0 is {} on {}", i,
               dtype_name(x.dtype()), x.device().str(), dtype_name(first.dtype()),
               first.device().str());
    bool same = x.rank() == first.rank();
    for (int j = 0; same && j < x.rank(); ++j) same = j == d || x.shape()[j] == first.shape()[j];
    WICK_CHECK(same, ErrorKind::kInvalidArgument,
               "concat along dim {}: input {} has shape {}, incompatible with input 0 shape {}",
               dim, i, x.shape().str(), first.shape().str());
    out_shape[d] += x.shape()[d];
  }
  Tensor out = Tensor::empty(out_shape, first.dtype(), first.device());
  OpAttrs attrs;
  attrs.dim = d;
  Tensor outputs[1] = {out};
  run_op(Op::kConcat, first.dtype(), first.device(), xs, outputs, attrs);
  return out;
}

Tensor concat(std::initializer_list<Tensor> xs, int dim) {
  return concat(std::span<const Tensor>(xs.begin(), xs.size()), dim);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  WICK_CHECK(cond.defined() && (cond.dtype() == DType::kBool || cond.dtype() == DType::kU8),
             ErrorKind::kInvalidArgument, "where: condition must be bool or u8, got {}",
             cond.defined() ? dtype_name(cond.dtype()) : "undefined");
  check_plain(Op::kWhere, a);
  check_plain(Op::kWhere, b);
  WICK_CHECK(a.dtype() == b.dtype(), ErrorKind::kInvalidArgument,
             "where: branch dtypes differ ({} vs {}); convert with to_dtype()",
             dtype_name(a.dtype()), dtype_name(b.dtype()));
  WICK_CHECK(cond.device() == a.device() && a.device() == b.device(), ErrorKind::kInvalidArgument,
             "where: devices differ (cond {}, a {}, b {})", cond.device().str(), a.device().str(),
             b.device().str());
  const Shape shape = broadcast3(cond.shape(), a.shape(), b.shape());
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  const Tensor inputs[3] = {cond.broadcast_to(shape), a.broadcast_to(shape), b.broadcast_to(shape)};
  Tensor outputs[1] = {out};
  run_op(Op::kWhere, a.dtype(), a.device(), inputs, outputs, OpAttrs{});
  return out;
}

Tensor attention_mask(int64_t q_len, int64_t kv_len, int64_t query_offset, int64_t window,
                      Device device) {
  WICK_CHECK(q_len >= 0 && kv_len >= 0 && query_offset >= 0 && window >= 0,
             ErrorKind::kInvalidArgument,
             "attention_mask: q_len {}, kv_len {}, query_offset {}, window {} must be >= 0", q_len,
             kv_len, query_offset, window);
  Tensor out = Tensor::empty(Shape{q_len, kv_len}, DType::kF32, device);
  OpAttrs attrs;
  attrs.mask_query_offset = query_offset;
  attrs.mask_window = window;
  Tensor outputs[1] = {out};
  run_op(Op::kAttentionMask, DType::kF32, device, {}, outputs, attrs);
  return out;
}

std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k) {
  check_plain(Op::kTopk, x);
  WICK_CHECK(dtype_is_float(x.dtype()) || x.dtype() == DType::kI32 || x.dtype() == DType::kI64,
             ErrorKind::kInvalidArgument, "topk: unsupported dtype {}", dtype_name(x.dtype()));
  WICK_CHECK(x.rank() >= 1, ErrorKind::kInvalidArgument, "topk: input is 0-d; need rank >= 1");
  WICK_CHECK(k >= 0 && k <= x.shape().back(), ErrorKind::kInvalidArgument,
             "topk: k = {} outside [0, {}] for input of shape {}", k, x.shape().back(),
             x.shape().str());
  Shape out_shape = x.shape();
  out_shape[out_shape.rank() - 1] = k;
  Tensor values = Tensor::empty(out_shape, x.dtype(), x.device());
  Tensor indices = Tensor::empty(out_shape, DType::kI64, x.device());
  OpAttrs attrs;
  attrs.k = k;
  const Tensor inputs[1] = {x};
  Tensor outputs[2] = {values, indices};
  run_op(Op::kTopk, x.dtype(), x.device(), inputs, outputs, attrs);
  return {values, indices};
}

}  // namespace wick
