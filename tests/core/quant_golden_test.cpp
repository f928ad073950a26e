// Block codecs against golden data from scripts/make_quant_golden.py (tests/data/quant/):
// dequantization bit-exact with the gguf Python package for every dtype, quantization bit-exact
// with gguf where it quantizes (Q4_0..Q8_0, F16, BF16) and with ggml's reference quantizers for
// the rest (Q8_1, K types, Q8_K, IQ4_NL, IQ4_XS).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/quant/quant.h"

namespace wick {
namespace {

constexpr uint32_t kTagGgufQuantize = 1;
constexpr uint32_t kTagRandomBlocks = 2;
constexpr uint32_t kTagGgmlQuantize = 3;

struct Section {
  uint32_t tag = 0;
  uint32_t n_rows = 0;
  uint32_t n_per_row = 0;
  std::vector<uint8_t> blocks;
  std::vector<float> dequant;  // empty for ggml_quantize sections
};

std::string data_path(const std::string& name) {
  return std::string(WICK_SOURCE_DIR) + "/tests/data/quant/" + name;
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail(ErrorKind::kIo, "cannot open {}", path);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

uint32_t read_u32(const std::vector<uint8_t>& bytes, size_t* pos) {
  WICK_CHECK(*pos + 4 <= bytes.size(), ErrorKind::kParse, "golden file truncated at {}", *pos);
  uint32_t v = 0;
  std::memcpy(&v, bytes.data() + *pos, 4);
  *pos += 4;
  return v;
}

std::vector<Section> read_sections(const std::string& name) {
  const std::vector<uint8_t> bytes = read_all(data_path(name + ".bin"));
  WICK_CHECK(bytes.size() >= 8 && std::memcmp(bytes.data(), "WQG1", 4) == 0, ErrorKind::kParse,
             "{}: bad magic", name);
  size_t pos = 4;
  const uint32_t count = read_u32(bytes, &pos);
  std::vector<Section> sections(count);
  for (Section& s : sections) {
    s.tag = read_u32(bytes, &pos);
    s.n_rows = read_u32(bytes, &pos);
    s.n_per_row = read_u32(bytes, &pos);
    const uint32_t n_bytes = read_u32(bytes, &pos);
    WICK_CHECK(pos + n_bytes <= bytes.size(), ErrorKind::kParse, "{}: truncated blocks", name);
    s.blocks.assign(bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                    bytes.begin() + static_cast<std::ptrdiff_t>(pos + n_bytes));
    pos += n_bytes;
    if (s.tag == kTagGgmlQuantize) continue;
    const size_t n_floats = static_cast<size_t>(s.n_rows) * s.n_per_row;
    WICK_CHECK(pos + 4 * n_floats <= bytes.size(), ErrorKind::kParse, "{}: truncated floats", name);
    s.dequant.resize(n_floats);
    std::memcpy(s.dequant.data(), bytes.data() + pos, 4 * n_floats);
    pos += 4 * n_floats;
  }
  return sections;
}

struct Inputs {
  uint32_t n_rows = 0;
  uint32_t n_per_row = 0;
  std::vector<float> values;
};

Inputs read_inputs() {
  const std::vector<uint8_t> bytes = read_all(data_path("inputs.bin"));
  Inputs in;
  size_t pos = 4;
  WICK_CHECK(bytes.size() >= 12 && std::memcmp(bytes.data(), "WQI1", 4) == 0, ErrorKind::kParse,
             "inputs.bin: bad magic");
  in.n_rows = read_u32(bytes, &pos);
  in.n_per_row = read_u32(bytes, &pos);
  in.values.resize(static_cast<size_t>(in.n_rows) * in.n_per_row);
  WICK_CHECK(pos + 4 * in.values.size() == bytes.size(), ErrorKind::kParse, "inputs.bin: size");
  std::memcpy(in.values.data(), bytes.data() + pos, 4 * in.values.size());
  return in;
}

// Index of the first float whose bits differ, or -1.
int64_t first_bit_mismatch(const std::vector<float>& got, const std::vector<float>& want) {
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], 4) != 0) return static_cast<int64_t>(i);
  }
  return -1;
}

class QuantGolden : public testing::TestWithParam<const char*> {
 protected:
  DType type() const { return *dtype_from_name(GetParam()); }
};
using QuantGoldenGguf = QuantGolden;
using QuantGoldenGgml = QuantGolden;

