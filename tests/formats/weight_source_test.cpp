// WeightSource: llama.cpp -> HF names, the Q/K row un-permutation (checked against the permute
// that convert_hf_to_gguf.py applies, written out here from its reshape/swapaxes definition),
// Gemma's 1 + w norms, zero-copy views that outlive the source, and format detection.
#include <gtest/gtest.h>

#include <numeric>

#include "format_test_util.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "formats/safetensors.h"
#include "formats/weight_source.h"

namespace wick {
namespace {

using test::expect_error;

std::span<const uint8_t> as_bytes(const std::vector<float>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float)};
}

// convert_hf_to_gguf.py LlamaModel.permute: w.reshape(n_head, 2, rows/n_head/2, cols)
// .swapaxes(1, 2).reshape(rows, cols), i.e. out[h][i][p] = in[h][p][i].
std::vector<float> llama_permute(const std::vector<float>& w, int rows, int cols, int n_head) {
  const int half = rows / n_head / 2;
  std::vector<float> out(w.size());
  for (int h = 0; h < n_head; ++h)
    for (int i = 0; i < half; ++i)
      for (int p = 0; p < 2; ++p)
        for (int c = 0; c < cols; ++c)
          out[static_cast<size_t>(((h * half + i) * 2 + p) * cols + c)] =
              w[static_cast<size_t>(((h * 2 + p) * half + i) * cols + c)];
  return out;
}

std::vector<float> iota(size_t n, float start = 0.0f) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

TEST(WeightNames, GgufToHf) {
  EXPECT_EQ(gguf_to_hf_name("token_embd.weight", false), "model.embed_tokens.weight");
  EXPECT_EQ(gguf_to_hf_name("output_norm.weight", false), "model.norm.weight");
  EXPECT_EQ(gguf_to_hf_name("output.weight", false), "lm_head.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.0.attn_q.weight", false),
            "model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.17.attn_k.bias", false), "model.layers.17.self_attn.k_proj.bias");
  EXPECT_EQ(gguf_to_hf_name("blk.3.attn_v.weight", false),
            "model.layers.3.self_attn.v_proj.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.3.attn_output.weight", false),
            "model.layers.3.self_attn.o_proj.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.3.ffn_gate.weight", false), "model.layers.3.mlp.gate_proj.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.3.ffn_up.weight", false), "model.layers.3.mlp.up_proj.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.3.ffn_down.weight", false), "model.layers.3.mlp.down_proj.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.3.attn_norm.weight", false),
            "model.layers.3.input_layernorm.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.3.ffn_norm.weight", false),
            "model.layers.3.post_attention_layernorm.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.3.ffn_norm.weight", true),
            "model.layers.3.pre_feedforward_layernorm.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.3.post_attention_norm.weight", true),
            "model.layers.3.post_attention_layernorm.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.3.post_ffw_norm.weight", true),
            "model.layers.3.post_feedforward_layernorm.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.3.attn_q_norm.weight", false),
            "model.layers.3.self_attn.q_norm.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.3.attn_k_norm.weight", false),
            "model.layers.3.self_attn.k_norm.weight");
  EXPECT_EQ(gguf_to_hf_name("blk.3.ffn_gate_exps.weight", false), "");
  EXPECT_EQ(gguf_to_hf_name("blk.x.attn_q.weight", false), "");
  EXPECT_EQ(gguf_to_hf_name("rope_freqs.weight", false), "");
  EXPECT_EQ(gguf_to_hf_name("blk.3.attn_q.scale", false), "");
}

TEST(WeightNames, UnpermuteInvertsLlamaPermute) {
  const int rows = 12, cols = 5, heads = 3;
  const std::vector<float> hf = iota(rows * cols);
  const std::vector<float> stored = llama_permute(hf, rows, cols, heads);
  EXPECT_NE(stored, hf);
  std::vector<float> back(hf.size());
  unpermute_qk_rows(as_bytes(stored),
                    {reinterpret_cast<uint8_t*>(back.data()), back.size() * sizeof(float)}, rows,
                    heads);
  EXPECT_EQ(back, hf);
  expect_error(
      [&] {
        unpermute_qk_rows(as_bytes(stored),
                          {reinterpret_cast<uint8_t*>(back.data()), back.size() * sizeof(float)},
                          rows, 5);
      },
      ErrorKind::kInvalidArgument, {"12 rows", "5 heads"});
}

