// GGUF reader and writer: a round trip of every metadata type and several tensor dtypes, typed
// getter conversions and errors, and hand-made malformed files that must fail with kParse naming
// the field and byte offset (never crash, never allocate from a lying count).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <numeric>

#include "core/half.h"
#include "format_test_util.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"

namespace wick {
namespace {

using test::Bytes;
using test::expect_error;

// Parses a copy of `bytes` that the GgufFile keeps alive (its views point into it).
std::shared_ptr<GgufFile> parse(const std::vector<uint8_t>& bytes) {
  auto owned = std::make_shared<const std::vector<uint8_t>>(bytes);
  return GgufFile::open_bytes(*owned, "test.gguf", owned);
}

void expect_parse_error(const std::vector<uint8_t>& bytes,
                        std::initializer_list<std::string_view> fragments) {
  expect_error([&] { parse(bytes); }, ErrorKind::kParse, fragments);
}

// Header with n tensors and k metadata entries; the caller appends the rest.
Bytes header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
  Bytes b;
  b.raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
  return b;
}

// One f32 tensor info of ne = dims at `offset`.
Bytes& tensor_info(Bytes& b, std::string_view name, std::vector<uint64_t> dims, uint32_t type = 0,
                   uint64_t offset = 0) {
  b.str(name).u32(static_cast<uint32_t>(dims.size()));
  for (uint64_t d : dims) b.u64(d);
  return b.u32(type).u64(offset);
}

GgufWriter make_writer_with_all_types() {
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_u8("t.u8", 200);
  w.add_i8("t.i8", -100);
  w.add_u16("t.u16", 60000);
  w.add_i16("t.i16", -30000);
  w.add_u32("t.u32", 4000000000u);
  w.add_i32("t.i32", -2000000000);
  w.add_u64("t.u64", 18000000000000000000ull);
  w.add_i64("t.i64", -9000000000000000000ll);
  w.add_f32("t.f32", 1.5f);
  w.add_f64("t.f64", -2.25e300);
  w.add_bool("t.bool", true);
  w.add_string("t.empty", "");
  const std::vector<float> floats = {0.5f, -1.0f, 3.25f};
  w.add_array("t.f32s", std::span<const float>(floats));
  const std::vector<int32_t> ints = {-1, 0, 7};
  w.add_array("t.i32s", std::span<const int32_t>(ints));
  const std::vector<std::string> strings = {"a", "", "h\xc3\xa9llo", std::string("z\0z", 3)};
  w.add_array("t.strings", std::span<const std::string>(strings));
  w.add_array("t.nested", std::vector<std::vector<std::string>>{{"x", "y"}, {}, {"z"}});
  return w;
}

TEST(Gguf, RoundTripsEveryMetadataType) {
  const auto f = parse(make_writer_with_all_types().to_bytes());
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->architecture(), "llama");
  EXPECT_EQ(f->get_u32("t.u8"), 200u);
  EXPECT_EQ(f->get_i32("t.i8"), -100);
  EXPECT_EQ(f->get_u32("t.u16"), 60000u);
  EXPECT_EQ(f->get_i32("t.i16"), -30000);
  EXPECT_EQ(f->get_u32("t.u32"), 4000000000u);
  EXPECT_EQ(f->get_i32("t.i32"), -2000000000);
  EXPECT_EQ(f->get_u64("t.u64"), 18000000000000000000ull);
  EXPECT_EQ(f->get_i64("t.i64"), -9000000000000000000ll);
  EXPECT_EQ(f->get_f32("t.f32"), 1.5f);
  EXPECT_EQ(f->get_f64("t.f64"), -2.25e300);
  EXPECT_TRUE(f->get_bool("t.bool"));
  EXPECT_EQ(f->get_string("t.empty"), "");
  EXPECT_EQ(f->get_f32_array("t.f32s"), (std::vector<float>{0.5f, -1.0f, 3.25f}));
  EXPECT_EQ(f->get_i32_array("t.i32s"), (std::vector<int32_t>{-1, 0, 7}));
  EXPECT_EQ(f->get_i64_array("t.i32s"), (std::vector<int64_t>{-1, 0, 7}));
  EXPECT_EQ(f->get_f32_array("t.i32s"), (std::vector<float>{-1, 0, 7}));
  const auto strings = f->get_string_array("t.strings");
  ASSERT_EQ(strings.size(), 4u);
  EXPECT_EQ(strings[2], "h\xc3\xa9llo");
  EXPECT_EQ(strings[3], std::string_view("z\0z", 3));
  const GgufValue* nested = f->find("t.nested");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->elem_type, GgufType::kArray);
  ASSERT_EQ(nested->arrays.size(), 3u);
  EXPECT_EQ(nested->arrays[0].strings, (std::vector<std::string_view>{"x", "y"}));
  EXPECT_TRUE(nested->arrays[1].strings.empty());
  EXPECT_EQ(nested->arrays[2].strings[0], "z");
  EXPECT_EQ(f->metadata().size(), 17u);
  EXPECT_EQ(f->metadata()[1].key, "t.u8");  // file order kept
}

