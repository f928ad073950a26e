// The JSON Schema visitor shared by json_schema.cpp (structure: objects, arrays, combinators,
// $ref) and json_schema_strings.cpp (leaves: strings, formats, numbers). Not a public header.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace wick::constrain {

using Json = nlohmann::ordered_json;  // keeps the schema's property order

// The JSON rules every schema grammar can use. Whitespace and digit counts are bounded so a
// sampled model cannot wander forever inside them (a subset of JSON, still valid JSON).
extern const char* const kJsonPrimitivesGbnf;

class SchemaConverter {
 public:
  explicit SchemaConverter(const Json& root) : root_(root) {}
  std::string convert();  // the whole grammar, `root` first

 private:
  std::string visit(const Json& schema, const std::string& path);
  std::string typed(const Json& schema, const std::string& path);
  static std::string infer_type(const Json& schema);
  std::string enum_expr(const Json& schema, const std::string& path);
  std::string object_rule(const Json& schema, const std::string& path);
  std::string array_rule(const Json& schema, const std::string& path);
  std::string string_expr(const Json& schema, const std::string& path);
  std::string format_expr(const std::string& format, const std::string& path);
  std::string integer_expr(const Json& schema, const std::string& path);
  std::string number_expr(const Json& schema, const std::string& path);
  static std::optional<int64_t> count_keyword(const Json& schema, const char* key,
                                              const std::string& path);
  Json merge_all_of(const Json& schema, const std::string& path);
  const Json& resolve(const std::string& ref, const std::string& path) const;
  std::string ref_rule(const std::string& ref, const std::string& path);
  std::string add_rule(const std::string& hint, const std::string& body);
  bool reserved(const std::string& name) const;

  const Json& root_;
  std::map<std::string, std::string> rules_;
  std::map<std::string, std::string> ref_rules_;
  int depth_ = 0;
};

}  // namespace wick::constrain
