// Numeric ranges as grammars: the decimal strings of the integers (or decimals) between two
// integer bounds, built digit by digit, so `minimum`/`maximum` are exact rather than checked
// afterwards. Used by the JSON Schema compiler.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace wick::constrain {

// Integers generated without bounds have at most this many digits; bounds beyond it are moot.
constexpr int kMaxIntegerDigits = 16;
constexpr int64_t kIntegerLimit = 10'000'000'000'000'000;  // 10^16

// GBNF expression for the JSON integers x with lo <= x <= hi (either side open when absent).
// Error(kInvalidArgument) when the range is empty.
std::string integer_range_gbnf(std::optional<int64_t> lo, std::optional<int64_t> hi);

// GBNF expression for JSON numbers (no exponent) in the range given by integer bounds, each
// inclusive or exclusive.
std::string number_range_gbnf(std::optional<int64_t> lo, bool lo_exclusive,
                              std::optional<int64_t> hi, bool hi_exclusive);

}  // namespace wick::constrain
