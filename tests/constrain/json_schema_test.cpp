// JSON Schema -> grammar: documents that validate are accepted, ones that break a keyword are
// rejected (checked against hand-written instances), and keywords wick cannot enforce fail
// with the schema path. Also regex, choices and the request parser.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "constrain/constraint.h"
#include "constrain/json_schema.h"
#include "constrain/request.h"
#include "core/error.h"

namespace wick::constrain {
namespace {

bool schema_accepts(const std::string& schema, std::string_view doc) {
  return grammar_accepts(spec_to_grammar({SpecKind::kJsonSchema, schema, {}}), doc);
}

std::string schema_error(const std::string& schema) {
  try {
    spec_to_grammar({SpecKind::kJsonSchema, schema, {}});
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    return e.what();
  }
  return "no error";
}

TEST(JsonSchema, ObjectsRequiredAndOptional) {
  const std::string s = R"({"type":"object","properties":{"id":{"type":"integer"},
    "name":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}}},
    "required":["name"],"additionalProperties":false})";
  EXPECT_TRUE(schema_accepts(s, R"({"name":"x"})"));
  EXPECT_TRUE(schema_accepts(s, R"({"id": 7, "name": "x", "tags": ["a", "b"]})"));
  EXPECT_TRUE(schema_accepts(s, "{\n  \"name\": \"x\",\n  \"tags\": []\n}"));
  EXPECT_FALSE(schema_accepts(s, R"({})"));  // name required
  EXPECT_FALSE(schema_accepts(s, R"({"id": 7})"));
  EXPECT_FALSE(schema_accepts(s, R"({"name":"x","extra":1})"));  // no additional
  EXPECT_FALSE(schema_accepts(s, R"({"id": 1.5, "name": "x"})"));
  EXPECT_FALSE(schema_accepts(s, R"({"name":"x",})"));
  const std::string all_optional =
      R"({"type":"object","properties":{"a":{"type":"null"},"b":{"type":"boolean"}}})";
  EXPECT_TRUE(schema_accepts(all_optional, "{}"));
  EXPECT_TRUE(schema_accepts(all_optional, R"({"b":true})"));
  EXPECT_TRUE(schema_accepts(all_optional, R"({"a":null,"b":false})"));
  EXPECT_FALSE(schema_accepts(all_optional, R"({,"b":true})"));
}

TEST(JsonSchema, EnumsConstAndTypeLists) {
  const std::string s = R"({"type":"object","properties":{"level":{"enum":["low","high",3,null]},
    "v":{"const":"1.0"},"x":{"type":["string","null"]}},"required":["level","v","x"]})";
  EXPECT_TRUE(schema_accepts(s, R"({"level":"low","v":"1.0","x":null})"));
  EXPECT_TRUE(schema_accepts(s, R"({"level":3,"v":"1.0","x":"s"})"));
  EXPECT_FALSE(schema_accepts(s, R"({"level":"mid","v":"1.0","x":null})"));
  EXPECT_FALSE(schema_accepts(s, R"({"level":null,"v":"2.0","x":null})"));
  EXPECT_FALSE(schema_accepts(s, R"({"level":null,"v":"1.0","x":1})"));
}

TEST(JsonSchema, Arrays) {
  const std::string s = R"({"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":3})";
  EXPECT_TRUE(schema_accepts(s, "[1,2]"));
  EXPECT_TRUE(schema_accepts(s, "[1, 2, 3]"));
  EXPECT_FALSE(schema_accepts(s, "[1]"));
  EXPECT_FALSE(schema_accepts(s, "[1,2,3,4]"));
  EXPECT_FALSE(schema_accepts(s, "[]"));
  const std::string tuple =
      R"({"type":"array","prefixItems":[{"type":"number"},{"type":"string"}],"items":false,"minItems":1})";
  EXPECT_TRUE(schema_accepts(tuple, "[1.5]"));
  EXPECT_TRUE(schema_accepts(tuple, R"([1.5, "a"])"));
  EXPECT_FALSE(schema_accepts(tuple, R"([1.5, "a", 2])"));
  EXPECT_FALSE(schema_accepts(tuple, R"(["a"])"));
  EXPECT_FALSE(schema_accepts(tuple, "[]"));
  EXPECT_TRUE(schema_accepts(R"({"type":"array"})", R"([1, "a", {"b": [null]}])"));
  const std::string open_tuple = R"({"prefixItems":[{"type":"integer"}],"minItems":2})";
  EXPECT_TRUE(schema_accepts(open_tuple, R"([1, "x"])"));      // minItems forces one extra item
  EXPECT_FALSE(schema_accepts(open_tuple, R"([1, "x", 2])"));  // more are never generated
  EXPECT_FALSE(schema_accepts(open_tuple, R"(["x", 1])"));
}

