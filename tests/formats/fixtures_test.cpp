// Files written by the reference Python packages (gguf, safetensors) read back exactly as
// scripts/make_format_fixtures.py recorded them, and wick's GgufWriter output matches the committed
// wick_writer.gguf that the same script checks with gguf-py's reader.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

#include "core/half.h"
#include "format_test_util.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "formats/safetensors.h"
#include "formats/weight_source.h"

namespace wick {
namespace {

using nlohmann::json;

json load_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  return json::parse(in);
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

void expect_metadata(const GgufFile& f, const std::string& key, const json& want) {
  SCOPED_TRACE(key);
  const GgufValue* v = f.find(key);
  ASSERT_NE(v, nullptr);
  const std::string type = want["type"];
  ASSERT_EQ(gguf_type_name(v->type), type);
  if (type == "string") {
    EXPECT_EQ(f.get_string(key), want["value"].get<std::string>());
  } else if (type == "bool") {
    EXPECT_EQ(f.get_bool(key), want["value"].get<bool>());
  } else if (type == "f32" || type == "f64") {
    EXPECT_EQ(f.get_f64(key), type == "f32" ? static_cast<double>(want["value"].get<float>())
                                            : want["value"].get<double>());
  } else if (type == "u64") {
    EXPECT_EQ(f.get_u64(key), want["value"].get<uint64_t>());
  } else if (type != "array") {
    EXPECT_EQ(f.get_i64(key), want["value"].get<int64_t>());
  } else if (want["elem_type"] == "string") {
    const auto got = f.get_string_array(key);
    ASSERT_EQ(got.size(), want["value"].size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], want["value"][i].get<std::string>());
  } else if (want["elem_type"] == "f32") {
    std::vector<float> expected;
    for (const json& x : want["value"]) expected.push_back(x.get<float>());
    EXPECT_EQ(f.get_f32_array(key), expected);
  } else if (want["elem_type"] == "i32") {
    EXPECT_EQ(f.get_i32_array(key), want["value"].get<std::vector<int32_t>>());
  } else {
    ASSERT_EQ(v->elem_type, GgufType::kArray);
    ASSERT_EQ(v->arrays.size(), want["value"].size());
    for (size_t i = 0; i < v->arrays.size(); ++i) {
      const auto expected = want["value"][i].get<std::vector<std::string>>();
      ASSERT_EQ(v->arrays[i].strings.size(), expected.size());
      for (size_t j = 0; j < expected.size(); ++j) EXPECT_EQ(v->arrays[i].strings[j], expected[j]);
    }
  }
}

TEST(FormatFixtures, GgufWrittenByGgufPy) {
  const std::string path = test::data_dir() + "/tiny_llama.gguf";
  const json want = load_json(path + ".json");
  const auto f = GgufFile::open(path);
  EXPECT_EQ(f->version(), want["version"].get<uint32_t>());
  EXPECT_EQ(f->alignment(), want["alignment"].get<uint32_t>());
  EXPECT_EQ(f->architecture(), want["architecture"].get<std::string>());
  for (const auto& [key, value] : want["metadata"].items()) expect_metadata(*f, key, value);
  ASSERT_EQ(f->tensors().size(), want["tensors"].size());
  for (size_t i = 0; i < f->tensors().size(); ++i) {
    const GgufTensorInfo& t = f->tensors()[i];
    const json& w = want["tensors"][i];
    SCOPED_TRACE(w["name"].get<std::string>());
    EXPECT_EQ(t.name, w["name"].get<std::string>());
    EXPECT_EQ(std::string(t.type_name), w["dtype"].get<std::string>());
    EXPECT_EQ(t.shape, w["shape"].get<std::vector<int64_t>>());
    EXPECT_EQ(to_hex(f->tensor_bytes(t)), w["hex"].get<std::string>());
  }
}

TEST(FormatFixtures, GgufPyFileThroughWeightSource) {
  auto source = open_weight_source(test::data_dir() + "/tiny_llama.gguf");
  EXPECT_TRUE(source->contains("model.embed_tokens.weight"));
  EXPECT_TRUE(source->contains("lm_head.weight"));
  EXPECT_EQ(source->info("lm_head.weight").dtype, DType::kQ8_0);
  EXPECT_EQ(source->info("model.layers.0.self_attn.k_proj.weight").dtype, DType::kBF16);
  // llama: Q has 2 heads, so the stored rows (h, i, p) come back as (h, p, i).
  const Tensor q = source->tensor("model.layers.0.self_attn.q_proj.weight");
  const auto stored = source->bytes("model.layers.0.self_attn.q_proj.weight").data;
  const std::vector<float> got = q.to_vector<float>();
  // HF row 1 (head 0, p 0, i 1) was stored at row 2 (i 1, p 0).
  EXPECT_EQ(std::memcmp(got.data() + 8, stored.data() + 2 * 8 * 4, 8 * 4), 0);
}

void expect_safetensors(const SafetensorsFile& f, const json& tensors) {
  for (const json& w : tensors) {
    const std::string name = w["name"];
    SCOPED_TRACE(name);
    const SafetensorsTensorInfo* t = f.find_tensor(name);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dtype_name, w["dtype"].get<std::string>());
    EXPECT_EQ(t->shape, w["shape"].get<std::vector<int64_t>>());
    EXPECT_EQ(to_hex(f.tensor_bytes(*t)), w["hex"].get<std::string>());
  }
}

