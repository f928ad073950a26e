// Op API for attention over a KV pool: attention() (fused scores, mask, softmax and weighted sum
// per sequence, reading keys through a block table) and store_rows() (scatter of new K/V rows
// into the pool). Shapes and dtypes are checked here; table values are checked too when the
// tables live on the CPU (device tables come from the KV cache, which builds them on the host).
#include <algorithm>

#include "backend/kernel_table.h"
#include "backend/ops.h"

namespace wick {
namespace {

void require(bool ok, const char* op, std::string_view what) {
  WICK_CHECK(ok, ErrorKind::kInvalidArgument, "{}: {}", op, what);
}

bool is_attention_pool_dtype(DType dt) {
  return dt == DType::kF32 || dt == DType::kF16 || dt == DType::kBF16;
}

void check_same_device(const char* op, const Tensor& a, const char* name, const Tensor& b) {
  WICK_CHECK(a.device() == b.device(), ErrorKind::kInvalidArgument, "{}: {} is on {}, q on {}", op,
             name, b.device().str(), a.device().str());
}

// Validates the per-sequence rows of `seqs` against the query count, the table and the pool.
void check_tables(const Tensor& block_table, const Tensor& seqs, int64_t n_queries,
                  int64_t pool_rows, int64_t block_size, int64_t max_q_len) {
  const Tensor table = contiguous(block_table);
  const Tensor info = contiguous(seqs);
  const auto* pt = static_cast<const int32_t*>(table.storage()->data()) + table.offset();
  const auto* pi = static_cast<const int32_t*>(info.storage()->data()) + info.offset();
  const int64_t B = table.dim(0), M = table.dim(1), n_blocks = pool_rows / block_size;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t begin = pi[b * 3], len = pi[b * 3 + 1], past = pi[b * 3 + 2];
    WICK_CHECK(begin >= 0 && len >= 0 && past >= 0 && begin + len <= n_queries,
               ErrorKind::kInvalidArgument,
               "attention: sequence {} has q_begin {}, q_len {}, past {} outside {} queries", b,
               begin, len, past, n_queries);
    WICK_CHECK(max_q_len == 0 || len <= max_q_len, ErrorKind::kInvalidArgument,
               "attention: sequence {} has q_len {} above max_q_len {}", b, len, max_q_len);
    const int64_t used_blocks = (past + len + block_size - 1) / block_size;
    WICK_CHECK(used_blocks <= M, ErrorKind::kInvalidArgument,
               "attention: sequence {} spans {} keys = {} blocks of {}, table has {} columns", b,
               past + len, used_blocks, block_size, M);
    for (int64_t j = 0; j < used_blocks; ++j) {
      const int32_t blk = pt[b * M + j];
      WICK_CHECK(blk >= 0 && blk < n_blocks, ErrorKind::kInvalidArgument,
                 "attention: sequence {} block {} is {}, pool has {} blocks", b, j, blk, n_blocks);
    }
    ranges.emplace_back(begin, len);
  }
  std::sort(ranges.begin(), ranges.end());
  int64_t next = 0;
  for (const auto& [begin, len] : ranges) {
    WICK_CHECK(begin == next, ErrorKind::kInvalidArgument,
               "attention: sequence query ranges must partition [0, {}); gap or overlap at row {}",
               n_queries, next);
    next = begin + len;
  }
  WICK_CHECK(next == n_queries, ErrorKind::kInvalidArgument,
             "attention: sequences cover {} of {} query rows", next, n_queries);
}

}  // namespace

