// The Jinja engine feature by feature: every snippet in tests/data/chat_templates/engine/
// snippets.json (rendered by Python jinja2 in transformers' environment) must render the same or
// fail the same; plus the bounds that protect against hostile templates.
#include "core/error.h"
#include "tokenizer/jinja_interp.h"
#include "tokenizer/jinja_parser.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace wick::jinja {
namespace {

using ojson = nlohmann::ordered_json;

std::vector<std::pair<std::string, Value>> context_of(const ojson& j) {
  std::vector<std::pair<std::string, Value>> ctx;
  for (auto it = j.begin(); it != j.end(); ++it) ctx.emplace_back(it.key(), from_json(it.value()));
  return ctx;
}

std::string render(const std::string& src,
                   const std::vector<std::pair<std::string, Value>>& ctx = {},
                   const RenderLimits& limits = {}) {
  Interpreter in(parse_template(src), limits);
  return in.render(ctx);
}

TEST(JinjaEngine, SnippetsMatchJinja2) {
  auto path =
      std::filesystem::path(WICK_SOURCE_DIR) / "tests/data/chat_templates/engine/snippets.json";
  std::ifstream file(path);
  ASSERT_TRUE(file.good()) << path;
  std::stringstream ss;
  ss << file.rdbuf();
  ojson data = ojson::parse(ss.str());
  auto ctx = context_of(data["context"]);
  int ok = 0, errors = 0;
  for (const auto& c : data["cases"]) {
    std::string src = c["template"].get<std::string>();
    SCOPED_TRACE(src);
    if (c.contains("expected")) {
      try {
        EXPECT_EQ(render(src, ctx), c["expected"].get<std::string>());
        ++ok;
      } catch (const Error& e) {
        ADD_FAILURE() << "unexpected error: " << e.what();
      }
    } else {
      EXPECT_THROW(render(src, ctx), Error) << "jinja2: " << c["error"].get<std::string>();
      ++errors;
    }
  }
  EXPECT_GE(ok, 80);
  EXPECT_GE(errors, 20);
}

TEST(JinjaEngine, ErrorsSayWhere) {
  try {
    render("ok\n{{ 1 +\n }}");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kParse);
    EXPECT_NE(std::string(e.what()).find("line 3, column 2"), std::string::npos) << e.what();
  }
  try {
    render("a\nb {{ x.y }}");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'x' is undefined"), std::string::npos) << e.what();
  }
  try {
    render("{% recursive %}");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kParse);
  }
  EXPECT_THROW(render("{% for x in y recursive %}{% endfor %}"), Error);
  // Unknown filters and tests fail at parse time, as in jinja2, even in dead branches.
  EXPECT_THROW(parse_template("{% if false %}{{ x|no_such_filter }}{% endif %}"), Error);
  EXPECT_THROW(parse_template("{% if false %}{{ x is no_such_test }}{% endif %}"), Error);
  EXPECT_THROW(render("{% extends 'base' %}"), Error);
}

TEST(JinjaEngine, StringsAreCodePoints) {
  std::vector<std::pair<std::string, Value>> ctx = {{"s", Value::string("añ€😀")}};
  EXPECT_EQ(render("{{ s|length }}|{{ s[1] }}|{{ s[-1] }}|{{ s[::-1] }}|{{ s|list|length }}", ctx),
            "4|ñ|😀|😀€ña|4");
  // Invalid UTF-8 in input does not crash; it decodes as U+FFFD where code points matter.
  ctx = {{"s", Value::string("a\xff")}};
  EXPECT_EQ(render("{{ s|length }}", ctx), "2");
}

TEST(JinjaEngine, HugeRangeFailsClearly) {
  try {
    render("{% for i in range(10000000000) %}x{% endfor %}");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Range too big"), std::string::npos) << e.what();
  }
}

TEST(JinjaEngine, NestedLoopsHitTheStepLimit) {
  RenderLimits limits;
  limits.max_steps = 100000;
  try {
    render("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", {},
           limits);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("evaluation steps"), std::string::npos) << e.what();
  }
}