// A tiny llama-family GGUF: 2 heads of dim 4 for Q (8 rows), 1 KV head for K (4 rows).
std::shared_ptr<GgufFile> write_llama(test::TempDir& dir, std::string_view arch,
                                      const std::vector<float>& q_hf,
                                      const std::vector<float>& k_hf) {
  GgufWriter w;
  w.add_string("general.architecture", arch);
  w.add_u32(std::string(arch) + ".attention.head_count", 2);
  w.add_u32(std::string(arch) + ".attention.head_count_kv", 1);
  const std::vector<int64_t> q_shape = {8, 3}, k_shape = {4, 3}, norm_shape = {3};
  w.add_tensor("blk.0.attn_q.weight", DType::kF32, q_shape, as_bytes(llama_permute(q_hf, 8, 3, 2)));
  w.add_tensor("blk.0.attn_k.weight", DType::kF32, k_shape, as_bytes(llama_permute(k_hf, 4, 3, 1)));
  w.add_tensor("blk.0.attn_v.weight", DType::kF32, k_shape, as_bytes(k_hf));
  w.add_tensor("blk.0.attn_norm.weight", DType::kF32, norm_shape, as_bytes({2.0f, 3.0f, 4.0f}));
  w.add_tensor("blk.0.ffn_norm.weight", DType::kF32, norm_shape, as_bytes({1.0f, 1.0f, 1.0f}));
  w.add_tensor("rope_freqs.weight", DType::kF32, norm_shape, as_bytes({1.0f, 1.0f, 1.0f}));
  const std::string path = dir.file("llama.gguf");
  w.write(path);
  return GgufFile::open(path);
}

