// Checked access to tokenizer.json fields: a missing or mistyped field becomes Error(kParse)
// naming the JSON path ("pre_tokenizer.pretokenizers[1].pattern"), never an nlohmann exception.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "core/error.h"

namespace wick::tok {

using Json = nlohmann::json;

inline const Json& json_field(const Json& j, const char* key, std::string_view where) {
  if (!j.is_object()) fail(ErrorKind::kParse, "tokenizer.json: {} is not an object", where);
  const auto it = j.find(key);
  if (it == j.end()) fail(ErrorKind::kParse, "tokenizer.json: {} has no field '{}'", where, key);
  return *it;
}

inline std::string json_string(const Json& j, const char* key, std::string_view where) {
  const Json& v = json_field(j, key, where);
  if (!v.is_string()) fail(ErrorKind::kParse, "tokenizer.json: {}.{} is not a string", where, key);
  return v.get<std::string>();
}

// Optional fields: absent or null gives the fallback.
inline bool json_bool_or(const Json& j, const char* key, bool fallback, std::string_view where) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) fail(ErrorKind::kParse, "tokenizer.json: {}.{} is not a bool", where, key);
  return it->get<bool>();
}

inline std::string json_string_or(const Json& j, const char* key, const std::string& fallback,
                                  std::string_view where) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_string())
    fail(ErrorKind::kParse, "tokenizer.json: {}.{} is not a string", where, key);
  return it->get<std::string>();
}

inline int64_t json_int(const Json& j, const char* key, std::string_view where) {
  const Json& v = json_field(j, key, where);
  if (!v.is_number_integer())
    fail(ErrorKind::kParse, "tokenizer.json: {}.{} is not an integer", where, key);
  return v.get<int64_t>();
}

inline const Json& json_array(const Json& j, const char* key, std::string_view where) {
  const Json& v = json_field(j, key, where);
  if (!v.is_array()) fail(ErrorKind::kParse, "tokenizer.json: {}.{} is not an array", where, key);
  return v;
}

// A {"String": s} or {"Regex": r} pattern object as used by Split and Replace.
struct JsonPattern {
  std::string text;
  bool is_regex = false;
};
inline JsonPattern json_pattern(const Json& j, std::string_view where) {
  const Json& p = json_field(j, "pattern", where);
  if (p.is_object() && p.contains("String") && p["String"].is_string())
    return {p["String"].get<std::string>(), false};
  if (p.is_object() && p.contains("Regex") && p["Regex"].is_string())
    return {p["Regex"].get<std::string>(), true};
  fail(ErrorKind::kParse, "tokenizer.json: {}.pattern is neither {{\"String\"}} nor {{\"Regex\"}}",
       where);
}

}  // namespace wick::tok