TEST(Gguf, AddValueCopiesEveryTypeFromAReader) {
  const auto src = parse(make_writer_with_all_types().to_bytes());
  GgufWriter w;
  for (const GgufKeyValue& kv : src->metadata()) w.add_value(kv.key, kv.value);
  EXPECT_EQ(w.to_bytes(), make_writer_with_all_types().to_bytes());
}

TEST(Gguf, GettersConvertOrFailClearly) {
  const auto f = parse(make_writer_with_all_types().to_bytes());
  EXPECT_EQ(f->get_i64("t.u32"), 4000000000ll);
  EXPECT_EQ(f->get_f64("t.f32"), 1.5);
  EXPECT_EQ(f->get_u32_or("missing", 7), 7u);
  EXPECT_EQ(f->get_string_or("missing", "d"), "d");
  expect_error([&] { f->get_u32("missing.key"); }, ErrorKind::kNotFound,
               {"test.gguf", "missing.key"});
  expect_error([&] { f->get_u32("t.i8"); }, ErrorKind::kParse, {"t.i8", "does not fit"});
  expect_error([&] { f->get_i32("t.u32"); }, ErrorKind::kParse, {"t.u32"});
  expect_error([&] { f->get_u32("t.f32"); }, ErrorKind::kParse, {"t.f32", "f32"});
  expect_error([&] { f->get_string("t.u8"); }, ErrorKind::kParse, {"expected string"});
  expect_error([&] { f->get_string_array("t.f32s"); }, ErrorKind::kParse, {"array of f32"});
  expect_error([&] { f->get_u32_array("t.i32s"); }, ErrorKind::kParse, {"element 0"});
  expect_error([&] { f->get_f32_array("t.u8"); }, ErrorKind::kParse, {"expected an array"});
}

TEST(Gguf, TensorsRoundTripWithAlignmentAndShapes) {
  GgufWriter w(64);
  w.add_string("general.architecture", "test");
  std::vector<float> m(6);
  std::iota(m.begin(), m.end(), 1.0f);
  const std::vector<int64_t> shape23 = {2, 3};
  w.add_tensor("m", DType::kF32, shape23,
               std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(m.data()), 24));
  std::vector<uint16_t> h = {f32_to_f16(1.0f), f32_to_f16(-2.0f), f32_to_f16(0.5f)};
  const std::vector<int64_t> shape3 = {3};
  w.add_tensor("h", DType::kF16, shape3,
               std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(h.data()), 6));
  std::vector<uint8_t> q(2 * 34, 0x5a);  // two q8_0 rows of 32 values
  const std::vector<int64_t> shape2x32 = {2, 32};
  w.add_tensor("q", DType::kQ8_0, shape2x32, q);
  const std::vector<int64_t> scalar = {};
  const float one = 1.0f;
  w.add_tensor("s", DType::kF32, scalar,
               std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&one), 4));

  const auto f = parse(w.to_bytes());
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->get_u32("general.alignment"), 64u);
  EXPECT_EQ(f->data_offset() % 64, 0u);
  ASSERT_EQ(f->tensors().size(), 4u);
  const GgufTensorInfo* mi = f->find_tensor("m");
  ASSERT_NE(mi, nullptr);
  EXPECT_EQ(mi->ne, (std::vector<uint64_t>{3, 2}));    // innermost first
  EXPECT_EQ(mi->shape, (std::vector<int64_t>{2, 3}));  // PyTorch order
  EXPECT_EQ(mi->dtype, DType::kF32);
  EXPECT_EQ(mi->n_bytes, 24u);
  const auto mb = f->tensor_bytes(*mi);
  EXPECT_EQ(std::memcmp(mb.data(), m.data(), 24), 0);
  for (const GgufTensorInfo& t : f->tensors()) EXPECT_EQ(t.offset % 64, 0u) << t.name;
  const GgufTensorInfo* qi = f->find_tensor("q");
  EXPECT_EQ(qi->type_name, std::string_view("q8_0"));
  EXPECT_EQ(qi->n_bytes, 68u);
  EXPECT_EQ(f->tensor_bytes(*qi)[67], 0x5a);
  const GgufTensorInfo* hi = f->find_tensor("h");
  EXPECT_EQ(f16_to_f32(reinterpret_cast<const uint16_t*>(f->tensor_bytes(*hi).data())[1]), -2.0f);
  EXPECT_TRUE(f->find_tensor("s")->shape.empty());
  EXPECT_EQ(f->find_tensor("s")->n_elements, 1u);
  EXPECT_EQ(f->find_tensor("nope"), nullptr);
}