TEST(GgufWeightSource, LlamaNamesAndUnpermutedQk) {
  test::TempDir dir;
  const std::vector<float> q_hf = iota(24), k_hf = iota(12, 100.0f);
  GgufWeightSource source(write_llama(dir, "llama", q_hf, k_hf));
  EXPECT_EQ(source.names(),
            (std::vector<std::string>{
                "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                "model.layers.0.self_attn.v_proj.weight", "model.layers.0.input_layernorm.weight",
                "model.layers.0.post_attention_layernorm.weight", "rope_freqs.weight"}));
  const WeightInfo qi = source.info("model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(qi.shape, (std::vector<int64_t>{8, 3}));
  EXPECT_EQ(source.fixup("model.layers.0.self_attn.q_proj.weight").n_heads, 2);
  EXPECT_EQ(source.fixup("model.layers.0.self_attn.k_proj.weight").n_heads, 1);
  EXPECT_EQ(source.fixup("model.layers.0.self_attn.v_proj.weight").kind, WeightFixup::Kind::kNone);
  EXPECT_EQ(source.tensor("model.layers.0.self_attn.q_proj.weight").to_vector<float>(), q_hf);
  EXPECT_EQ(source.tensor("model.layers.0.self_attn.k_proj.weight").to_vector<float>(), k_hf);
  EXPECT_EQ(source.tensor("model.layers.0.self_attn.v_proj.weight").to_vector<float>(), k_hf);
  EXPECT_EQ(source.gguf_name("model.layers.0.self_attn.q_proj.weight"), "blk.0.attn_q.weight");
  expect_error([&] { source.info("model.layers.9.mlp.up_proj.weight"); }, ErrorKind::kNotFound,
               {"llama.gguf", "model.layers.9.mlp.up_proj.weight"});
}

TEST(GgufWeightSource, OtherArchsAreNotUnpermuted) {
  test::TempDir dir;
  const std::vector<float> q_hf = iota(24), k_hf = iota(12);
  GgufWeightSource source(write_llama(dir, "qwen2", q_hf, k_hf));
  EXPECT_EQ(source.fixup("model.layers.0.self_attn.q_proj.weight").kind, WeightFixup::Kind::kNone);
  EXPECT_EQ(source.tensor("model.layers.0.self_attn.q_proj.weight").to_vector<float>(),
            llama_permute(q_hf, 8, 3, 2));  // stored bytes as they are
}

TEST(GgufWeightSource, GemmaNormsAndLayout) {
  test::TempDir dir;
  GgufWriter w;
  w.add_string("general.architecture", "gemma2");
  const std::vector<int64_t> shape = {2};
  for (const char* name : {"blk.0.attn_norm.weight", "blk.0.post_attention_norm.weight",
                           "blk.0.ffn_norm.weight", "blk.0.post_ffw_norm.weight"}) {
    w.add_tensor(name, DType::kF32, shape, as_bytes({1.5f, 0.25f}));
  }
  w.write(dir.file("gemma.gguf"));
  GgufWeightSource source(GgufFile::open(dir.file("gemma.gguf")));
  EXPECT_TRUE(source.contains("model.layers.0.pre_feedforward_layernorm.weight"));
  EXPECT_TRUE(source.contains("model.layers.0.post_attention_layernorm.weight"));
  EXPECT_TRUE(source.contains("model.layers.0.post_feedforward_layernorm.weight"));
  EXPECT_EQ(source.tensor("model.layers.0.input_layernorm.weight").to_vector<float>(),
            (std::vector<float>{0.5f, -0.75f}));
}

TEST(GgufWeightSource, QuantizedRowsArePermutedWhole) {
  test::TempDir dir;
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_u32("llama.attention.head_count", 1);
  std::vector<uint8_t> rows(4 * 34);
  for (size_t r = 0; r < 4; ++r) std::fill_n(rows.begin() + static_cast<ptrdiff_t>(r * 34), 34, r);
  const std::vector<int64_t> shape = {4, 32};
  w.add_tensor("blk.0.attn_k.weight", DType::kQ8_0, shape, rows);
  w.write(dir.file("q.gguf"));
  GgufWeightSource source(GgufFile::open(dir.file("q.gguf")));
  const Tensor t = source.tensor("model.layers.0.self_attn.k_proj.weight");
  EXPECT_EQ(t.dtype(), DType::kQ8_0);
  const auto* bytes = static_cast<const uint8_t*>(t.raw_data());
  // One head of 4 rows: stored order (i, p) = rows 0..3 hold HF rows 0, 2, 1, 3.
  EXPECT_EQ(bytes[0 * 34], 0);
  EXPECT_EQ(bytes[1 * 34], 2);
  EXPECT_EQ(bytes[2 * 34], 1);
  EXPECT_EQ(bytes[3 * 34 + 33], 3);
}

// Found by gguf_fuzz: 2^40 rows of zero columns made the un-permutation loop 2^40 times, and
// zero rows divided by zero.
TEST(GgufWeightSource, EmptyRowsAreNotIterated) {
  test::TempDir dir;
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_u32("llama.attention.head_count", 2);
  const std::vector<int64_t> shape = {int64_t{1} << 40, 0}, no_rows = {0, 4};
  w.add_tensor("blk.0.attn_q.weight", DType::kF32, shape, {});
  w.add_tensor("blk.0.attn_k.weight", DType::kF32, no_rows, {});  // and zero rows: no 0 / 0
  w.write(dir.file("empty.gguf"));
  GgufWeightSource source(GgufFile::open(dir.file("empty.gguf")));
  EXPECT_EQ(source.tensor("model.layers.0.self_attn.q_proj.weight").numel(), 0);
  EXPECT_EQ(source.tensor("model.layers.0.self_attn.k_proj.weight").numel(), 0);
}

TEST(SafetensorsWeightSource, ZeroCopyViewsOutliveTheSource) {
  test::TempDir dir;
  const std::string header = R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                             R"("d":{"dtype":"F64","shape":[1],"data_offsets":[16,24]}})";
  test::Bytes b;
  b.u64(header.size()).raw(header);
  for (float v : {1.0f, 2.0f, 3.0f, 4.0f}) b.put(v);
  b.put(1.0);
  dir.write("model.safetensors", b.data);
  Tensor t;
  {
    std::unique_ptr<WeightSource> source = open_weight_source(dir.path().string());
    EXPECT_EQ(source->names(), (std::vector<std::string>{"w", "d"}));
    const WeightSource::Bytes raw = source->bytes("w");
    t = source->tensor("w");
    EXPECT_EQ(t.raw_data(), static_cast<const void*>(raw.data.data()));  // no copy
    expect_error([&] { source->info("d"); }, ErrorKind::kUnsupported, {"F64"});
    expect_error([&] { source->info("nope"); }, ErrorKind::kNotFound, {"nope"});
  }
  EXPECT_EQ(t.shape(), Shape({2, 2}));
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
}

TEST(SafetensorsWeightSource, MisalignedTensorsAreCopied) {
  test::TempDir dir;
  std::string header = R"({"b":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},)"
                       R"("f":{"dtype":"F32","shape":[2],"data_offsets":[3,11]}})";
  header.resize((header.size() + 7) / 8 * 8, ' ');  // data starts 8-aligned, "f" at +3
  test::Bytes b;
  b.u64(header.size()).raw(header).raw("abc");
  b.put(1.5f).put(-2.0f);
  dir.write("model.safetensors", b.data);
  std::unique_ptr<WeightSource> source = open_weight_source(dir.file("model.safetensors"));
  const Tensor f = source->tensor("f");
  EXPECT_NE(f.raw_data(), static_cast<const void*>(source->bytes("f").data.data()));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f.raw_data()) % 4, 0u);
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{1.5f, -2.0f}));
  const Tensor u = source->tensor("b");  // u8 is always aligned: still a view
  EXPECT_EQ(u.raw_data(), static_cast<const void*>(source->bytes("b").data.data()));
}

TEST(OpenWeightSource, DetectsGgufByMagic) {
  test::TempDir dir;
  GgufWriter w;
  const std::vector<int64_t> shape = {1};
  w.add_tensor("token_embd.weight", DType::kF32, shape, as_bytes({5.0f}));
  w.write(dir.file("weights.bin"));
  std::unique_ptr<WeightSource> source = open_weight_source(dir.file("weights.bin"));
  EXPECT_EQ(source->names(), std::vector<std::string>{"model.embed_tokens.weight"});
  EXPECT_EQ(source->tensor("model.embed_tokens.weight").item<float>(), 5.0f);
  EXPECT_NE(source->describe().find("GGUF"), std::string::npos);
}

}  // namespace
}  // namespace wick
