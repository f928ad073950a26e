// wick quantize / wick bench library: recipe rules per tensor, HF and GGUF conversion whose output
// loads in wick with logits close to the f32 model's, clear errors, bench statistics and JSON.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/error.h"
#include "formats/gguf.h"
#include "models/registry.h"
#include "tools/bench.h"
#include "tools/quant_recipe.h"
#include "tools/quantize.h"

namespace wick::tools {
namespace {

std::string model_dir(const std::string& name) {
  return std::string(WICK_SOURCE_DIR) + "/tests/data/models/" + name;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("wick_tools_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

// Last-position logits of `tokens` run through the model at `path`.
std::vector<float> last_logits(const std::string& path, const std::vector<int32_t>& tokens) {
  models::LoadedModel m = models::load_model(path);
  nn::KvCache cache = m.model->make_cache();
  cache.add_sequence(0);
  const models::BatchItem item{0, tokens, false};
  Tensor logits = m.model->forward({&item, 1}, cache);
  return logits.to_float_vector();
}

// max |a - b| / max |a|
double relative_max_error(const std::vector<float>& ref, const std::vector<float>& got) {
  EXPECT_EQ(ref.size(), got.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < std::min(ref.size(), got.size()); ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(ref[i]) - got[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(ref[i])));
  }
  return diff / scale;
}

QuantizeReport convert(const std::string& in, const std::string& out, const std::string& type) {
  QuantizeOptions o;
  o.input = in;
  o.output = out;
  o.recipe = parse_quant_recipe(type);
  return quantize_model(o);
}

DType type_of(const QuantizeReport& r, const std::string& name) {
  for (const auto& [n, t] : r.types) {
    if (n == name) return t;
  }
  ADD_FAILURE() << "no tensor " << name;
  return DType::kU8;
}

const std::vector<int32_t> kTokens = {1, 17, 42, 99, 3, 250, 7, 128, 64, 5, 200, 33};

// ---- recipes ----

TEST(QuantRecipe, ParsesNamesCaseInsensitivelyAndRejectsUnknown) {
  EXPECT_EQ(parse_quant_recipe("q4_k_m").base, DType::kQ4_K);
  EXPECT_EQ(parse_quant_recipe("Q8_0").file_type, 7u);
  EXPECT_FALSE(parse_quant_recipe("Q4_K").mixed);
  EXPECT_FALSE(parse_quant_recipe("Q4_K_M", /*pure=*/true).mixed);
  try {
    parse_quant_recipe("Q9_9");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("Q4_K_M"), std::string::npos) << e.what();
  }
  EXPECT_EQ(file_type_name(15), "Q4_K_M");
}

TEST(QuantRecipe, Q4KMFollowsLlamaCppRules) {
  const QuantRecipe r = parse_quant_recipe("Q4_K_M");
  const RecipeModelInfo m{24, 16, 4, true};  // 24 layers, GQA 4
  auto pick = [&](const std::string& name, std::vector<int64_t> shape = {1024, 1024}) {
    return recipe_tensor_type(r, m, name, shape, DType::kF32);
  };
  EXPECT_EQ(pick("output.weight"), DType::kQ6_K);
  EXPECT_EQ(pick("token_embd.weight"), DType::kQ4_K);
  EXPECT_EQ(pick("blk.0.attn_norm.weight", {1024}), DType::kF32);
  EXPECT_EQ(pick("blk.0.attn_q.bias", {1024}), DType::kF32);
  // use_more_bits(i, 24): i < 3, i >= 21, or (i - 3) % 3 == 2.
  EXPECT_EQ(pick("blk.0.attn_v.weight"), DType::kQ6_K);
  EXPECT_EQ(pick("blk.3.attn_v.weight"), DType::kQ4_K);
  EXPECT_EQ(pick("blk.5.attn_v.weight"), DType::kQ6_K);
  EXPECT_EQ(pick("blk.22.ffn_down.weight"), DType::kQ6_K);
  EXPECT_EQ(pick("blk.4.ffn_down.weight"), DType::kQ4_K);
  EXPECT_EQ(pick("blk.4.attn_q.weight"), DType::kQ4_K);
  EXPECT_EQ(pick("blk.4.ffn_up.weight"), DType::kQ4_K);
  // Rows of 576 values: no 256-value K blocks, so llama.cpp's fallbacks.
  EXPECT_EQ(pick("blk.4.attn_q.weight", {576, 576}), DType::kQ5_0);
  EXPECT_EQ(pick("blk.0.attn_v.weight", {192, 576}), DType::kQ8_0);
  EXPECT_EQ(pick("blk.0.attn_v.weight", {192, 48}), DType::kF16);
}

TEST(QuantRecipe, OtherRecipes) {
  const RecipeModelInfo m{32, 32, 8, false};  // tied embeddings, GQA 4
  const std::vector<int64_t> mat = {4096, 4096};
  auto pick = [&](const char* recipe, const char* name) {
    return recipe_tensor_type(parse_quant_recipe(recipe), m, name, mat, DType::kF16);
  };
  EXPECT_EQ(pick("Q4_K_M", "token_embd.weight"), DType::kQ6_K);  // tied: it is the output
  EXPECT_EQ(pick("Q8_0", "token_embd.weight"), DType::kQ8_0);
  EXPECT_EQ(pick("Q4_0", "token_embd.weight"), DType::kQ6_K);
  EXPECT_EQ(pick("Q4_K_S", "blk.3.attn_v.weight"), DType::kQ5_K);
  EXPECT_EQ(pick("Q4_K_S", "blk.4.attn_v.weight"), DType::kQ4_K);
  EXPECT_EQ(pick("Q4_K_S", "blk.3.ffn_down.weight"), DType::kQ5_K);
  EXPECT_EQ(pick("Q3_K_M", "blk.1.attn_v.weight"), DType::kQ5_K);
  EXPECT_EQ(pick("Q3_K_M", "blk.9.attn_v.weight"), DType::kQ4_K);
  EXPECT_EQ(pick("Q3_K_M", "blk.9.attn_output.weight"), DType::kQ4_K);
  EXPECT_EQ(pick("Q3_K_M", "blk.1.ffn_down.weight"), DType::kQ5_K);
  EXPECT_EQ(pick("Q3_K_S", "blk.1.ffn_down.weight"), DType::kQ3_K);
  EXPECT_EQ(pick("Q3_K_L", "blk.9.attn_v.weight"), DType::kQ5_K);
  EXPECT_EQ(pick("Q2_K", "blk.9.attn_v.weight"), DType::kQ4_K);  // GQA >= 4
  EXPECT_EQ(pick("Q2_K", "blk.9.ffn_down.weight"), DType::kQ3_K);
  EXPECT_EQ(pick("Q2_K", "blk.9.ffn_up.weight"), DType::kQ2_K);
  EXPECT_EQ(pick("Q5_K_M", "blk.0.ffn_down.weight"), DType::kQ6_K);
  EXPECT_EQ(pick("Q5_K_S", "blk.0.ffn_down.weight"), DType::kQ5_K);
  EXPECT_EQ(pick("Q4_K", "token_embd.weight"), DType::kQ4_K);  // plain: no rules
  EXPECT_EQ(pick("F16", "blk.0.ffn_down.weight"), DType::kF16);
}

// ---- conversion ----

class HfConversion : public ::testing::TestWithParam<const char*> {};

TEST_P(HfConversion, OutputLoadsWithLogitsCloseToF32) {
  const std::string dir = model_dir(GetParam());
  const std::vector<float> ref = last_logits(dir, kTokens);
  struct Case {
    const char* type;
    // max |diff| / max |logit|. The tiny random models amplify per-weight error: measured F16
    // ~2e-3, Q8_0 3-4e-2, Q4_K_M (Q5_0/Q8_0 on these 64-wide rows) 0.1-0.28.
    double tolerance;
  };
  for (const Case& c :
       {Case{"F32", 1e-5}, Case{"F16", 5e-3}, Case{"Q8_0", 6e-2}, Case{"Q4_K_M", 0.4}}) {
    const std::string out = temp_path(std::string(GetParam()) + "_" + c.type + ".gguf");
    const QuantizeReport r = convert(dir, out, c.type);
    const double err = relative_max_error(ref, last_logits(out, kTokens));
    EXPECT_LT(err, c.tolerance) << GetParam() << " " << c.type;
    std::printf("%s %s: %.2f bits/weight, relative max logit error %.2e\n", GetParam(), c.type,
                r.bits_per_weight_out(), err);
    std::filesystem::remove(out);
  }
}

INSTANTIATE_TEST_SUITE_P(LlamaFamily, HfConversion,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3", "llama_tied",
                                           "smollm2"));

TEST(Quantize, HfMetadataAndTypes) {
  const std::string out = temp_path("mistral_q8.gguf");
  const QuantizeReport r = convert(model_dir("mistral"), out, "Q8_0");
  std::shared_ptr<const GgufFile> f = GgufFile::open(out);
  EXPECT_EQ(f->architecture(), "llama");
  EXPECT_EQ(f->get_u32("general.file_type"), 7u);
  EXPECT_EQ(f->get_u32("llama.block_count"), 2u);
  ASSERT_NE(f->find_tensor("blk.0.attn_q.weight"), nullptr);
  EXPECT_EQ(f->find_tensor("blk.0.attn_q.weight")->dtype, DType::kQ8_0);
  EXPECT_EQ(f->find_tensor("blk.0.attn_norm.weight")->dtype, DType::kF32);
  EXPECT_EQ(type_of(r, "output.weight"), DType::kQ8_0);
  EXPECT_LT(r.bytes_out, r.bytes_in);
  std::filesystem::remove(out);
}

TEST(Quantize, GgufToGgufKeepsMetadata) {
  const std::string f32 = temp_path("qwen3_f32.gguf"), q8 = temp_path("qwen3_q8.gguf");
  convert(model_dir("qwen3"), f32, "F32");
  const QuantizeReport r = convert(f32, q8, "Q8_0");
  std::shared_ptr<const GgufFile> a = GgufFile::open(f32), b = GgufFile::open(q8);
  EXPECT_EQ(b->get_u32("general.file_type"), 7u);
  EXPECT_EQ(a->metadata().size(), b->metadata().size());
  for (const GgufKeyValue& kv : a->metadata()) {
    EXPECT_NE(b->find(kv.key), nullptr) << kv.key;
  }
  EXPECT_EQ(a->tensors().size(), b->tensors().size());
  EXPECT_EQ(type_of(r, "blk.1.ffn_down.weight"), DType::kQ8_0);
  const double err = relative_max_error(last_logits(f32, kTokens), last_logits(q8, kTokens));
  EXPECT_LT(err, 6e-2);
  std::filesystem::remove(f32);
  std::filesystem::remove(q8);
}

TEST(Quantize, ClearErrors) {
  auto kind_of = [](const std::string& in, const std::string& out) {
    try {
      convert(in, out, "Q8_0");
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::kInternal;
  };
  EXPECT_EQ(kind_of(model_dir("no_such_model"), temp_path("x.gguf")), ErrorKind::kNotFound);
  EXPECT_EQ(kind_of(model_dir("mistral"), "/nonexistent-dir/out.gguf"), ErrorKind::kIo);
  // HF -> GGUF covers the llama family only.
  EXPECT_EQ(kind_of(model_dir("gpt2"), temp_path("gpt2.gguf")), ErrorKind::kUnsupported);
  std::filesystem::remove(temp_path("gpt2.gguf"));
}

// ---- bench ----

TEST(Bench, JsonHasLlamaBenchFields) {
  const std::string dir = model_dir("qwen2");
  const BenchModelInfo info = describe_bench_model(dir);
  EXPECT_GT(info.n_params, 0u);
  EXPECT_GT(info.size_bytes, info.decode_bytes_per_token);
  models::LoadedModel m = models::load_model(dir);
  const BenchResult pp = run_bench_test(*m.model, 16, 0, 3);
  const BenchResult tg = run_bench_test(*m.model, 0, 4, 2);
  EXPECT_EQ(pp.test_name(), "pp16");
  EXPECT_EQ(tg.test_name(), "tg4");
  for (const BenchResult* r : {&pp, &tg}) {
    const nlohmann::json j = bench_result_json(info, *r);
    for (const char* key :
         {"model_filename", "model_type", "model_size", "model_n_params", "n_threads", "n_prompt",
          "n_gen", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts", "samples_ns", "samples_ts"}) {
      EXPECT_TRUE(j.contains(key)) << key;
    }
    EXPECT_EQ(j["samples_ts"].size(), r->samples_ns.size());
    EXPECT_GT(j["avg_ts"].get<double>(), 0);
    EXPECT_GE(j["stddev_ts"].get<double>(), 0);
    EXPECT_GT(j["avg_ns"].get<int64_t>(), 0);
  }
  EXPECT_EQ(bench_table_row(info, pp).find("| "), 0u);
}

// The batched decode test: B sequences x n steps counted as tokens, named tg<n>x<B>, its depth
// and sequence count in the JSON; bad arguments are errors.
TEST(Bench, BatchedDecodeCountsEverySequence) {
  models::LoadedModel m = models::load_model(model_dir("qwen2"));
  const BenchResult r = run_batched_decode_test(*m.model, 3, 5, 4, 2);
  EXPECT_EQ(r.test_name(), "tg4x3");
  EXPECT_EQ(r.n_tokens(), 12);
  ASSERT_EQ(r.samples_ns.size(), 2u);
  EXPECT_NEAR(r.samples_ts()[0], 12 * 1e9 / r.samples_ns[0], 1e-6);
  const nlohmann::json j = bench_result_json(describe_bench_model(model_dir("qwen2")), r);
  EXPECT_EQ(j["n_seqs"].get<int>(), 3);
  EXPECT_EQ(j["n_depth"].get<int>(), 5);
  EXPECT_EQ(j["n_gen"].get<int>(), 4);
  EXPECT_THROW(run_batched_decode_test(*m.model, 0, 5, 4, 1), Error);
  EXPECT_THROW(run_batched_decode_test(*m.model, 2, 5, 0, 1), Error);
}

TEST(Bench, ReadBandwidthIsPositive) {
  EXPECT_GT(measure_read_bandwidth_gbs(1, size_t{8} << 20, 2), 0.0);
}

}  // namespace
}  // namespace wick::tools