TEST(JsonSchema, IntegerRangesAreExact) {
  const std::string s = R"({"type":"integer","minimum":-15,"maximum":123})";
  for (int v = -200; v <= 300; ++v)
    EXPECT_EQ(schema_accepts(s, std::to_string(v)), v >= -15 && v <= 123) << v;
  EXPECT_FALSE(schema_accepts(s, "007"));
  EXPECT_FALSE(schema_accepts(s, "-0"));
  const std::string excl = R"({"type":"integer","exclusiveMinimum":9,"exclusiveMaximum":1000})";
  for (int v : {9, 10, 99, 100, 999, 1000, 5000})
    EXPECT_EQ(schema_accepts(excl, std::to_string(v)), v > 9 && v < 1000) << v;
  const std::string open = R"({"type":"integer","minimum":1})";
  EXPECT_TRUE(schema_accepts(open, "1"));
  EXPECT_TRUE(schema_accepts(open, "123456789012"));
  EXPECT_FALSE(schema_accepts(open, "0"));
  EXPECT_FALSE(schema_accepts(open, "-5"));
}

TEST(JsonSchema, NumberRanges) {
  const std::string s = R"({"type":"number","minimum":0,"exclusiveMaximum":5})";
  for (const char* ok : {"0", "0.0", "4.999", "1", "3.25"})
    EXPECT_TRUE(schema_accepts(s, ok)) << ok;
  for (const char* bad : {"5", "5.0", "-0.1", "-1", "12"})
    EXPECT_FALSE(schema_accepts(s, bad)) << bad;
  const std::string neg = R"({"type":"number","minimum":-2,"maximum":-1})";
  for (const char* ok : {"-2", "-1.5", "-1", "-1.0"}) EXPECT_TRUE(schema_accepts(neg, ok)) << ok;
  for (const char* bad : {"-2.5", "-0.5", "0", "1", "-3"})
    EXPECT_FALSE(schema_accepts(neg, bad)) << bad;
}

TEST(JsonSchema, StringsPatternsAndFormats) {
  const std::string len = R"({"type":"string","minLength":2,"maxLength":3})";
  EXPECT_TRUE(schema_accepts(len, R"("ab")"));
  EXPECT_TRUE(schema_accepts(len, R"("a\n")"));  // an escape is one character
  EXPECT_TRUE(schema_accepts(len, "\"\xC3\xA9t\xC3\xA9\""));
  EXPECT_FALSE(schema_accepts(len, R"("a")"));
  EXPECT_FALSE(schema_accepts(len, R"("abcd")"));
  const std::string pat = R"({"type":"string","pattern":"^[A-Z]{3}-\\d{2,4}$"})";
  EXPECT_TRUE(schema_accepts(pat, R"("ABC-123")"));
  EXPECT_FALSE(schema_accepts(pat, R"("AB-123")"));
  EXPECT_FALSE(schema_accepts(pat, R"("ABC-1")"));
  const std::string search = R"({"type":"string","pattern":"ab+c"})";  // unanchored: a search
  EXPECT_TRUE(schema_accepts(search, R"("xxabbbcyy")"));
  EXPECT_FALSE(schema_accepts(search, R"("xxacyy")"));
  EXPECT_TRUE(schema_accepts(R"({"format":"date"})", R"("2024-02-28")"));
  EXPECT_FALSE(schema_accepts(R"({"format":"date"})", R"("2024-02-30")"));
  EXPECT_FALSE(schema_accepts(R"({"format":"date"})", R"("2024-13-01")"));
  EXPECT_TRUE(schema_accepts(R"({"format":"date-time"})", R"("2024-06-30T23:59:01.5+02:00")"));
  EXPECT_FALSE(schema_accepts(R"({"format":"date-time"})", R"("2024-06-30 23:59:01")"));
  EXPECT_TRUE(schema_accepts(R"({"format":"time"})", R"("08:15:00Z")"));
  EXPECT_TRUE(schema_accepts(R"({"format":"uuid"})", R"("123e4567-e89b-12d3-a456-426614174000")"));
  EXPECT_FALSE(schema_accepts(R"({"format":"uuid"})", R"("123e4567-e89b-12d3-a456-42661417400")"));
  EXPECT_TRUE(schema_accepts(R"({"format":"email"})", R"("jane.doe+x@mail.example.com")"));
  EXPECT_FALSE(schema_accepts(R"({"format":"email"})", R"("jane.doe")"));
  EXPECT_TRUE(schema_accepts(R"({"format":"uri"})", R"("https://example.com/a/b?")") == false);
  EXPECT_TRUE(schema_accepts(R"({"format":"uri"})", R"("https://example.com/a/b")"));
  EXPECT_TRUE(schema_accepts(R"({"format":"ipv4"})", R"("192.168.0.255")"));
  EXPECT_FALSE(schema_accepts(R"({"format":"ipv4"})", R"("192.168.0.256")"));
}

TEST(JsonSchema, RefsDefsRecursionAndCombinators) {
  const std::string tree = R"({"$defs":{"node":{"type":"object","properties":{
    "v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},
    "required":["v"]}},"$ref":"#/$defs/node"})";
  EXPECT_TRUE(
      schema_accepts(tree, R"({"v":1,"kids":[{"v":2},{"v":3,"kids":[{"v":4,"kids":[]}]}]})"));
  EXPECT_FALSE(schema_accepts(tree, R"({"v":1,"kids":[{"w":2}]})"));
  const std::string any_of =
      R"({"anyOf":[{"type":"integer"},{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}]})";
  EXPECT_TRUE(schema_accepts(any_of, "42"));
  EXPECT_TRUE(schema_accepts(any_of, R"({"a":"b"})"));
  EXPECT_FALSE(schema_accepts(any_of, R"("s")"));
  const std::string all_of =
      R"({"definitions":{"base":{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}},
    "allOf":[{"$ref":"#/definitions/base"},{"properties":{"name":{"type":"string"}},"required":["name"]}]})";
  EXPECT_TRUE(schema_accepts(all_of, R"({"id":1,"name":"n"})"));
  EXPECT_FALSE(schema_accepts(all_of, R"({"id":1})"));
  EXPECT_FALSE(schema_accepts(all_of, R"({"name":"n"})"));
  const std::string self =
      R"({"type":"object","properties":{"next":{"anyOf":[{"$ref":"#"},{"type":"null"}]}},"required":["next"]})";
  EXPECT_TRUE(schema_accepts(self, R"({"next":{"next":{"next":null}}})"));
  const std::string map = R"({"type":"object","additionalProperties":{"type":"number"}})";
  EXPECT_TRUE(schema_accepts(map, R"({"a":1,"b":2.5})"));
  EXPECT_FALSE(schema_accepts(map, R"({"a":"x"})"));
}

