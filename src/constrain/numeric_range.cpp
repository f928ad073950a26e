// Digit-range grammars (see numeric_range.h). [a, b] is split by digit count, and each
// same-length range recursively by its first digit: 123..456 = 1(2[3-9]|[3-9][0-9]) |
// [2-3][0-9][0-9] | 4([0-4][0-9]|5[0-6]).
#include "constrain/numeric_range.h"

#include <algorithm>
#include <vector>

#include "core/error.h"

namespace wick::constrain {

namespace {

std::string digit_class(char lo, char hi) {
  return lo == hi ? fmt::format("\"{}\"", lo) : fmt::format("[{}-{}]", lo, hi);
}

std::string any_digits(size_t n) {
  if (n == 0) return "";
  return n == 1 ? "[0-9]" : fmt::format("[0-9]{{{}}}", n);
}

std::string join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + " " + b;
}

// Equal-length digit strings A <= B.
std::string same_length(const std::string& a, const std::string& b) {
  const size_t n = a.size();
  if (n == 0) return "";
  if (a == b) return fmt::format("\"{}\"", a);
  if (n == 1) return digit_class(a[0], b[0]);
  const std::string ra = a.substr(1), rb = b.substr(1);
  const std::string zeros(n - 1, '0'), nines(n - 1, '9');
  if (ra == zeros && rb == nines) return join(digit_class(a[0], b[0]), any_digits(n - 1));
  if (a[0] == b[0]) return join(digit_class(a[0], a[0]), fmt::format("({})", same_length(ra, rb)));
  std::vector<std::string> alts;
  alts.push_back(join(digit_class(a[0], a[0]), fmt::format("({})", same_length(ra, nines))));
  if (a[0] + 1 <= b[0] - 1)
    alts.push_back(join(digit_class(static_cast<char>(a[0] + 1), static_cast<char>(b[0] - 1)),
                        any_digits(n - 1)));
  alts.push_back(join(digit_class(b[0], b[0]), fmt::format("({})", same_length(zeros, rb))));
  std::string out;
  for (const std::string& s : alts) out += (out.empty() ? "" : " | ") + s;
  return out;
}

int64_t pow10(size_t n) {
  int64_t v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

// Non-negative integers in [a, b] (b < 10^16), no leading zeros.
std::string nonneg_range(int64_t a, int64_t b) {
  std::vector<std::string> alts;
  const size_t la = std::to_string(a).size(), lb = std::to_string(b).size();
  for (size_t len = la; len <= lb; ++len) {
    const int64_t lo = std::max(a, len == 1 ? 0 : pow10(len - 1));
    const int64_t hi = std::min(b, pow10(len) - 1);
    if (lo > hi) continue;
    alts.push_back(fmt::format("({})", same_length(std::to_string(lo), std::to_string(hi))));
  }
  std::string out;
  for (const std::string& s : alts) out += (out.empty() ? "" : " | ") + s;
  return fmt::format("({})", out);
}

std::string alternatives(const std::vector<std::string>& alts) {
  std::string out;
  for (const std::string& s : alts) out += (out.empty() ? "" : " | ") + s;
  return fmt::format("({})", out);
}

const char* kFraction = "(\".\" [0-9]{1,15})";
const char* kZeroFraction = "(\".\" \"0\"{1,15})";
const char* kPositiveFraction = "(\".\" [0-9]{0,14} [1-9])";

// Non-negative decimals d with integer part bounds: a (<)= d (<)= b, b absent = unbounded.
void decimal_range(int64_t a, bool a_excl, std::optional<int64_t> b, bool b_excl,
                   std::vector<std::string>& alts, const std::string& sign) {
  const int64_t top = b ? *b : kIntegerLimit - 1;
  if (b && *b == a) {
    if (!a_excl && !b_excl)
      alts.push_back(sign + "\"" + std::to_string(a) + "\" " + kZeroFraction + "?");
    return;
  }
  if (a + 1 <= top - (b ? 1 : 0))
    alts.push_back(sign + nonneg_range(a + 1, b ? top - 1 : top) + " " + kFraction + "?");
  alts.push_back(sign + "\"" + std::to_string(a) + "\" " +
                 (a_excl ? std::string(kPositiveFraction) : std::string(kFraction) + "?"));
  if (b && !b_excl) alts.push_back(sign + "\"" + std::to_string(*b) + "\" " + kZeroFraction + "?");
}

}  // namespace

std::string integer_range_gbnf(std::optional<int64_t> lo, std::optional<int64_t> hi) {
  if (lo && *lo <= -kIntegerLimit) lo.reset();
  if (hi && *hi >= kIntegerLimit) hi.reset();
  WICK_CHECK(!lo || *lo < kIntegerLimit, ErrorKind::kInvalidArgument,
             "integer minimum {} has more than {} digits", *lo, kMaxIntegerDigits);
  WICK_CHECK(!hi || *hi > -kIntegerLimit, ErrorKind::kInvalidArgument,
             "integer maximum {} has more than {} digits", *hi, kMaxIntegerDigits);
  WICK_CHECK(!lo || !hi || *lo <= *hi, ErrorKind::kInvalidArgument,
             "integer range [{}, {}] is empty", *lo, *hi);
  std::vector<std::string> alts;
  if (!lo || *lo < 0) {  // negatives: -|x| with |x| in [max(1, -hi), -lo]
    const int64_t abs_lo = hi && *hi < 0 ? -*hi : 1;
    const int64_t abs_hi = lo ? -*lo : kIntegerLimit - 1;
    alts.push_back("\"-\" " + nonneg_range(abs_lo, abs_hi));
  }
  if (!hi || *hi >= 0)
    alts.push_back(nonneg_range(lo ? std::max<int64_t>(*lo, 0) : 0, hi ? *hi : kIntegerLimit - 1));
  return alternatives(alts);
}

std::string number_range_gbnf(std::optional<int64_t> lo, bool lo_excl, std::optional<int64_t> hi,
                              bool hi_excl) {
  for (auto* bound : {&lo, &hi})
    WICK_CHECK(!*bound || (**bound > -kIntegerLimit && **bound < kIntegerLimit),
               ErrorKind::kInvalidArgument, "number bound {} has more than {} digits", **bound,
               kMaxIntegerDigits);
  WICK_CHECK(!lo || !hi || *lo < *hi || (*lo == *hi && !lo_excl && !hi_excl),
             ErrorKind::kInvalidArgument, "number range is empty");
  std::vector<std::string> alts;
  if (!hi || *hi > 0 || (*hi == 0 && !hi_excl)) {  // x >= 0
    const bool from_lo = lo && *lo >= 0;
    decimal_range(from_lo ? *lo : 0, from_lo && lo_excl, hi, hi_excl, alts, "");
  }
  if (!lo || *lo < 0) {  // x < 0: x = -d
    const bool from_hi = hi && *hi < 0;
    std::optional<int64_t> d_hi;
    if (lo) d_hi = -*lo;
    decimal_range(from_hi ? -*hi : 0, from_hi ? hi_excl : true, d_hi, lo_excl, alts, "\"-\" ");
  }
  WICK_CHECK(!alts.empty(), ErrorKind::kInvalidArgument, "number range is empty");
  return alternatives(alts);
}

}  // namespace wick::constrain