TEST(JinjaEngine, BulkWorkIsBounded) {
  // Few statements, much work each: copying megabyte strings, building big ranges.
  const char* hostile[] = {
      "{% set big = 'x' * 4000000 %}{% for i in range(100000) %}{% set y = big ~ big %}{% endfor "
      "%}",
      "{% for a in range(100000) %}{{ range(100000)|length }}{% endfor %}",
      "{% set big = 'x' * 4000000 %}{% for i in range(100000) %}{{ big|length }}{% endfor %}",
      "{% set l = range(100000)|list %}{% for i in l %}{% for j in l %}{% endfor %}{% endfor %}",
  };
  for (const char* src : hostile) {
    auto start = std::chrono::steady_clock::now();
    try {
      render(src);
      ADD_FAILURE() << "expected the step limit: " << src;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("evaluation steps"), std::string::npos) << e.what();
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(secs, 20.0) << src;
  }
}

TEST(JinjaEngine, DeepRecursionFailsClearly) {
  try {
    render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("recursion depth"), std::string::npos) << e.what();
  }
}

TEST(JinjaEngine, HugeOutputFailsClearly) {
  RenderLimits limits;
  limits.max_output_bytes = 1 << 20;
  // String doubling through a namespace: 2^40 bytes if unbounded.
  try {
    render(
        "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
        "{% endfor %}{{ ns.s }}",
        {}, limits);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the limit"), std::string::npos) << e.what();
  }
  EXPECT_THROW(render("{{ 'x' * 100000000000 }}", {}, limits), Error);
  EXPECT_THROW(render("{{ [1, 2] * 100000000000 }}", {}, limits), Error);
  EXPECT_THROW(render("{% for i in range(100000) %}{{ 'abcdefghijklmnopqrstuvwxyz' }}{% endfor %}",
                      {}, limits),
               Error);
  EXPECT_THROW(render("{{ ('x' * 900000)|indent(1000)|replace('x', 'yyyyyyyy') }}", {}, limits),
               Error);
}

TEST(JinjaEngine, DeepNestingIsRejectedAtParseTime) {
  std::string deep(5000, '(');
  EXPECT_THROW(render("{{ " + deep + "1" + std::string(5000, ')') + " }}"), Error);
  std::string ifs;
  for (int k = 0; k < 1000; ++k) ifs += "{% if true %}";
  EXPECT_THROW(render(ifs), Error);
  EXPECT_THROW(render("{{ " + std::string(10000, '-') + "1 }}"), Error);
  EXPECT_THROW(render("{{ " + std::string(10000, '[') + " }}"), Error);
}

TEST(JinjaEngine, IntegerOverflowIsAnError) {
  EXPECT_THROW(render("{{ 9223372036854775807 + 1 }}"), Error);
  EXPECT_THROW(render("{{ 2 ** 64 }}"), Error);
  EXPECT_THROW(render("{{ 99999999999999999999 }}"), Error);
  EXPECT_EQ(render("{{ 2 ** 62 }}"), "4611686018427387904");
}

TEST(JinjaEngine, TojsonMatchesJsonDumps) {
  Value v = from_json(ojson::parse(R"({"b": [1, 2.5, null, true, "é\n\u0001"], "a": {}})"));
  JsonDumpOptions opt;
  EXPECT_EQ(json_dumps(v, opt), "{\"b\": [1, 2.5, null, true, \"é\\n\\u0001\"], \"a\": {}}");
  opt.sort_keys = true;
  opt.indent = 2;
  EXPECT_EQ(json_dumps(v, opt),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    2.5,\n    null,\n    true,\n    "
            "\"é\\n\\u0001\"\n  ]\n}");
  opt = JsonDumpOptions{};
  opt.ensure_ascii = true;
  EXPECT_EQ(json_dumps(Value::string("é😀"), opt), "\"\\u00e9\\ud83d\\ude00\"");
}

TEST(JinjaEngine, FloatReprIsShortestRoundTrip) {
  EXPECT_EQ(float_repr(1.0), "1.0");
  EXPECT_EQ(float_repr(0.1), "0.1");
  EXPECT_EQ(float_repr(-2.5e-5), "-2.5e-05");
  EXPECT_EQ(float_repr(1e16), "1e+16");
  EXPECT_EQ(float_repr(123456789012345.6), "123456789012345.6");
  EXPECT_EQ(float_repr(5e-324), "5e-324");
  EXPECT_EQ(float_repr(1.7976931348623157e308), "1.7976931348623157e+308");
}

TEST(JinjaEngine, StrftimeNowFormatsTheDate) {
  std::string out = render("{{ strftime_now('%Y-%m-%d') }}");
  ASSERT_EQ(out.size(), 10u);
  EXPECT_EQ(out[4], '-');
  EXPECT_EQ(out[7], '-');
}

}  // namespace
}  // namespace wick::jinja