TEST(JsonSchema, UnenforceableKeywordsNameThePath) {
  EXPECT_NE(schema_error(R"({"type":"object","properties":{"a":{"not":{"type":"string"}}}})")
                .find("#/properties/a/not: keyword 'not' cannot be enforced"),
            std::string::npos);
  EXPECT_NE(schema_error(R"({"type":"number","multipleOf":3})").find("#/multipleOf"),
            std::string::npos);
  EXPECT_NE(schema_error(R"({"type":"array","uniqueItems":true})").find("#/uniqueItems"),
            std::string::npos);
  EXPECT_NE(schema_error(R"({"patternProperties":{"^x":{}}})").find("#/patternProperties"),
            std::string::npos);
  EXPECT_NE(
      schema_error(R"({"type":"string","format":"idn-hostname"})").find("format 'idn-hostname'"),
      std::string::npos);
  EXPECT_NE(
      schema_error(R"({"type":"number","minimum":0.5})").find("#/minimum: a non-integer bound"),
      std::string::npos);
  EXPECT_NE(schema_error(R"({"$ref":"#/$defs/missing"})").find("does not resolve"),
            std::string::npos);
  EXPECT_NE(schema_error(R"({"$ref":"https://example.com/s.json"})").find("not a local reference"),
            std::string::npos);
  EXPECT_NE(schema_error(R"({"type":"integer","minimum":5,"maximum":4})").find("empty"),
            std::string::npos);
  EXPECT_NE(
      schema_error(
          R"({"allOf":[{"properties":{"a":{"type":"string"}}},{"properties":{"a":{"type":"integer"}}}]})")
          .find("#/allOf/1/properties/a: conflicting"),
      std::string::npos);
  EXPECT_NE(schema_error(R"({"type":"string","pattern":"(a)\\1"})").find("backreferences"),
            std::string::npos);
  EXPECT_NE(schema_error("false").find("matches nothing"), std::string::npos);
  EXPECT_NE(schema_error("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(schema_error(R"({"type":"strin"})").find("unknown type 'strin'"), std::string::npos);
  // Annotations are fine.
  EXPECT_EQ(schema_error(
                R"({"title":"t","description":"d","examples":[1],"default":2,"type":"integer"})"),
            "no error");
}

TEST(Regex, WholeMatch) {
  auto re = [](const char* p, const char* s) {
    return grammar_accepts(spec_to_grammar({SpecKind::kRegex, p, {}}), s);
  };
  EXPECT_TRUE(re(R"(\d{3}-\d{4})", "555-1234"));
  EXPECT_FALSE(re(R"(\d{3}-\d{4})", "555-123"));
  EXPECT_TRUE(re(R"((cat|dog)s?)", "dogs"));
  EXPECT_FALSE(re(R"((cat|dog)s?)", "cow"));
  EXPECT_TRUE(re(R"(^[A-Za-z_]\w*$)", "_x1"));
  EXPECT_FALSE(re(R"(^[A-Za-z_]\w*$)", "1x"));
  EXPECT_TRUE(re(R"([^\s,]+(,[^\s,]+)*)", "a,b,c"));
  EXPECT_FALSE(re(R"([^\s,]+(,[^\s,]+)*)", "a, b"));
  EXPECT_TRUE(re(R"(a.c)",
                 "a\xE2\x82\xAC"
                 "c"));
  EXPECT_FALSE(re(R"(a.c)", "a\nc"));
  EXPECT_TRUE(re(R"((?:ab)+?\.\*)", "abab.*"));
  EXPECT_THROW(spec_to_grammar({SpecKind::kRegex, "(?=x)", {}}), Error);
  EXPECT_THROW(spec_to_grammar({SpecKind::kRegex, "a\\b", {}}), Error);
  EXPECT_THROW(spec_to_grammar({SpecKind::kRegex, "(a", {}}), Error);
  EXPECT_THROW(spec_to_grammar({SpecKind::kRegex, "a)", {}}), Error);
  EXPECT_THROW(spec_to_grammar({SpecKind::kRegex, "*a", {}}), Error);
}

TEST(Choice, Literals) {
  const Grammar g = spec_to_grammar({SpecKind::kChoice, {}, {"yes", "no", "say \"maybe\""}});
  EXPECT_TRUE(grammar_accepts(g, "yes"));
  EXPECT_TRUE(grammar_accepts(g, "say \"maybe\""));
  EXPECT_FALSE(grammar_accepts(g, "ye"));
  EXPECT_FALSE(grammar_accepts(g, "yesno"));
  EXPECT_THROW(spec_to_grammar({SpecKind::kChoice, {}, {}}), Error);
}

TEST(Request, ParsesEveryDialect) {
  using nlohmann::json;
  auto spec = [](const char* body) { return spec_from_request(json::parse(body)); };
  EXPECT_FALSE(spec(R"({"messages":[]})").has_value());
  EXPECT_FALSE(spec(R"({"response_format":{"type":"text"}})").has_value());
  EXPECT_EQ(spec(R"({"response_format":{"type":"json_object"}})")->kind, SpecKind::kJsonObject);
  auto js = spec(
      R"({"response_format":{"type":"json_schema","json_schema":{"name":"x","strict":true,"schema":{"type":"integer"}}}})");
  EXPECT_EQ(js->kind, SpecKind::kJsonSchema);
  EXPECT_EQ(json::parse(js->source), json::parse(R"({"type":"integer"})"));
  EXPECT_EQ(spec(R"({"grammar":"root ::= \"a\""})")->kind, SpecKind::kGrammar);
  EXPECT_EQ(spec(R"({"json_schema":{"type":"string"}})")->kind, SpecKind::kJsonSchema);
  EXPECT_EQ(spec(R"({"structured_outputs":{"regex":"a+"}})")->kind, SpecKind::kRegex);
  EXPECT_EQ(spec(R"({"structured_outputs":{"choice":["a","b"]}})")->choices.size(), 2u);
  EXPECT_EQ(spec(R"({"structured_outputs":{"json":{"type":"null"}}})")->kind,
            SpecKind::kJsonSchema);
  EXPECT_EQ(spec(R"({"structured_outputs":{"grammar":"root ::= \"a\""}})")->kind,
            SpecKind::kGrammar);
  EXPECT_EQ(spec(R"({"guided_json":"{\"type\":\"null\"}"})")->kind, SpecKind::kJsonSchema);
  EXPECT_EQ(spec(R"({"guided_regex":"x"})")->source, "x");
  EXPECT_EQ(spec(R"({"guided_choice":["a"]})")->kind, SpecKind::kChoice);
  EXPECT_EQ(spec(R"({"guided_grammar":"root ::= \"a\""})")->kind, SpecKind::kGrammar);
  auto error = [&](const char* body) -> std::string {
    try {
      spec(body);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(error(R"({"response_format":{"type":"xml"}})").find("response_format.type"),
            std::string::npos);
  EXPECT_NE(
      error(R"({"response_format":{"type":"json_schema"}})").find("response_format.json_schema"),
      std::string::npos);
  EXPECT_NE(error(R"({"grammar":"root ::= \"a\"","guided_regex":"a"})").find("only one"),
            std::string::npos);
  EXPECT_NE(error(R"({"guided_choice":[1]})").find("guided_choice[0]"), std::string::npos);
  EXPECT_NE(error(R"({"structured_outputs":{"regex":5}})").find("structured_outputs.regex"),
            std::string::npos);
  EXPECT_NE(error(R"({"json_schema":5})").find("json_schema"), std::string::npos);
}

}  // namespace
}  // namespace wick::constrain
