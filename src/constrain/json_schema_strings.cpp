// JSON Schema leaves -> GBNF: strings (length, pattern, formats) and numbers (integer and
// number ranges with integer bounds). Formats are written so every generated string passes a
// strict checker: dates only use days that exist in every year (no Feb 29).
#include <cmath>

#include "constrain/grammar.h"
#include "constrain/json_schema_internal.h"
#include "constrain/numeric_range.h"
#include "constrain/regex.h"
#include "core/error.h"

namespace wick::constrain {

const char* const kJsonPrimitivesGbnf = R"(ws ::= [ \t\n]{0,12}
jhex ::= [0-9a-fA-F]
jchar ::= [^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" ([0-9a-cA-Ce-fE-F] jhex jhex jhex | [dD] [0-7] jhex jhex))
jstring ::= "\"" jchar* "\""
jinteger ::= "-"? ("0" | [1-9] [0-9]{0,15})
jnumber ::= jinteger ("." [0-9]{1,15})? ([eE] [-+]? [0-9]{1,3})?
jboolean ::= "true" | "false"
jnull ::= "null"
jvalue ::= jobject | jarray | jstring | jnumber | jboolean | jnull
jobject ::= "{" ws (jstring ws ":" ws jvalue (ws "," ws jstring ws ":" ws jvalue)*)? ws "}"
jarray ::= "[" ws (jvalue (ws "," ws jvalue)*)? ws "]"
)";

namespace {

// Pieces of formats (RFC 3339 full-date / partial-time / time-offset).
const char* kDate =
    R"([0-9]{4} "-" (("0" [13578] | "1" [02]) "-" ("0" [1-9] | [12] [0-9] | "3" [01]) | ("0" [469] | "11") "-" ("0" [1-9] | [12] [0-9] | "30") | "02-" ("0" [1-9] | "1" [0-9] | "2" [0-8])))";
const char* kTime =
    R"(([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9]))";

}  // namespace

std::optional<int64_t> SchemaConverter::count_keyword(const Json& schema, const char* key,
                                                      const std::string& path) {
  if (!schema.contains(key)) return std::nullopt;
  const Json& v = schema[key];
  WICK_CHECK(
      v.is_number() && v.get<double>() >= 0 && v.get<double>() == std::floor(v.get<double>()),
      ErrorKind::kInvalidArgument, "{}/{}: must be a non-negative integer", path, key);
  return static_cast<int64_t>(std::min(v.get<double>(), 1e15));
}

std::string SchemaConverter::format_expr(const std::string& format, const std::string& path) {
  std::string body;
  if (format == "date")
    body = kDate;
  else if (format == "time")
    body = kTime;
  else if (format == "date-time")
    body = std::string("(") + kDate + ") \"T\" (" + kTime + ")";
  else if (format == "uuid")
    body = "jhex{8} \"-\" jhex{4} \"-\" jhex{4} \"-\" jhex{4} \"-\" jhex{12}";
  else if (format == "email")  // approximate: a common subset of addr-spec
    body =
        R"([a-zA-Z0-9_+-]{1,32} ("." [a-zA-Z0-9_+-]{1,16}){0,2} "@" [a-zA-Z0-9]{1,32} ("-" [a-zA-Z0-9]{1,16})? ("." [a-zA-Z0-9]{1,24}){0,2} "." [a-zA-Z]{2,8})";
  else if (format == "uri")  // approximate: scheme://host/path with unreserved characters
    body =
        R"([a-z] [a-z0-9+.-]{0,15} "://" [a-zA-Z0-9-]{1,32} ("." [a-zA-Z0-9-]{1,32}){0,4} ("/" [a-zA-Z0-9._~%!$&'()*+,;=:@-]{0,32}){0,8})";
  else if (format == "ipv4")
    body =
        R"(([0-9] | [1-9] [0-9] | "1" [0-9] [0-9] | "2" [0-4] [0-9] | "25" [0-5]) ("." ([0-9] | [1-9] [0-9] | "1" [0-9] [0-9] | "2" [0-4] [0-9] | "25" [0-5])){3})";
  else if (format == "hostname")
    body =
        R"([a-zA-Z0-9] ([a-zA-Z0-9-]{0,30} [a-zA-Z0-9])? ("." [a-zA-Z0-9] ([a-zA-Z0-9-]{0,30} [a-zA-Z0-9])?){0,4})";
  else
    fail(ErrorKind::kInvalidArgument, "{}/format: format '{}' cannot be enforced by wick", path,
         format);
  return add_rule("format-" + format, "\"\\\"\" " + body + " \"\\\"\"");
}

std::string SchemaConverter::string_expr(const Json& schema, const std::string& path) {
  const auto min_len = count_keyword(schema, "minLength", path);
  const auto max_len = count_keyword(schema, "maxLength", path);
  const bool has_len = min_len || max_len;
  if (schema.contains("format")) {
    WICK_CHECK(schema["format"].is_string(), ErrorKind::kInvalidArgument,
               "{}/format: must be a string", path);
    WICK_CHECK(!has_len && !schema.contains("pattern"), ErrorKind::kInvalidArgument,
               "{}: format together with pattern or length limits cannot be enforced", path);
    return format_expr(schema["format"].get<std::string>(), path);
  }
  if (schema.contains("pattern")) {
    WICK_CHECK(schema["pattern"].is_string(), ErrorKind::kInvalidArgument,
               "{}/pattern: must be a string", path);
    WICK_CHECK(!has_len, ErrorKind::kInvalidArgument,
               "{}: pattern together with minLength/maxLength cannot be enforced", path);
    std::string expr;
    try {
      expr = regex_json_string_expr(schema["pattern"].get<std::string>(), "jchar");
    } catch (const Error& e) {
      fail(ErrorKind::kInvalidArgument, "{}/pattern: {}", path, e.what());
    }
    return add_rule(path + "-pattern", "\"\\\"\" " + expr + " \"\\\"\"");
  }
  if (!has_len) return "jstring";
  const int64_t lo = min_len.value_or(0);
  WICK_CHECK(lo <= 1000, ErrorKind::kInvalidArgument, "{}/minLength: above 1000 is not supported",
             path);
  // maxLength above 1000 is capped: shorter strings are a subset of what the schema allows.
  const int64_t hi = max_len ? std::min<int64_t>(*max_len, 1000) : -1;
  WICK_CHECK(hi < 0 || hi >= lo, ErrorKind::kInvalidArgument,
             "{}: minLength {} exceeds maxLength {}", path, lo, hi);
  const std::string reps = hi < 0 ? fmt::format("{{{},}}", lo) : fmt::format("{{{},{}}}", lo, hi);
  return "(\"\\\"\" jchar" + reps + " \"\\\"\")";
}

namespace {

// minimum/maximum and exclusive forms (draft 4 booleans and draft 6+ numbers) as integer
// bounds; `integer` rounds fractional bounds inward, otherwise they are rejected.
struct Bounds {
  std::optional<int64_t> lo, hi;
  bool lo_excl = false, hi_excl = false;
};

Bounds read_bounds(const Json& s, bool integer, const std::string& path) {
  Bounds b;
  auto bound = [&](const char* key) -> std::optional<double> {
    if (!s.contains(key) || s[key].is_boolean()) return std::nullopt;
    WICK_CHECK(s[key].is_number(), ErrorKind::kInvalidArgument, "{}/{}: must be a number", path,
               key);
    const double v = s[key].get<double>();
    WICK_CHECK(std::isfinite(v) && std::fabs(v) < 1e17, ErrorKind::kInvalidArgument,
               "{}/{}: {} is out of range", path, key, v);
    WICK_CHECK(integer || v == std::floor(v), ErrorKind::kInvalidArgument,
               "{}/{}: a non-integer bound ({}) on a number cannot be enforced by wick", path, key,
               v);
    return v;
  };
  auto flag = [&](const char* key) {
    return s.contains(key) && s[key].is_boolean() && s[key].get<bool>();
  };
  std::optional<double> lo = bound("minimum"), hi = bound("maximum");
  bool lo_excl = flag("exclusiveMinimum"), hi_excl = flag("exclusiveMaximum");
  if (auto x = bound("exclusiveMinimum"); x && (!lo || *x >= *lo)) lo = x, lo_excl = true;
  if (auto x = bound("exclusiveMaximum"); x && (!hi || *x <= *hi)) hi = x, hi_excl = true;
  if (integer) {  // integers: make bounds inclusive
    if (lo) b.lo = static_cast<int64_t>(lo_excl ? std::floor(*lo) + 1 : std::ceil(*lo));
    if (hi) b.hi = static_cast<int64_t>(hi_excl ? std::ceil(*hi) - 1 : std::floor(*hi));
    return b;
  }
  if (lo) b.lo = static_cast<int64_t>(*lo);
  if (hi) b.hi = static_cast<int64_t>(*hi);
  b.lo_excl = lo_excl;
  b.hi_excl = hi_excl;
  return b;
}

}  // namespace

std::string SchemaConverter::integer_expr(const Json& schema, const std::string& path) {
  const Bounds b = read_bounds(schema, true, path);
  if (!b.lo && !b.hi) return "jinteger";
  try {
    return add_rule(path + "-int", integer_range_gbnf(b.lo, b.hi));
  } catch (const Error& e) {
    fail(ErrorKind::kInvalidArgument, "{}: {}", path, e.what());
  }
}

std::string SchemaConverter::number_expr(const Json& schema, const std::string& path) {
  const Bounds b = read_bounds(schema, false, path);
  if (!b.lo && !b.hi) return "jnumber";
  try {
    return add_rule(path + "-num", number_range_gbnf(b.lo, b.lo_excl, b.hi, b.hi_excl));
  } catch (const Error& e) {
    fail(ErrorKind::kInvalidArgument, "{}: {}", path, e.what());
  }
}

}  // namespace wick::constrain
