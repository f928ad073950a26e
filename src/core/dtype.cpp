// The dtype table: sizes and GGML ids. Block sizes/bytes follow ggml's block structs.
#include "core/dtype.h"

#include <array>
#include <cctype>
#include <limits>

#include "core/error.h"

namespace wick {
namespace {

constexpr std::array<DTypeInfo, kDTypeCount> kInfo = {{
    {"f32", 1, 4, true, false, 0},
    {"f16", 1, 2, true, false, 1},
    {"bf16", 1, 2, true, false, 30},
    {"i32", 1, 4, false, false, 26},
    {"i64", 1, 8, false, false, 27},
    {"u8", 1, 1, false, false, -1},
    {"bool", 1, 1, false, false, -1},
    {"q4_0", 32, 18, false, true, 2},     // f16 d; 16 bytes of nibbles
    {"q4_1", 32, 20, false, true, 3},     // f16 d, f16 m; 16 bytes of nibbles
    {"q5_0", 32, 22, false, true, 6},     // f16 d; 4 bytes high bits; 16 bytes nibbles
    {"q5_1", 32, 24, false, true, 7},     // f16 d, f16 m; 4 bytes high bits; 16 bytes nibbles
    {"q8_0", 32, 34, false, true, 8},     // f16 d; 32 int8
    {"q8_1", 32, 36, false, true, 9},     // f16 d, f16 s; 32 int8
    {"q2_k", 256, 84, false, true, 10},   // 16 scales; 64 qs; f16 d, dmin
    {"q3_k", 256, 110, false, true, 11},  // 32 hmask; 64 qs; 12 scales; f16 d
    {"q4_k", 256, 144, false, true, 12},  // f16 d, dmin; 12 scales; 128 qs
    {"q5_k", 256, 176, false, true, 13},  // f16 d, dmin; 12 scales; 32 qh; 128 qs
    {"q6_k", 256, 210, false, true, 14},  // 128 ql; 64 qh; 16 int8 scales; f16 d
    {"q8_k", 256, 292, false, true, 15},  // f32 d; 256 int8; 16 int16 bsums
    {"iq4_nl", 32, 18, false, true, 20},  // f16 d; 16 bytes of nibbles (non-linear table)
    {"iq4_xs", 256, 136, false, true, 23},  // f16 d; u16 scales_h; 4 scales_l; 128 qs
}};

}  // namespace

const DTypeInfo& dtype_info(DType dtype) {
  const auto index = static_cast<size_t>(dtype);
  WICK_CHECK(index < kInfo.size(), ErrorKind::kInvalidArgument, "unknown dtype id {}", index);
  return kInfo[index];
}

uint64_t dtype_bytes_for(DType dtype, uint64_t n_values) {
  const DTypeInfo& info = dtype_info(dtype);
  WICK_CHECK(n_values % static_cast<uint64_t>(info.block_size) == 0, ErrorKind::kInvalidArgument,
             "{} values is not a multiple of the {} block size {}", n_values, info.name,
             info.block_size);
  const uint64_t blocks = n_values / static_cast<uint64_t>(info.block_size);
  WICK_CHECK(blocks <= std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(info.block_bytes),
             ErrorKind::kInvalidArgument, "{} values of {} overflow a 64-bit byte count", n_values,
             info.name);
  return blocks * static_cast<uint64_t>(info.block_bytes);
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (int i = 0; i < kDTypeCount; ++i) {
    std::string_view candidate = kInfo[static_cast<size_t>(i)].name;
    if (candidate.size() != name.size()) continue;
    bool equal = true;
    for (size_t c = 0; c < name.size() && equal; ++c) {
      equal = std::tolower(static_cast<unsigned char>(name[c])) == candidate[c];
    }
    if (equal) return static_cast<DType>(i);
  }
  return std::nullopt;
}

std::optional<DType> dtype_from_ggml_type(uint32_t ggml_type) {
  for (int i = 0; i < kDTypeCount; ++i) {
    if (kInfo[static_cast<size_t>(i)].ggml_type == static_cast<int>(ggml_type)) {
      return static_cast<DType>(i);
    }
  }
  return std::nullopt;
}

}  // namespace wick
