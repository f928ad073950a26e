// safetensors reader: valid headers (dtypes, metadata, zero-size tensors, padding), every kind of
// malformed header (kParse naming file, tensor and byte offset), and sharded checkpoints.
#include <gtest/gtest.h>

#include <numeric>

#include "format_test_util.h"
#include "formats/safetensors.h"

namespace wick {
namespace {

using test::Bytes;
using test::expect_error;

std::vector<uint8_t> st_bytes(std::string_view header, size_t data_bytes, uint8_t fill = 0) {
  Bytes b;
  b.u64(header.size()).raw(header);
  b.data.resize(b.data.size() + data_bytes, fill);
  return b.data;
}

std::shared_ptr<SafetensorsFile> parse(const std::vector<uint8_t>& bytes) {
  auto owned = std::make_shared<const std::vector<uint8_t>>(bytes);
  return SafetensorsFile::open_bytes(*owned, "test.safetensors", owned);
}

void expect_parse_error(const std::vector<uint8_t>& bytes,
                        std::initializer_list<std::string_view> fragments) {
  expect_error([&] { parse(bytes); }, ErrorKind::kParse, fragments);
}

TEST(Safetensors, ParsesTensorsMetadataAndBytes) {
  const std::string header =
      R"({"b":{"dtype":"F16","shape":[3],"data_offsets":[24,30]},)"
      R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
      R"("e":{"dtype":"I64","shape":[0,5],"data_offsets":[30,30]},)"
      R"("d":{"dtype":"F64","shape":[],"data_offsets":[32,40]},)"
      R"("__metadata__":{"format":"pt","note":"h\u00e9"}}    )";  // trailing padding is allowed
  std::vector<uint8_t> bytes = st_bytes(header, 40);
  for (size_t i = 0; i < 40; ++i) bytes[8 + header.size() + i] = static_cast<uint8_t>(i);
  const auto f = parse(bytes);
  ASSERT_EQ(f->tensors().size(), 4u);
  EXPECT_EQ(f->tensors()[0].name, "a");  // sorted by offset
  EXPECT_EQ(f->metadata().at("format"), "pt");
  EXPECT_EQ(f->metadata().at("note"), "h\xc3\xa9");
  const SafetensorsTensorInfo* a = f->find_tensor("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, DType::kF32);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a->n_bytes, 24u);
  EXPECT_EQ(a->file_offset, 8 + header.size());
  const SafetensorsTensorInfo* b = f->find_tensor("b");
  EXPECT_EQ(f->tensor_bytes(*b)[0], 24);
  EXPECT_EQ(f->find_tensor("e")->n_elements, 0u);
  const SafetensorsTensorInfo* d = f->find_tensor("d");
  EXPECT_FALSE(d->dtype.has_value());  // F64: known to the format, not a wick DType
  EXPECT_EQ(d->dtype_name, "F64");
  EXPECT_EQ(f->find_tensor("zzz"), nullptr);
}

TEST(Safetensors, EveryDTypeName) {
  const std::vector<std::pair<const char*, int>> sizes = {
      {"BOOL", 1}, {"U8", 1},      {"I8", 1},      {"I16", 2},    {"U16", 2}, {"F16", 2},
      {"BF16", 2}, {"I32", 4},     {"U32", 4},     {"F32", 4},    {"F64", 8}, {"I64", 8},
      {"U64", 8},  {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"F8_E8M0", 1}};
  for (const auto& [name, size] : sizes) {
    const std::string header = fmt::format(
        R"({{"t":{{"dtype":"{}","shape":[3],"data_offsets":[0,{}]}}}})", name, 3 * size);
    const auto f = parse(st_bytes(header, static_cast<size_t>(3 * size)));
    EXPECT_EQ(f->tensors()[0].element_bytes, static_cast<uint32_t>(size)) << name;
    EXPECT_EQ(f->tensors()[0].dtype_name, name);
  }
  const auto f = parse(st_bytes(R"({"t":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})", 4));
  EXPECT_EQ(f->tensors()[0].dtype, DType::kBF16);
}

TEST(SafetensorsMalformed, TooShortAndHeaderLargerThanFile) {
  expect_parse_error({1, 2, 3}, {"test.safetensors", "byte 0", "too short"});
  Bytes b;
  b.u64(1000).raw("{}");
  expect_parse_error(b.data, {"header length 1000 exceeds the 2 bytes"});
  Bytes c;
  c.u64(UINT64_MAX).raw("{}");
  expect_parse_error(c.data, {"header length 18446744073709551615"});
}

TEST(SafetensorsMalformed, InvalidJsonAndUtf8) {
  expect_parse_error(st_bytes(R"({"a": )", 0), {"invalid JSON", "byte"});
  expect_parse_error(st_bytes("[1,2]", 0), {"does not start with '{'"});
  expect_parse_error(st_bytes("{\"a\xff\": 1}", 0), {"invalid JSON"});
  expect_parse_error(st_bytes(R"({"a": 1})", 0), {"tensor 'a'", "not an object"});
  expect_parse_error(st_bytes(R"({"__metadata__": {"k": 1}})", 0), {"__metadata__ 'k'"});
  expect_parse_error(st_bytes("", 0), {"does not start"});
  // Found by safetensors_fuzz: nlohmann throws out_of_range (not parse_error) for 1e999.
  expect_parse_error(st_bytes(R"({"__metadata__": 1e999})", 0),
                     {"invalid JSON", "number overflow"});
}

TEST(SafetensorsMalformed, BadEntries) {
  expect_parse_error(st_bytes(R"({"a":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}})", 4),
                     {"tensor 'a'", "unknown dtype 'F17'"});
  expect_parse_error(st_bytes(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", 4), {"'dtype'"});
  expect_parse_error(st_bytes(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4),
                     {"shape entry -1"});
  expect_parse_error(st_bytes(R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4),
                     {"shape entry 1.5"});
  expect_parse_error(st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4),
                     {"data_offsets"});
  expect_parse_error(st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,0]}})", 8),
                     {"end before begin"});
  expect_parse_error(st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 8),
                     {"hold 4 bytes", "needs 8"});
}

