// Request body -> Spec (see request.h). Each accepted field is read by one small function;
// the fields found are collected first so that two competing constraints are an error.
#include "constrain/request.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace wick::constrain {

namespace {

using json = nlohmann::ordered_json;

std::string schema_text(const json& v, const std::string& field) {
  if (v.is_string()) return v.get<std::string>();  // some clients send the schema as a string
  WICK_CHECK(v.is_object() || v.is_boolean(), ErrorKind::kInvalidArgument,
             "{}: a JSON schema must be an object, got {}", field, v.type_name());
  return v.dump();
}

std::string string_field(const json& v, const std::string& field) {
  WICK_CHECK(v.is_string(), ErrorKind::kInvalidArgument, "{}: must be a string, got {}", field,
             v.type_name());
  WICK_CHECK(!v.get<std::string>().empty(), ErrorKind::kInvalidArgument, "{}: is empty", field);
  return v.get<std::string>();
}

Spec choice_spec(const json& v, const std::string& field) {
  WICK_CHECK(v.is_array() && !v.empty(), ErrorKind::kInvalidArgument,
             "{}: must be a non-empty array of strings", field);
  Spec s{SpecKind::kChoice, {}, {}};
  for (size_t i = 0; i < v.size(); ++i) {
    WICK_CHECK(v[i].is_string(), ErrorKind::kInvalidArgument, "{}[{}]: must be a string", field, i);
    s.choices.push_back(v[i].get<std::string>());
  }
  return s;
}

std::optional<Spec> response_format_spec(const json& rf) {
  WICK_CHECK(rf.is_object(), ErrorKind::kInvalidArgument, "response_format: must be an object");
  WICK_CHECK(rf.contains("type") && rf["type"].is_string(), ErrorKind::kInvalidArgument,
             "response_format.type: missing (text, json_object or json_schema)");
  const std::string type = rf["type"].get<std::string>();
  if (type == "text") return std::nullopt;
  if (type == "json_object") {
    if (rf.contains("schema"))  // llama.cpp accepts a schema here too
      return Spec{SpecKind::kJsonSchema, schema_text(rf["schema"], "response_format.schema"), {}};
    return Spec{SpecKind::kJsonObject, {}, {}};
  }
  if (type == "json_schema") {
    WICK_CHECK(rf.contains("json_schema") && rf["json_schema"].is_object(),
               ErrorKind::kInvalidArgument, "response_format.json_schema: missing object");
    const json& js = rf["json_schema"];
    if (js.contains("name"))
      WICK_CHECK(js["name"].is_string(), ErrorKind::kInvalidArgument,
                 "response_format.json_schema.name: must be a string");
    if (js.contains("strict"))
      WICK_CHECK(js["strict"].is_boolean() || js["strict"].is_null(), ErrorKind::kInvalidArgument,
                 "response_format.json_schema.strict: must be a boolean");
    WICK_CHECK(js.contains("schema"), ErrorKind::kInvalidArgument,
               "response_format.json_schema.schema: missing");
    return Spec{
        SpecKind::kJsonSchema, schema_text(js["schema"], "response_format.json_schema.schema"), {}};
  }
  fail(ErrorKind::kInvalidArgument,
       "response_format.type: '{}' is not one of text, json_object, json_schema", type);
}

void structured_outputs(const json& so, const std::string& prefix,
                        std::vector<std::pair<std::string, Spec>>& found) {
  WICK_CHECK(so.is_object(), ErrorKind::kInvalidArgument, "{}: must be an object", prefix);
  for (auto it = so.begin(); it != so.end(); ++it) {
    const std::string field = prefix + "." + it.key();
    if (it.value().is_null()) continue;
    if (it.key() == "json")
      found.push_back({field, {SpecKind::kJsonSchema, schema_text(it.value(), field), {}}});
    else if (it.key() == "regex")
      found.push_back({field, {SpecKind::kRegex, string_field(it.value(), field), {}}});
    else if (it.key() == "choice")
      found.push_back({field, choice_spec(it.value(), field)});
    else if (it.key() == "grammar")
      found.push_back({field, {SpecKind::kGrammar, string_field(it.value(), field), {}}});
    else if (it.key() == "json_object") {
      if (it.value() == true) found.push_back({field, {SpecKind::kJsonObject, {}, {}}});
    } else if (it.key() == "structural_tag")
      fail(ErrorKind::kInvalidArgument, "{}: not supported by wick", field);
    // other keys (backend, disable_fallback, whitespace_pattern...) only tune the engine
  }
}

}  // namespace

std::optional<Spec> spec_from_request(const json& body) {
  WICK_CHECK(body.is_object(), ErrorKind::kInvalidArgument, "request body must be a JSON object");
  std::vector<std::pair<std::string, Spec>> found;
  if (body.contains("response_format") && !body["response_format"].is_null())
    if (auto s = response_format_spec(body["response_format"]))
      found.push_back({"response_format", *s});
  if (body.contains("grammar") && !body["grammar"].is_null())
    found.push_back(
        {"grammar", {SpecKind::kGrammar, string_field(body["grammar"], "grammar"), {}}});
  if (body.contains("json_schema") && !body["json_schema"].is_null())
    found.push_back({"json_schema",
                     {SpecKind::kJsonSchema, schema_text(body["json_schema"], "json_schema"), {}}});
  if (body.contains("structured_outputs") && !body["structured_outputs"].is_null())
    structured_outputs(body["structured_outputs"], "structured_outputs", found);
  if (body.contains("guided_json") && !body["guided_json"].is_null())
    found.push_back({"guided_json",
                     {SpecKind::kJsonSchema, schema_text(body["guided_json"], "guided_json"), {}}});
  if (body.contains("guided_regex") && !body["guided_regex"].is_null())
    found.push_back({"guided_regex",
                     {SpecKind::kRegex, string_field(body["guided_regex"], "guided_regex"), {}}});
  if (body.contains("guided_choice") && !body["guided_choice"].is_null())
    found.push_back({"guided_choice", choice_spec(body["guided_choice"], "guided_choice")});
  if (body.contains("guided_grammar") && !body["guided_grammar"].is_null())
    found.push_back(
        {"guided_grammar",
         {SpecKind::kGrammar, string_field(body["guided_grammar"], "guided_grammar"), {}}});
  if (found.empty()) return std::nullopt;
  WICK_CHECK(found.size() == 1, ErrorKind::kInvalidArgument,
             "{} and {}: a request may carry only one output constraint", found[0].first,
             found[1].first);
  return found[0].second;
}

std::optional<Spec> spec_from_request(const nlohmann::json& body) {
  return spec_from_request(json(body));
}

}  // namespace wick::constrain
