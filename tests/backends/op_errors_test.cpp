// Error paths of the op API: each bad call must throw wick::Error of the right kind with a
// message that names the op and the offending shape, dtype or value, so a user can act on it.
#include <gtest/gtest.h>

#include <functional>

#include "backend/ops.h"

namespace wick {
namespace {

struct BadCall {
  const char* name;
  std::function<void()> call;
  ErrorKind kind;
  const char* message_part;  // must appear in what()
};

Tensor f32(const Shape& shape) {
  return zeros(shape, DType::kF32);
}
Tensor i64(const Shape& shape) {
  return zeros(shape, DType::kI64);
}

std::vector<BadCall> bad_calls() {
  const ErrorKind kArg = ErrorKind::kInvalidArgument;
  return {
      {"sum_dim_out_of_range",
       [] {
         sum(f32({2, 3}), -3);
       },
       kArg, "sum: dim -3 out of range for input of shape (2, 3)"},
      {"mean_of_ints", [] { mean(i64({4}), 0); }, kArg, "mean: dtype i64 is not a float type"},
      {"max_of_empty_dim",
       [] {
         max(f32({3, 0}), 1);
       },
       kArg, "max: cannot reduce an empty dimension 1 of shape (3, 0)"},
      {"argmax_of_bool", [] { argmax(zeros({2}, DType::kBool), 0); }, kArg,
       "argmax: unsupported dtype bool"},
      {"cumsum_dim", [] { cumsum(f32({2}), 1); }, kArg, "cumsum: dim 1 out of range"},
      {"softmax_of_ints",
       [] {
         softmax(i64({2, 2}));
       },
       kArg, "softmax: input dtype i64 (shape (2, 2)) is not f32/f16/bf16"},
      {"log_softmax_of_scalar", [] { log_softmax(f32({})); }, kArg, "log_softmax: input is 0-d"},
      {"rms_norm_weight_shape",
       [] {
         rms_norm(f32({2, 4}), f32({3}), 1e-6f);
       },
       kArg, "rms_norm: weight has shape (3), expected (4) for input of shape (2, 4)"},
      {"rms_norm_weight_dtype",
       [] {
         rms_norm(f32({2, 4}), zeros({4}, DType::kBF16), 1e-6f);
       },
       kArg, "rms_norm: weight dtype bf16 differs from input dtype f32"},
      {"layer_norm_bias_shape",
       [] {
         layer_norm(f32({4}), Tensor(), f32({2, 2}), 1e-5f);
       },
       kArg, "layer_norm: bias has shape (2, 2)"},
      {"rope_rank", [] { rope(f32({8}), i64({}), f32({4}), true); }, kArg,
       "rope: input of shape (8) needs rank >= 2"},
      {"rope_positions_dtype",
       [] {
         rope(f32({3, 2, 8}), f32({3}), f32({4}), true);
       },
       kArg, "rope: positions dtype f32 is not i32/i64"},
      {"rope_positions_shape",
       [] {
         rope(f32({3, 2, 8}), i64({4}), f32({4}), true);
       },
       kArg, "rope: positions of shape (4) do not broadcast to (3) for input (3, 2, 8)"},
      {"rope_too_many_freqs",
       [] {
         rope(f32({3, 2, 8}), i64({3}), f32({5}), true);
       },
       kArg, "rope: inv_freq of shape (5) rotates 10 dims, more than the head dim 8"},
      {"index_select_index_dtype",
       [] {
         index_select(f32({3, 2}), 0, f32({1}));
       },
       kArg, "index_select: indices dtype f32 (shape (1)) is not i32/i64"},
      {"index_select_out_of_range",
       [] {
         index_select(f32({3, 2}), 0, full({2}, 3, DType::kI32));
       },
       kArg, "index_select: index 3 out of range [0, 3)"},
      {"index_select_negative",
       [] {
         index_select(f32({3, 2}), 1, full({1}, -1, DType::kI64));
       },
       kArg, "index_select: index -1 out of range [0, 2)"},
      {"index_select_quantized_dim",
       [] {
         index_select(to_dtype(f32({2, 32}), DType::kQ8_0), 1, i64({1}));
       },
       ErrorKind::kUnsupported, "selects contiguous rows along dim 0 only"},
      {"embedding_weight_rank", [] { embedding(f32({4}), i64({2})); }, kArg,
       "embedding: weight must be 2-d (V, D), got shape (4)"},
      {"gather_rank",
       [] {
         gather(f32({2, 3}), 1, i64({2}));
       },
       kArg, "gather: index of shape (2) must have the rank of input (2, 3)"},
      {"gather_extent",
       [] {
         gather(f32({2, 3}), 1, i64({3, 1}));
       },
       kArg, "gather: index shape (3, 1) exceeds input shape (2, 3) in dim 0"},
      {"gather_out_of_range",
       [] {
         gather(f32({2, 3}), 1, full({2, 1}, 3, DType::kI64));
       },
       kArg, "gather: index 3 out of range [0, 3)"},
      {"concat_nothing", [] { concat(std::span<const Tensor>(), 0); }, kArg,
       "concat: no input tensors"},
      {"concat_shapes",
       [] {
         concat({f32({2, 3}), f32({2, 4})}, 0);
       },
       kArg,
       "concat along dim 0: input 1 has shape (2, 4), incompatible with input 0 shape (2, 3)"},
      {"concat_dtypes",
       [] {
         concat({f32({2}), i64({2})}, 0);
       },
       kArg, "concat: input 1 is i64 on cpu, input 0 is f32 on cpu"},
      {"where_cond_dtype", [] { where(f32({2}), f32({2}), f32({2})); }, kArg,
       "where: condition must be bool or u8, got f32"},
      {"where_branch_dtypes", [] { where(zeros({2}, DType::kBool), f32({2}), i64({2})); }, kArg,
       "where: branch dtypes differ (f32 vs i64)"},
      {"where_shapes", [] { where(zeros({3}, DType::kBool), f32({2}), f32({2})); }, kArg,
       "where: shapes cond (3), a (2), b (2) do not broadcast"},
      {"attention_mask_negative", [] { attention_mask(2, 2, -1); }, kArg,
       "attention_mask: q_len 2, kv_len 2, query_offset -1, window 0 must be >= 0"},
      {"topk_k",
       [] {
         topk(f32({2, 3}), 4);
       },
       kArg, "topk: k = 4 outside [0, 3] for input of shape (2, 3)"},
      {"topk_bool", [] { topk(zeros({3}, DType::kBool), 1); }, kArg,
       "topk: unsupported dtype bool"},
      {"quantize_partial_blocks",
       [] {
         to_dtype(f32({4, 16}), DType::kQ4_0);
       },
       kArg, "shape (4, 16) does not split into rows of whole q4_0 blocks of 32"},
  };
}

TEST(OpErrors, EachBadCallThrowsANamedError) {
  for (const BadCall& bad : bad_calls()) {
    SCOPED_TRACE(bad.name);
    try {
      bad.call();
      ADD_FAILURE() << "no error thrown";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), bad.kind) << e.what();
      EXPECT_NE(std::string(e.what()).find(bad.message_part), std::string::npos)
          << "message: " << e.what() << "\nexpected to contain: " << bad.message_part;
    }
  }
}

}  // namespace
}  // namespace wick