TEST(Gguf, WriterRejectsBadInput) {
  GgufWriter w;
  w.add_u32("k", 1);
  expect_error([&] { w.add_u32("k", 2); }, ErrorKind::kInvalidArgument, {"'k'", "twice"});
  const std::vector<int64_t> shape = {2, 16};
  std::vector<uint8_t> q(34);
  expect_error([&] { w.add_tensor("q", DType::kQ8_0, shape, q); }, ErrorKind::kInvalidArgument,
               {"'q'", "block size 32"});
  const std::vector<int64_t> shape32 = {1, 32};
  expect_error([&] { w.add_tensor("q", DType::kQ8_0, shape32, std::span(q).first(30)); },
               ErrorKind::kInvalidArgument, {"30 bytes", "34"});
  w.add_tensor("q", DType::kQ8_0, shape32, q);
  expect_error([&] { w.add_tensor("q", DType::kQ8_0, shape32, q); }, ErrorKind::kInvalidArgument,
               {"twice"});
  expect_error([] { GgufWriter bad(48); }, ErrorKind::kInvalidArgument, {"48"});
}

TEST(Gguf, WritesFilesAndZeroTensorsAsHoles) {
  test::TempDir dir;
  GgufWriter w;
  const std::vector<int64_t> shape = {1024, 1024};
  w.add_zero_tensor("big", DType::kF32, shape);
  const float v = 3.0f;
  const std::vector<int64_t> one = {1};
  w.add_tensor("after", DType::kF32, one,
               std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&v), 4));
  const std::string path = dir.file("holes.gguf");
  w.write(path);
  const auto f = GgufFile::open(path);
  EXPECT_EQ(f->file_size(), w.to_bytes().size());
  const auto big = f->tensor_bytes(*f->find_tensor("big"));
  EXPECT_EQ(big.size(), 4u << 20);
  EXPECT_EQ(big[12345], 0);
  float read = 0;
  std::memcpy(&read, f->tensor_bytes(*f->find_tensor("after")).data(), 4);
  EXPECT_EQ(read, 3.0f);
  expect_error([&] { w.write(dir.file("no/such/dir/x.gguf")); }, ErrorKind::kIo, {"no/such/dir"});
}

TEST(Gguf, VersionTwoIsAccepted) {
  std::vector<uint8_t> bytes = make_writer_with_all_types().to_bytes();
  bytes[4] = 2;
  EXPECT_EQ(parse(bytes)->version(), 2u);
}

TEST(Gguf, LargeTokenArrayLoadsFast) {
  std::vector<std::string> tokens(262144);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = "tok" + std::to_string(i);
  std::vector<float> scores(tokens.size(), -1.0f);
  GgufWriter w;
  w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
  w.add_array("tokenizer.ggml.scores", std::span<const float>(scores));
  const std::vector<uint8_t> bytes = w.to_bytes();
  const auto start = std::chrono::steady_clock::now();
  const auto f = parse(bytes);
  const auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(f->get_string_array("tokenizer.ggml.tokens")[262143], "tok262143");
  EXPECT_EQ(f->get_f32_array("tokenizer.ggml.scores").size(), 262144u);
  EXPECT_LT(ms, 500.0) << "parsing 262k tokens took " << ms << " ms";
}