TEST(SafetensorsMalformed, ShapeOverflowAndOutOfFile) {
  expect_parse_error(
      st_bytes(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4),
      {"tensor 'a'", "overflows"});
  expect_parse_error(
      st_bytes(R"({"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,4]}})", 4),
      {"tensor 'a'", "overflows the byte count"});
  expect_parse_error(st_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8),
                     {"tensor 'a'", "end past the 8 data bytes"});
}

TEST(SafetensorsMalformed, OverlappingAndDuplicate) {
  expect_parse_error(st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                              12),
                     {"tensor 'b'", "overlaps tensor 'a'"});
  expect_parse_error(st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                              R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                              8),
                     {"duplicate entry 'a'"});
}

// nlohmann::json parses and destroys without recursion, so a deep header is just a bad entry.
TEST(SafetensorsMalformed, DeepNestingDoesNotOverflowTheStack) {
  const size_t depth = 1000000;
  const std::string header = R"({"a":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
  expect_parse_error(st_bytes(header, 0), {"tensor 'a'", "not an object"});
}

TEST(SafetensorsMalformed, EveryTruncationFailsCleanly) {
  const std::vector<uint8_t> full =
      st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8);
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<ptrdiff_t>(n));
    expect_error([&] { parse(prefix); }, ErrorKind::kParse, {"test.safetensors"});
  }
}

TEST(SafetensorsCheckpoint, SingleFileAndDirectory) {
  test::TempDir dir;
  dir.write("model.safetensors",
            st_bytes(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4));
  for (const std::string& path : {dir.file("model.safetensors"), dir.path().string()}) {
    const auto ckpt = SafetensorsCheckpoint::open(path);
    EXPECT_EQ(ckpt->names(), std::vector<std::string>{"w"});
    EXPECT_NE(ckpt->find("w").first, nullptr);
    EXPECT_EQ(ckpt->find("x").first, nullptr);
  }
  test::TempDir empty_dir_holder;
  std::filesystem::create_directories(empty_dir_holder.path() / "empty");
  expect_error([&] { SafetensorsCheckpoint::open((empty_dir_holder.path() / "empty").string()); },
               ErrorKind::kNotFound, {"model.safetensors"});
}

TEST(SafetensorsCheckpoint, ShardedIndexResolvesNames) {
  test::TempDir dir;
  dir.write("m-1.safetensors", st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                        8, 1));
  dir.write("m-2.safetensors",
            st_bytes(R"({"c":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", 4, 2));
  dir.write("model.safetensors.index.json",
            R"({"metadata":{"total_size":16},"weight_map":{"a":"m-1.safetensors",)"
            R"("c":"m-2.safetensors","b":"m-1.safetensors"}})");
  const auto ckpt = SafetensorsCheckpoint::open(dir.path().string());
  EXPECT_EQ(ckpt->shards().size(), 2u);
  EXPECT_EQ(ckpt->names(), (std::vector<std::string>{"a", "b", "c"}));
  const auto [c, shard] = ckpt->find("c");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(shard->tensor_bytes(*c)[0], 2);
  EXPECT_EQ(ckpt->index_metadata().at("total_size"), "16");
}

TEST(SafetensorsCheckpoint, BadIndexes) {
  test::TempDir dir;
  dir.write("m-1.safetensors",
            st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4));
  const auto open_index = [&](std::string_view json) {
    const std::string path = dir.write("model.safetensors.index.json", json);
    SafetensorsCheckpoint::open(path);
  };
  expect_error([&] { open_index(R"({"weight_map":{"a":"../m-1.safetensors"}})"); },
               ErrorKind::kParse, {"not a plain file name"});
  expect_error([&] { open_index(R"({"weight_map":{"z":"m-1.safetensors"}})"); }, ErrorKind::kParse,
               {"'z'", "no such tensor"});
  expect_error([&] { open_index(R"({"weight_map":{"a":"m-9.safetensors"}})"); },
               ErrorKind::kNotFound, {"m-9.safetensors"});
  expect_error([&] { open_index(R"({"weight_map":[]})"); }, ErrorKind::kParse, {"weight_map"});
  expect_error([&] { open_index(R"({"weight_map":)"); }, ErrorKind::kParse, {"invalid JSON"});
  expect_error([&] { open_index(R"({"weight_map":1e999})"); }, ErrorKind::kParse, {"invalid JSON"});
  expect_error([&] { open_index(R"({"weight_map":{"a":5}})"); }, ErrorKind::kParse,
               {"not a string"});
}

}  // namespace
}  // namespace wick