TEST_P(QuantGolden, DequantizeRandomBlocksBitExact) {
  int checked = 0;
  for (const Section& s : read_sections(GetParam())) {
    if (s.tag != kTagRandomBlocks) continue;
    const int64_t n = static_cast<int64_t>(s.n_rows) * s.n_per_row;
    ASSERT_EQ(dtype_bytes_for(type(), static_cast<uint64_t>(n)), s.blocks.size());
    std::vector<float> ref(static_cast<size_t>(n));
    std::vector<float> fast(static_cast<size_t>(n));
    dequantize_row_reference(type(), s.blocks.data(), ref.data(), n);
    dequantize_row(type(), s.blocks.data(), fast.data(), n);
    const int64_t bad = first_bit_mismatch(ref, s.dequant);
    EXPECT_EQ(bad, -1) << "value " << bad << ": wick " << ref[static_cast<size_t>(bad)] << " gguf "
                       << s.dequant[static_cast<size_t>(bad)];
    EXPECT_EQ(first_bit_mismatch(fast, s.dequant), -1) << "fast path differs";
    ++checked;
  }
  EXPECT_EQ(checked, 1);
}

// gguf quantized these rows: wick's bytes and decoded values must match exactly.
TEST_P(QuantGoldenGguf, QuantizeMatchesGguf) {
  const Inputs in = read_inputs();
  for (const Section& s : read_sections(GetParam())) {
    if (s.tag != kTagGgufQuantize) continue;
    ASSERT_EQ(s.n_rows, in.n_rows);
    const size_t row_bytes = s.blocks.size() / s.n_rows;
    for (uint32_t r = 0; r < s.n_rows; ++r) {
      std::vector<uint8_t> got(row_bytes);
      quantize_row(type(), in.values.data() + static_cast<size_t>(r) * in.n_per_row, got.data(),
                   in.n_per_row);
      const uint8_t* want = s.blocks.data() + r * row_bytes;
      EXPECT_EQ(std::memcmp(got.data(), want, row_bytes), 0) << "row " << r;
      std::vector<float> out(in.n_per_row);
      std::vector<float> expect(
          s.dequant.begin() + static_cast<std::ptrdiff_t>(r * in.n_per_row),
          s.dequant.begin() + static_cast<std::ptrdiff_t>((r + 1) * in.n_per_row));
      dequantize_row(type(), want, out.data(), in.n_per_row);
      EXPECT_EQ(first_bit_mismatch(out, expect), -1) << "row " << r;
    }
    return;
  }
  FAIL() << GetParam() << ".bin has no gguf_quantize section";
}

// ggml's reference quantizer (llama.cpp without an importance matrix) made these bytes.
TEST_P(QuantGoldenGgml, QuantizeMatchesGgmlReference) {
  const Inputs in = read_inputs();
  for (const Section& s : read_sections(GetParam())) {
    if (s.tag != kTagGgmlQuantize) continue;
    const size_t row_bytes = s.blocks.size() / s.n_rows;
    for (uint32_t r = 0; r < s.n_rows; ++r) {
      std::vector<uint8_t> got(row_bytes);
      quantize_row(type(), in.values.data() + static_cast<size_t>(r) * in.n_per_row, got.data(),
                   in.n_per_row);
      const uint8_t* want = s.blocks.data() + r * row_bytes;
      size_t first = row_bytes;
      for (size_t b = 0; b < row_bytes && first == row_bytes; ++b) {
        if (got[b] != want[b]) first = b;
      }
      EXPECT_EQ(first, row_bytes) << "row " << r << " first differing byte " << first;
    }
    return;
  }
  FAIL() << GetParam() << ".bin has no ggml_quantize section (regenerate with --ggml-lib)";
}

std::string param_name(const testing::TestParamInfo<const char*>& param_info) {
  return param_info.param;
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantGolden,
                         testing::Values("f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0",
                                         "q8_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q8_k",
                                         "iq4_nl", "iq4_xs"),
                         param_name);
// The types gguf 0.19 can quantize.
INSTANTIATE_TEST_SUITE_P(GgufQuantizes, QuantGoldenGguf,
                         testing::Values("f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0"),
                         param_name);
// Every block type against ggml's reference quantizer.
INSTANTIATE_TEST_SUITE_P(BlockTypes, QuantGoldenGgml,
                         testing::Values("q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q8_1", "q2_k",
                                         "q3_k", "q4_k", "q5_k", "q6_k", "q8_k", "iq4_nl",
                                         "iq4_xs"),
                         param_name);

}  // namespace
}  // namespace wick