// ---- malformed files ----

TEST(GgufMalformed, EmptyAndBadMagic) {
  expect_parse_error({}, {"test.gguf", "magic", "byte 0", "needs 4 bytes"});
  Bytes b;
  b.raw("GGML").u32(3).u64(0).u64(0);
  expect_parse_error(b.data, {"not a GGUF file"});
}

TEST(GgufMalformed, UnsupportedVersions) {
  expect_error([] { parse(header(0, 0, 1).data); }, ErrorKind::kUnsupported, {"version 1"});
  expect_parse_error(header(0, 0, 7).data, {"unsupported GGUF version 7"});
  expect_parse_error(header(0, 0, 0x03000000).data, {"big-endian"});
}

TEST(GgufMalformed, TruncatedHeader) {
  Bytes b = header(0, 1);
  b.str("general.name").u32(8).u64(100).raw("short");
  expect_parse_error(b.data,
                     {"metadata 'general.name'", "string length 100", "byte 48", "5 bytes left"});
  std::vector<uint8_t> truncated = header(0, 0).data;
  truncated.resize(20);
  expect_parse_error(truncated, {"metadata count", "byte 16", "needs 8 bytes"});
}

TEST(GgufMalformed, LyingCountsFailBeforeAllocating) {
  expect_parse_error(header(0, 1ull << 60).data, {"metadata count", "cannot fit"});
  expect_parse_error(header(1ull << 62, 0).data, {"tensor count", "cannot fit"});
  Bytes b = header(0, 1);
  b.str("tokens").u32(9).u32(8).u64(1ull << 61);
  expect_parse_error(b.data, {"metadata 'tokens'", "array count", "2305843009213693952"});
  Bytes c = header(0, 1);
  c.str("floats").u32(9).u32(6).u64(UINT64_MAX / 2);
  expect_parse_error(c.data, {"array count", "cannot fit"});
  Bytes d = header(0, 1);
  d.str("key").u32(8).u64(UINT64_MAX);
  expect_parse_error(d.data, {"string length 18446744073709551615"});
  Bytes e = header(0, 1);
  e.u64(UINT64_MAX - 3).zeros(16);
  expect_parse_error(e.data, {"metadata entry 0", "key"});
}

TEST(GgufMalformed, UnknownValueTypesAndDuplicateKeys) {
  Bytes b = header(0, 1);
  b.str("k").u32(13).u32(0);
  expect_parse_error(b.data, {"metadata 'k'", "unknown value type 13", "byte 33"});
  Bytes c = header(0, 1);
  c.str("k").u32(9).u32(99).u64(0);
  expect_parse_error(c.data, {"array element type", "unknown value type 99"});
  Bytes d = header(0, 2);
  d.str("k").u32(4).u32(1).str("k").u32(4).u32(2);
  expect_parse_error(d.data, {"metadata 'k'", "duplicate metadata key", "byte 41"});
}

TEST(GgufMalformed, NestingTooDeep) {
  Bytes b = header(0, 1);
  b.str("deep").u32(9);
  for (int i = 0; i < 20; ++i) b.u32(9).u64(1);
  b.zeros(16);
  expect_parse_error(b.data, {"nested deeper than 8"});
}

TEST(GgufMalformed, BadAlignment) {
  for (uint32_t alignment : {0u, 48u}) {
    Bytes b = header(0, 1);
    b.str("general.alignment").u32(4).u32(alignment);
    expect_parse_error(b.data, {"general.alignment", "not a non-zero power of two"});
  }
  Bytes c = header(0, 1);
  c.str("general.alignment").u32(8).str("32");
  expect_parse_error(c.data, {"general.alignment", "must be u32, found string"});
}