TEST(FormatFixtures, SafetensorsWrittenBySafetensorsPy) {
  const std::string path = test::data_dir() + "/tiny.safetensors";
  const json want = load_json(path + ".json");
  const auto f = SafetensorsFile::open(path);
  EXPECT_EQ(f->tensors().size(), want["tensors"].size());
  expect_safetensors(*f, want["tensors"]);
  for (const auto& [key, value] : want["metadata"].items()) {
    EXPECT_EQ(f->metadata().at(key), value.get<std::string>());
  }
}

TEST(FormatFixtures, ShardedCheckpoint) {
  const json want = load_json(test::data_dir() + "/sharded.json");
  const auto ckpt = SafetensorsCheckpoint::open(test::data_dir() + "/sharded");
  EXPECT_EQ(ckpt->names().size(), want["tensors"].size());
  for (const json& w : want["tensors"]) {
    const auto [t, shard] = ckpt->find(w["name"].get<std::string>());
    ASSERT_NE(t, nullptr);
    EXPECT_TRUE(shard->path().ends_with(w["shard"].get<std::string>()));
    EXPECT_EQ(to_hex(shard->tensor_bytes(*t)), w["hex"].get<std::string>());
  }
  EXPECT_NE(ckpt->index_metadata().count("total_size"), 0u);
}

// The content scripts/make_format_fixtures.py expects in wick_writer.gguf (check_wick_writer).
std::vector<uint8_t> wick_writer_bytes() {
  GgufWriter w(64);
  w.add_string("general.architecture", "wick-test");
  w.add_u8("w.u8", 7);
  w.add_i8("w.i8", -7);
  w.add_u16("w.u16", 700);
  w.add_i16("w.i16", -700);
  w.add_u32("w.u32", 70000);
  w.add_i32("w.i32", -70000);
  w.add_u64("w.u64", 1ull << 40);
  w.add_i64("w.i64", -(1ll << 40));
  w.add_f32("w.f32", 0.5f);
  w.add_f64("w.f64", -0.125);
  w.add_bool("w.bool", false);
  w.add_string("w.string", "caf\xc3\xa9");
  const std::vector<std::string> strings = {"x", "", "yz"};
  w.add_array("w.strings", std::span<const std::string>(strings));
  const std::vector<int32_t> ints = {1, -2, 3};
  w.add_array("w.i32s", std::span<const int32_t>(ints));
  const std::vector<float> floats = {0.25f, -4.0f};
  w.add_array("w.f32s", std::span<const float>(floats));
  w.add_array("w.nested", std::vector<std::vector<std::string>>{{"p", "q"}, {}, {"r"}});
  const std::vector<float> m = {0, 1, 2, 3, 4, 5};
  const std::vector<int64_t> m_shape = {2, 3};
  w.add_tensor("m", DType::kF32, m_shape,
               {reinterpret_cast<const uint8_t*>(m.data()), m.size() * sizeof(float)});
  const std::vector<uint16_t> h = {f32_to_f16(1.0f), f32_to_f16(-2.0f), f32_to_f16(0.5f),
                                   f32_to_f16(8.0f)};
  const std::vector<int64_t> h_shape = {4};
  w.add_tensor("h", DType::kF16, h_shape, {reinterpret_cast<const uint8_t*>(h.data()), 8});
  // Two q8_0 rows, scale 1.0: values 0..31 and 0..-31.
  std::vector<uint8_t> q;
  for (int row = 0; row < 2; ++row) {
    const uint16_t d = f32_to_f16(1.0f);
    q.push_back(static_cast<uint8_t>(d & 0xff));
    q.push_back(static_cast<uint8_t>(d >> 8));
    for (int i = 0; i < 32; ++i)
      q.push_back(static_cast<uint8_t>(static_cast<int8_t>(row ? -i : i)));
  }
  const std::vector<int64_t> q_shape = {2, 32};
  w.add_tensor("q", DType::kQ8_0, q_shape, q);
  return w.to_bytes();
}

TEST(FormatFixtures, WickWriterFileIsCurrent) {
  const std::string path = test::data_dir() + "/wick_writer.gguf";
  const std::vector<uint8_t> bytes = wick_writer_bytes();
  if (std::getenv("WICK_UPDATE_FIXTURES") != nullptr) {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }
  const auto f = GgufFile::open(path);
  const auto mapped = f->keepalive();
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> committed((std::istreambuf_iterator<char>(in)),
                                       std::istreambuf_iterator<char>());
  EXPECT_EQ(committed, bytes) << "GgufWriter output changed: rerun with WICK_UPDATE_FIXTURES=1, "
                                 "then python3 scripts/make_format_fixtures.py";
  EXPECT_EQ(f->get_string("w.string"), "caf\xc3\xa9");
}

}  // namespace
}  // namespace wick