Tensor attention(const Tensor& q, const Tensor& k_pool, const Tensor& v_pool,
                 const Tensor& block_table, const Tensor& seqs, const AttentionParams& params) {
  constexpr const char* op = "attention";
  require(q.defined() && k_pool.defined() && v_pool.defined() && block_table.defined() &&
              seqs.defined(),
          op, "an input is undefined");
  WICK_CHECK(q.dtype() == DType::kF32 && q.rank() == 3, ErrorKind::kInvalidArgument,
             "attention: q must be (N, H, D) f32, got {} {}", dtype_name(q.dtype()),
             q.shape().str());
  WICK_CHECK(k_pool.rank() == 3 && k_pool.shape() == v_pool.shape() &&
                 k_pool.dtype() == v_pool.dtype() && is_attention_pool_dtype(k_pool.dtype()),
             ErrorKind::kInvalidArgument,
             "attention: k_pool {} {} and v_pool {} {} must be equal (S, KVH, D) f32/f16/bf16",
             dtype_name(k_pool.dtype()), k_pool.shape().str(), dtype_name(v_pool.dtype()),
             v_pool.shape().str());
  const int64_t H = q.dim(1), D = q.dim(2), KVH = k_pool.dim(1);
  WICK_CHECK(k_pool.dim(2) == D && KVH > 0 && H % KVH == 0, ErrorKind::kInvalidArgument,
             "attention: q {} and pool {} disagree on head_dim or heads (H % KVH != 0)",
             q.shape().str(), k_pool.shape().str());
  WICK_CHECK(block_table.dtype() == DType::kI32 && block_table.rank() == 2 &&
                 seqs.dtype() == DType::kI32 && seqs.rank() == 2 && seqs.dim(1) == 3 &&
                 seqs.dim(0) == block_table.dim(0),
             ErrorKind::kInvalidArgument,
             "attention: block_table must be (B, M) i32 and seqs (B, 3) i32, got {} {} and {} {}",
             dtype_name(block_table.dtype()), block_table.shape().str(), dtype_name(seqs.dtype()),
             seqs.shape().str());
  WICK_CHECK(params.block_size > 0 && k_pool.dim(0) % params.block_size == 0 &&
                 params.window >= 0 && params.softcap >= 0.0f && params.max_q_len >= 0,
             ErrorKind::kInvalidArgument,
             "attention: block_size {} must divide the pool's {} rows; window {}, softcap {} and "
             "max_q_len {} must be >= 0",
             params.block_size, k_pool.dim(0), params.window, params.softcap, params.max_q_len);
  check_same_device(op, q, "k_pool", k_pool);
  check_same_device(op, q, "v_pool", v_pool);
  check_same_device(op, q, "block_table", block_table);
  check_same_device(op, q, "seqs", seqs);
  require(k_pool.is_contiguous() && v_pool.is_contiguous(), op, "pools must be contiguous");
  if (block_table.device().is_cpu())
    check_tables(block_table, seqs, q.dim(0), k_pool.dim(0), params.block_size, params.max_q_len);

  Tensor out = Tensor::empty(q.shape(), DType::kF32, q.device());
  OpAttrs attrs;
  attrs.attn_scale = params.scale;
  attrs.attn_softcap = params.softcap;
  attrs.mask_window = params.window;
  attrs.block_size = params.block_size;
  attrs.attn_max_q_len = params.max_q_len;
  const Tensor inputs[5] = {contiguous(q), k_pool, v_pool, contiguous(block_table),
                            contiguous(seqs)};
  Tensor outputs[1] = {out};
  run_kernel(Op::kAttention, q.device().type, k_pool.dtype(),
             OpCall{Op::kAttention, inputs, outputs, attrs});
  return out;
}

void store_rows(Tensor& pool, const Tensor& rows, const Tensor& index) {
  constexpr const char* op = "store_rows";
  require(pool.defined() && rows.defined() && index.defined(), op, "an input is undefined");
  WICK_CHECK(is_attention_pool_dtype(pool.dtype()) && dtype_is_float(rows.dtype()) &&
                 !dtype_is_quantized(rows.dtype()),
             ErrorKind::kInvalidArgument, "store_rows: pool {} and rows {} must be f32/f16/bf16",
             dtype_name(pool.dtype()), dtype_name(rows.dtype()));
  require(pool.is_contiguous(), op, "pool must be contiguous");
  WICK_CHECK(pool.rank() >= 1 && rows.rank() == pool.rank() && index.rank() == 1 &&
                 index.dtype() == DType::kI32 && index.dim(0) == rows.dim(0),
             ErrorKind::kInvalidArgument,
             "store_rows: rows {} must be (N, ...) matching pool {} and index {} {} must be (N) "
             "i32",
             rows.shape().str(), pool.shape().str(), dtype_name(index.dtype()),
             index.shape().str());
  for (int d = 1; d < pool.rank(); ++d)
    WICK_CHECK(rows.dim(d) == pool.dim(d), ErrorKind::kInvalidArgument,
               "store_rows: row shape {} differs from pool {} in dim {}", rows.shape().str(),
               pool.shape().str(), d);
  WICK_CHECK(pool.device() == rows.device() && pool.device() == index.device(),
             ErrorKind::kInvalidArgument, "store_rows: pool on {}, rows on {}, index on {}",
             pool.device().str(), rows.device().str(), index.device().str());
  const Tensor idx = contiguous(index);
  if (idx.device().is_cpu()) {
    const auto* pi = static_cast<const int32_t*>(idx.storage()->data()) + idx.offset();
    for (int64_t i = 0; i < idx.dim(0); ++i)
      WICK_CHECK(pi[i] >= 0 && pi[i] < pool.dim(0), ErrorKind::kInvalidArgument,
                 "store_rows: index[{}] = {} outside the pool's {} rows", i, pi[i], pool.dim(0));
  }
  const Tensor src = rows.dtype() == DType::kF32 ? contiguous(rows) : to_dtype(rows, DType::kF32);
  const Tensor inputs[2] = {src, idx};
  Tensor outputs[1] = {pool};
  run_kernel(Op::kStoreRows, pool.device().type, pool.dtype(),
             OpCall{Op::kStoreRows, inputs, outputs, OpAttrs{}});
}

}  // namespace wick