TEST(GgufMalformed, TensorBeyondEndOfFile) {
  Bytes b = header(1, 0);
  tensor_info(b, "w", {4, 4}).pad_to(32).zeros(32);  // needs 64 bytes, has 32
  expect_parse_error(b.data, {"tensor 'w'", "data offset", "ends past the 32 bytes", "byte 57"});
}

TEST(GgufMalformed, DataSectionStartBeyondEnd) {
  Bytes b = header(1, 0);
  tensor_info(b, "w", {0});  // empty tensor, but the aligned data start is past the end
  expect_parse_error(b.data, {"data section", "beyond the end"});
}

TEST(GgufMalformed, DimsWhoseProductOverflows) {
  Bytes b = header(1, 0);
  tensor_info(b, "w", {1ull << 32, 1ull << 32}).pad_to(32);
  expect_parse_error(b.data, {"tensor 'w'", "ne[1] = 4294967296", "overflow"});
  Bytes c = header(1, 0);
  tensor_info(c, "w", {1ull << 63}).pad_to(32);
  expect_parse_error(c.data, {"ne[0]", "overflow"});
  Bytes d = header(1, 0);
  tensor_info(d, "w", {1, 1, 1, 1, 1});
  expect_parse_error(d.data, {"5 dimensions exceed the maximum of 4"});
}

TEST(GgufMalformed, DuplicateTensorNames) {
  Bytes b = header(2, 0);
  tensor_info(b, "w", {4}, 0, 0);
  tensor_info(b, "w", {4}, 0, 32);
  b.pad_to(32).zeros(64);
  expect_parse_error(b.data, {"tensor 'w'", "duplicate tensor name"});
}

TEST(GgufMalformed, UnknownGgmlTypeAndPartialBlocks) {
  Bytes b = header(1, 0);
  tensor_info(b, "w", {4}, 4);  // ggml type 4 (Q4_2) was removed
  expect_parse_error(b.data, {"tensor 'w'", "unknown ggml type 4"});
  Bytes c = header(1, 0);
  tensor_info(c, "w", {16}, 8);  // q8_0 row of 16 values
  expect_parse_error(c.data, {"ne[0] = 16", "q8_0 block size 32"});
}

TEST(GgufMalformed, MisalignedAndOverlappingTensors) {
  Bytes b = header(1, 0);
  tensor_info(b, "w", {4}, 0, 8).pad_to(32).zeros(64);
  expect_parse_error(b.data, {"tensor 'w'", "8 is not a multiple of the alignment 32"});
  Bytes c = header(2, 0);
  tensor_info(c, "a", {16}, 0, 0);
  tensor_info(c, "b", {4}, 0, 32);
  c.pad_to(32).zeros(64);
  expect_parse_error(c.data, {"tensor 'b'", "overlaps tensor 'a'"});
}

TEST(GgufMalformed, UnsupportedButKnownGgmlTypeStillOpens) {
  Bytes b = header(1, 0);
  tensor_info(b, "w", {256}, 16).pad_to(32).zeros(66);  // iq2_xxs: one block
  const auto f = parse(b.data);
  EXPECT_EQ(f->tensors()[0].type_name, std::string_view("iq2_xxs"));
  EXPECT_FALSE(f->tensors()[0].dtype.has_value());
  EXPECT_EQ(f->tensors()[0].n_bytes, 66u);
}

// Every prefix of a valid file fails cleanly (or parses, for prefixes that end exactly at a
// point where no tensor data is needed).
TEST(GgufMalformed, EveryTruncationFailsCleanly) {
  GgufWriter w = make_writer_with_all_types();
  const std::vector<int64_t> shape = {8};
  std::vector<uint8_t> data(32, 1);
  w.add_tensor("t", DType::kF32, shape, data);
  const std::vector<uint8_t> full = w.to_bytes();
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<ptrdiff_t>(n));
    try {
      parse(prefix);
      ADD_FAILURE() << "prefix of " << n << " bytes parsed";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kParse) << e.what();
    }
  }
  EXPECT_NO_THROW(parse(full));
}

TEST(GgufFileOpen, MissingFileIsNotFound) {
  expect_error([] { GgufFile::open("/nonexistent/model.gguf"); }, ErrorKind::kNotFound,
               {"/nonexistent/model.gguf"});
}

}  // namespace
}  // namespace wick
