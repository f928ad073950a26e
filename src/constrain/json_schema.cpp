// JSON Schema -> GBNF (see json_schema.h). One visitor walks the schema and returns a GBNF
// expression per subschema, adding named rules for objects, arrays and $ref targets ($ref
// rules are named before their body is built, which is what makes recursive schemas work).
// Strings, numbers and formats are in json_schema_strings.cpp.
#include "constrain/json_schema.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "constrain/grammar.h"
#include "constrain/json_schema_internal.h"
#include "core/error.h"

namespace wick::constrain {

namespace {

// Keywords that constrain instances but have no grammar here: rejected, naming the path.
const std::set<std::string> kUnsupported = {"not",
                                            "if",
                                            "then",
                                            "else",
                                            "dependentRequired",
                                            "dependentSchemas",
                                            "dependencies",
                                            "patternProperties",
                                            "propertyNames",
                                            "contains",
                                            "minContains",
                                            "maxContains",
                                            "multipleOf",
                                            "unevaluatedItems",
                                            "$dynamicRef",
                                            "$recursiveRef",
                                            "additionalItems"};

// Keywords that are only annotations (or only affect other keywords we handle).
const std::set<std::string> kAnnotations = {"title",
                                            "description",
                                            "examples",
                                            "default",
                                            "$comment",
                                            "$schema",
                                            "$id",
                                            "deprecated",
                                            "readOnly",
                                            "writeOnly",
                                            "$anchor",
                                            "contentMediaType",
                                            "contentEncoding",
                                            "$defs",
                                            "definitions",
                                            "strict",
                                            "name"};

bool constraining(const std::string& key) {
  return !kAnnotations.count(key) && key.rfind("x-", 0) != 0;
}

}  // namespace

std::string SchemaConverter::add_rule(const std::string& hint, const std::string& body) {
  std::string name;
  for (char c : hint)
    name += std::isalnum(static_cast<uint8_t>(c)) ? static_cast<char>(std::tolower(c)) : '-';
  if (name.empty() || !std::isalpha(static_cast<uint8_t>(name[0]))) name = "s-" + name;
  if (name.size() > 40) name.resize(40);
  std::string unique = name;
  for (int k = 2; rules_.count(unique) || reserved(unique); ++k)
    unique = fmt::format("{}-{}", name, k);
  rules_[unique] = body;
  return unique;
}

bool SchemaConverter::reserved(const std::string& name) const {
  static const std::set<std::string> kNames = {"root",    "ws",       "jchar",    "jstring",
                                               "jnumber", "jinteger", "jboolean", "jnull",
                                               "jvalue",  "jobject",  "jarray",   "jhex"};
  return kNames.count(name) > 0;
}

const Json& SchemaConverter::resolve(const std::string& ref, const std::string& path) const {
  WICK_CHECK(ref.rfind("#", 0) == 0, ErrorKind::kInvalidArgument,
             "{}: $ref '{}' is not a local reference (only '#...' is supported)", path, ref);
  const Json* at = &root_;
  size_t i = 1;
  if (ref.size() > 1 && ref[1] != '/')
    fail(ErrorKind::kInvalidArgument, "{}: $ref '{}': anchors are not supported", path, ref);
  while (i < ref.size()) {
    const size_t next = ref.find('/', i + 1);
    std::string token =
        ref.substr(i + 1, next == std::string::npos ? std::string::npos : next - i - 1);
    std::string key;
    for (size_t k = 0; k < token.size(); ++k) {
      if (token[k] == '~' && k + 1 < token.size()) {
        key += token[k + 1] == '1' ? '/' : '~';
        ++k;
      } else if (token[k] == '%' && k + 2 < token.size() &&
                 std::isxdigit(static_cast<uint8_t>(token[k + 1])) &&
                 std::isxdigit(static_cast<uint8_t>(token[k + 2]))) {
        key += static_cast<char>(std::stoi(token.substr(k + 1, 2), nullptr, 16));
        k += 2;
      } else {
        key += token[k];
      }
    }
    if (at->is_object() && at->contains(key)) {
      at = &(*at)[key];
    } else if (at->is_array() && !key.empty() && std::all_of(key.begin(), key.end(), ::isdigit) &&
               std::stoul(key) < at->size()) {
      at = &(*at)[std::stoul(key)];
    } else {
      fail(ErrorKind::kInvalidArgument, "{}: $ref '{}' does not resolve (no '{}')", path, ref, key);
    }
    if (next == std::string::npos) break;
    i = next;
  }
  return *at;
}

std::string SchemaConverter::ref_rule(const std::string& ref, const std::string& path) {
  auto it = ref_rules_.find(ref);
  if (it != ref_rules_.end()) return it->second;
  const Json& target = resolve(ref, path);
  const size_t slash = ref.rfind('/');
  const std::string name =
      add_rule(slash == std::string::npos ? "ref-root" : "ref-" + ref.substr(slash + 1), "");
  ref_rules_[ref] = name;
  rules_[name] = visit(target, ref);
  return name;
}

// Merges allOf members key by key; properties and required combine. Anything that would need
// an intersection of two different constraints on one key is rejected.
Json SchemaConverter::merge_all_of(const Json& schema, const std::string& path) {
  Json merged = Json::object();
  std::vector<std::pair<const Json*, std::string>> parts;
  for (auto it = schema.begin(); it != schema.end(); ++it)
    if (it.key() != "allOf") merged[it.key()] = it.value();
  WICK_CHECK(schema["allOf"].is_array() && !schema["allOf"].empty(), ErrorKind::kInvalidArgument,
             "{}/allOf: must be a non-empty array", path);
  for (size_t k = 0; k < schema["allOf"].size(); ++k) {
    const std::string sub_path = fmt::format("{}/allOf/{}", path, k);
    const Json* sub = &schema["allOf"][k];
    for (int hops = 0; sub->is_object() && sub->contains("$ref") && sub->size() == 1; ++hops) {
      WICK_CHECK(hops < 32, ErrorKind::kInvalidArgument, "{}: $ref chain too long", sub_path);
      sub = &resolve((*sub)["$ref"].get<std::string>(), sub_path);
    }
    if (sub->is_boolean()) {
      WICK_CHECK(sub->get<bool>(), ErrorKind::kInvalidArgument, "{}: schema false matches nothing",
                 sub_path);
      continue;
    }
    WICK_CHECK(sub->is_object(), ErrorKind::kInvalidArgument, "{}: not a schema", sub_path);
    WICK_CHECK(!sub->contains("allOf") && !sub->contains("anyOf") && !sub->contains("oneOf") &&
                   !sub->contains("$ref"),
               ErrorKind::kInvalidArgument,
               "{}: allOf members with their own allOf/anyOf/oneOf/$ref cannot be merged",
               sub_path);
    for (auto it = sub->begin(); it != sub->end(); ++it) {
      const std::string& key = it.key();
      if (!constraining(key)) continue;
      if (key == "properties") {
        Json& props = merged["properties"];
        if (!props.is_object()) props = Json::object();
        for (auto p = it.value().begin(); p != it.value().end(); ++p) {
          WICK_CHECK(!props.contains(p.key()) || props[p.key()] == p.value(),
                     ErrorKind::kInvalidArgument,
                     "{}/properties/{}: conflicting definitions in allOf cannot be merged",
                     sub_path, p.key());
          props[p.key()] = p.value();
        }
      } else if (key == "required") {
        Json& req = merged["required"];
        if (!req.is_array()) req = Json::array();
        for (const Json& r : it.value())
          if (std::find(req.begin(), req.end(), r) == req.end()) req.push_back(r);
      } else {
        WICK_CHECK(!merged.contains(key) || merged[key] == it.value(), ErrorKind::kInvalidArgument,
                   "{}/{}: conflicts with another allOf member; cannot be merged", sub_path, key);
        merged[key] = it.value();
      }
    }
    parts.push_back({sub, sub_path});
  }
  // additionalProperties false in one member forbids the others' extra properties.
  for (const auto& [sub, sub_path] : parts) {
    if (!sub->contains("additionalProperties") || (*sub)["additionalProperties"] != false) continue;
    const Json own = sub->value("properties", Json::object());
    if (merged.contains("properties"))
      for (auto p = merged["properties"].begin(); p != merged["properties"].end(); ++p)
        WICK_CHECK(own.contains(p.key()), ErrorKind::kInvalidArgument,
                   "{}: additionalProperties false forbids property '{}' of another allOf member",
                   sub_path, p.key());
  }
  return merged;
}

std::string SchemaConverter::visit(const Json& schema, const std::string& path) {
  WICK_CHECK(++depth_ < 64, ErrorKind::kInvalidArgument, "{}: schema nested too deeply", path);
  struct Leave {
    int& d;
    ~Leave() { --d; }
  } leave{depth_};
  if (schema.is_boolean()) {
    WICK_CHECK(schema.get<bool>(), ErrorKind::kInvalidArgument, "{}: schema false matches nothing",
               path);
    return "jvalue";
  }
  WICK_CHECK(schema.is_object(), ErrorKind::kInvalidArgument,
             "{}: a schema must be an object or a boolean, got {}", path, schema.type_name());
  for (auto it = schema.begin(); it != schema.end(); ++it) {
    if (kUnsupported.count(it.key()))
      fail(ErrorKind::kInvalidArgument, "{}/{}: keyword '{}' cannot be enforced by wick", path,
           it.key(), it.key());
  }
  if (schema.contains("allOf")) return visit(merge_all_of(schema, path), path);
  if (schema.contains("$ref")) {
    WICK_CHECK(schema["$ref"].is_string(), ErrorKind::kInvalidArgument, "{}/$ref: must be a string",
               path);
    for (auto it = schema.begin(); it != schema.end(); ++it)
      WICK_CHECK(it.key() == "$ref" || !constraining(it.key()), ErrorKind::kInvalidArgument,
                 "{}/{}: keywords beside $ref are not supported (use allOf)", path, it.key());
    return ref_rule(schema["$ref"].get<std::string>(), path);
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    if (!schema.contains(key)) continue;
    const Json& list = schema[key];
    WICK_CHECK(list.is_array() && !list.empty(), ErrorKind::kInvalidArgument,
               "{}/{}: must be a non-empty array", path, key);
    Json rest = Json::object();
    for (auto it = schema.begin(); it != schema.end(); ++it)
      if (it.key() != key && constraining(it.key())) rest[it.key()] = it.value();
    std::string out;
    for (size_t k = 0; k < list.size(); ++k) {
      const std::string sub_path = fmt::format("{}/{}/{}", path, key, k);
      // Sibling keywords apply to every branch: visit allOf [siblings, branch].
      const std::string e = rest.empty()
                                ? visit(list[k], sub_path)
                                : visit(Json{{"allOf", Json::array({rest, list[k]})}}, sub_path);
      out += (out.empty() ? "" : " | ") + e;
    }
    return "(" + out + ")";
  }
  if (schema.contains("const")) return gbnf_literal(schema["const"].dump());
  if (schema.contains("enum")) return enum_expr(schema, path);
  if (schema.value("nullable", false))  // OpenAPI 3.0
    return "(" + typed(schema, path) + " | jnull)";
  return typed(schema, path);
}

std::string SchemaConverter::enum_expr(const Json& schema, const std::string& path) {
  const Json& values = schema["enum"];
  WICK_CHECK(values.is_array() && !values.empty(), ErrorKind::kInvalidArgument,
             "{}/enum: must be a non-empty array", path);
  std::string out;
  for (const Json& v : values) out += (out.empty() ? "" : " | ") + gbnf_literal(v.dump());
  return "(" + out + ")";
}

std::string SchemaConverter::typed(const Json& schema, const std::string& path) {
  std::vector<std::string> types;
  if (schema.contains("type")) {
    const Json& t = schema["type"];
    if (t.is_string())
      types.push_back(t.get<std::string>());
    else if (t.is_array())
      for (const Json& x : t) {
        WICK_CHECK(x.is_string(), ErrorKind::kInvalidArgument, "{}/type: entries must be strings",
                   path);
        types.push_back(x.get<std::string>());
      }
    else
      fail(ErrorKind::kInvalidArgument, "{}/type: must be a string or an array", path);
    WICK_CHECK(!types.empty(), ErrorKind::kInvalidArgument, "{}/type: empty list matches nothing",
               path);
  } else {
    types.push_back(infer_type(schema));
  }
  std::string out;
  for (const std::string& t : types) {
    std::string e;
    if (t == "null")
      e = "jnull";
    else if (t == "boolean")
      e = "jboolean";
    else if (t == "string")
      e = string_expr(schema, path);
    else if (t == "integer")
      e = integer_expr(schema, path);
    else if (t == "number")
      e = number_expr(schema, path);
    else if (t == "object")
      e = object_rule(schema, path);
    else if (t == "array")
      e = array_rule(schema, path);
    else if (t == "any")
      e = "jvalue";
    else
      fail(ErrorKind::kInvalidArgument, "{}/type: unknown type '{}'", path, t);
    out += (out.empty() ? "" : " | ") + e;
  }
  return types.size() == 1 ? out : "(" + out + ")";
}

std::string SchemaConverter::infer_type(const Json& s) {
  for (const char* k : {"properties", "required", "additionalProperties", "minProperties",
                        "maxProperties", "unevaluatedProperties"})
    if (s.contains(k)) return "object";
  for (const char* k : {"items", "prefixItems", "minItems", "maxItems", "uniqueItems"})
    if (s.contains(k)) return "array";
  for (const char* k : {"minLength", "maxLength", "pattern", "format"})
    if (s.contains(k)) return "string";
  for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
    if (s.contains(k)) return "number";
  return "any";
}

std::string SchemaConverter::object_rule(const Json& schema, const std::string& path) {
  const Json props = schema.value("properties", Json::object());
  WICK_CHECK(props.is_object(), ErrorKind::kInvalidArgument, "{}/properties: must be an object",
             path);
  std::set<std::string> required;
  if (schema.contains("required")) {
    WICK_CHECK(schema["required"].is_array(), ErrorKind::kInvalidArgument,
               "{}/required: must be an array", path);
    for (const Json& r : schema["required"]) {
      WICK_CHECK(r.is_string(), ErrorKind::kInvalidArgument, "{}/required: entries must be strings",
                 path);
      required.insert(r.get<std::string>());
    }
  }
  const Json additional = schema.value("additionalProperties", Json(true));
  // (key, value expression, required) in schema order; required names without a schema take
  // any value.
  std::vector<std::tuple<std::string, std::string, bool>> kvs;
  for (auto it = props.begin(); it != props.end(); ++it) {
    const std::string sub = path + "/properties/" + it.key();
    kvs.emplace_back(it.key(), visit(it.value(), sub), required.count(it.key()) > 0);
  }
  for (const std::string& r : required)
    if (!props.contains(r)) {
      WICK_CHECK(additional != false, ErrorKind::kInvalidArgument,
                 "{}/required: '{}' is required but additionalProperties is false", path, r);
      kvs.emplace_back(
          r, additional.is_object() ? visit(additional, path + "/additionalProperties") : "jvalue",
          true);
    }
  const size_t n_required =
      std::count_if(kvs.begin(), kvs.end(), [](auto& kv) { return std::get<2>(kv); });
  if (schema.contains("minProperties"))
    WICK_CHECK(schema["minProperties"].is_number() &&
                   schema["minProperties"].get<double>() <= static_cast<double>(n_required),
               ErrorKind::kInvalidArgument,
               "{}/minProperties: more than the required properties cannot be enforced", path);
  if (schema.contains("maxProperties"))
    WICK_CHECK(schema["maxProperties"].is_number() &&
                   schema["maxProperties"].get<double>() >= static_cast<double>(kvs.size()),
               ErrorKind::kInvalidArgument,
               "{}/maxProperties: fewer than the listed properties cannot be enforced", path);
  if (kvs.empty()) {
    if (additional.is_object()) {  // a map: any keys, each value under the schema
      const std::string v = visit(additional, path + "/additionalProperties");
      const std::string kv = "jstring ws \":\" ws " + v;
      std::string more = "*";
      if (auto max = count_keyword(schema, "maxProperties", path)) {
        if (*max == 0) return "(\"{\" ws \"}\")";
        more = fmt::format("{{0,{}}}", std::min<int64_t>(*max - 1, 1000));
      }
      return add_rule(path + "-map",
                      "\"{\" ws (" + kv + " (ws \",\" ws " + kv + ")" + more + ")? ws \"}\"");
    }
    if (additional == false) return "(\"{\" ws \"}\")";
    return "jobject";
  }
  // Extra properties are never generated (a subset of what additionalProperties allows).
  // tail(i, first): properties i.. when `first` means nothing was written yet (no comma).
  std::vector<std::string> kv_expr;
  for (auto& [key, value, req] : kvs)
    kv_expr.push_back(gbnf_literal(Json(key).dump()) + " ws \":\" ws " + value);
  std::string later;  // properties i+1.. after something was written ("" : none left)
  std::string first;  // properties i+1.. when nothing was written yet
  for (size_t i = kvs.size(); i-- > 0;) {
    const bool req = std::get<2>(kvs[i]);
    const std::string sep_kv = "ws \",\" ws " + kv_expr[i];
    const std::string new_later =
        (req ? sep_kv : "(" + sep_kv + ")?") + (later.empty() ? "" : " " + later);
    const std::string started = kv_expr[i] + (later.empty() ? "" : " " + later);
    const std::string new_first =
        req ? started : "(" + started + " | " + (first.empty() ? "\"\"" : first) + ")";
    // Named tails keep the grammar linear in the number of properties.
    later = add_rule(path + "-after-" + std::get<0>(kvs[i]), new_later);
    first = add_rule(path + "-from-" + std::get<0>(kvs[i]), new_first);
  }
  return add_rule(path == "#" ? "object" : path, "\"{\" ws " + first + " ws \"}\"");
}
std::string SchemaConverter::array_rule(const Json& schema, const std::string& path) {
  std::vector<std::string> prefix;
  const Json* prefix_items = schema.contains("prefixItems") ? &schema["prefixItems"]
                             : schema.contains("items") && schema["items"].is_array()
                                 ? &schema["items"]
                                 : nullptr;
  if (prefix_items) {
    WICK_CHECK(prefix_items->is_array(), ErrorKind::kInvalidArgument,
               "{}/prefixItems: must be an array", path);
    for (size_t k = 0; k < prefix_items->size(); ++k)
      prefix.push_back(visit((*prefix_items)[k], fmt::format("{}/prefixItems/{}", path, k)));
  }
  int64_t hi = -1;  // -1: unbounded
  std::string item = "jvalue";
  if (schema.contains("items") && !schema["items"].is_array()) {
    if (schema["items"] == false)
      hi = static_cast<int64_t>(prefix.size());
    else
      item = visit(schema["items"], path + "/items");
  }
  const int64_t lo = count_keyword(schema, "minItems", path).value_or(0);
  // A tuple without `items`: extra items of any value are allowed but never needed, and a
  // sampled model tends to repeat them until max tokens, so only minItems forces any.
  if (!prefix.empty() && !(schema.contains("items") && !schema["items"].is_array()))
    hi = std::max<int64_t>(static_cast<int64_t>(prefix.size()), lo);
  if (auto m = count_keyword(schema, "maxItems", path)) hi = hi < 0 ? *m : std::min(hi, *m);
  WICK_CHECK(hi < 0 || lo <= hi, ErrorKind::kInvalidArgument,
             "{}: minItems {} exceeds the items allowed ({})", path, lo, hi);
  WICK_CHECK(lo <= 1000, ErrorKind::kInvalidArgument, "{}/minItems: above 1000 is not supported",
             path);
  if (schema.value("uniqueItems", false))
    WICK_CHECK(hi >= 0 && hi <= 1, ErrorKind::kInvalidArgument,
               "{}/uniqueItems: cannot be enforced by wick", path);
  if (hi == 0) return "(\"[\" ws \"]\")";
  const int64_t cap = hi < 0 ? -1 : std::min<int64_t>(hi, 1000);  // a subset when capped
  // Elements from index i on, each after a comma.
  auto rest_from = [&](int64_t i) {
    const int64_t need = std::max<int64_t>(0, lo - i);
    std::string reps = cap < 0 ? (need == 0 ? "*" : fmt::format("{{{},}}", need))
                               : fmt::format("{{{},{}}}", need, cap - i);
    if (cap >= 0 && cap - i <= 0) return std::string();
    return "(ws \",\" ws " + item + ")" + reps;
  };
  std::string tail;
  const int64_t n_pre = static_cast<int64_t>(prefix.size());
  const int64_t n_gen = cap < 0 ? n_pre : std::min(n_pre, cap);
  if (n_gen == 0) {
    const std::string more = rest_from(1);
    tail = item + (more.empty() ? "" : " " + more);
  }
  for (int64_t i = n_gen - 1; i >= 0; --i) {
    const std::string after = i + 1 < n_gen ? tail : rest_from(n_pre);
    std::string elem = prefix[static_cast<size_t>(i)] + (after.empty() ? "" : " " + after);
    if (i > 0) elem = "ws \",\" ws " + elem;
    if (i >= lo && i > 0) elem = "(" + elem + ")?";
    tail = add_rule(fmt::format("{}-from-{}", path, i), elem);
  }
  return add_rule(path == "#" ? "array" : path,
                  "\"[\" ws " + (lo == 0 ? "(" + tail + ")?" : tail) + " ws \"]\"");
}

std::string SchemaConverter::convert() {
  const std::string body = visit(root_, "#");
  std::string out = "root ::= ws " + body + "\n" + std::string(kJsonPrimitivesGbnf);
  for (const auto& [name, rule] : rules_) out += name + " ::= " + rule + "\n";
  return out;
}

std::string json_schema_to_gbnf(std::string_view schema_json) {
  Json schema;
  try {
    schema = Json::parse(schema_json);
  } catch (const std::exception& e) {
    fail(ErrorKind::kInvalidArgument, "json_schema: not valid JSON: {}", e.what());
  }
  return SchemaConverter(schema).convert();
}

std::string json_object_gbnf() {
  return "root ::= ws jobject\n" + std::string(kJsonPrimitivesGbnf);
}

}  // namespace wick::constrain
