// Tool calls: the parser for each syntax (Hermes / Qwen, Llama 3 JSON, Mistral), whole and fed
// in pieces split at every byte (both must give the same message), malformed and undeclared
// calls kept as content, several calls, parallel_tool_calls off; request checks (400 naming the
// field); the messages a template sees; the tool-call grammar of tool_choice required / named,
// checked by the grammar engine against calls that must and must not be sentences.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "constrain/constraint.h"
#include "constrain/gbnf_compose.h"
#include "constrain/request.h"
#include "serve/openai_api.h"
#include "serve/tool_calls.h"
#include "serve/tool_request.h"
#include "tokenizer/chat_template.h"

namespace wick::serve {
namespace {

using ojson = nlohmann::ordered_json;

ToolParserOptions opts(ToolFormat f, bool constrained = false, bool parallel = true) {
  ToolParserOptions o;
  o.format = f;
  o.constrained = constrained;
  o.parallel = parallel;
  o.names = {"get_weather", "search"};
  return o;
}

// Feeds `text` in the given pieces and folds the deltas.
ParsedMessage feed_pieces(const std::vector<std::string>& pieces, const ToolParserOptions& o) {
  ToolCallParser p(o);
  std::vector<ToolCallDelta> deltas;
  for (const std::string& piece : pieces) p.feed(piece, deltas);
  p.finish(deltas);
  ParsedMessage m;
  apply_deltas(deltas, m);
  return m;
}

void expect_same(const ParsedMessage& a, const ParsedMessage& b, const std::string& what) {
  EXPECT_EQ(a.content, b.content) << what;
  ASSERT_EQ(a.calls.size(), b.calls.size()) << what;
  for (size_t i = 0; i < a.calls.size(); ++i) {
    EXPECT_EQ(a.calls[i].name, b.calls[i].name) << what;
    EXPECT_EQ(a.calls[i].arguments, b.calls[i].arguments) << what;
    EXPECT_EQ(b.calls[i].id.rfind("call_", 0), 0u) << what;
  }
}

// Whole text vs every split into two pieces, and vs one byte at a time.
void expect_split_invariant(const std::string& text, const ToolParserOptions& o) {
  const ParsedMessage whole = parse_tool_output(text, o);
  for (size_t i = 0; i <= text.size(); ++i)
    expect_same(whole, feed_pieces({text.substr(0, i), text.substr(i)}, o),
                "split at " + std::to_string(i) + " of: " + text);
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  expect_same(whole, feed_pieces(bytes, o), "bytewise: " + text);
}

ojson args_of(const ParsedToolCall& c) {
  return ojson::parse(c.arguments);
}

TEST(ToolCallParser, HermesSingleCallWithTextBefore) {
  const std::string text =
      "Let me look that up.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
      "\"Paris\", \"unit\": \"c\"}}\n</tool_call>";
  for (bool constrained : {false, true}) {
    const ParsedMessage m = parse_tool_output(text, opts(ToolFormat::kHermes, constrained));
    EXPECT_EQ(m.content, "Let me look that up.");
    ASSERT_EQ(m.calls.size(), 1u);
    EXPECT_EQ(m.calls[0].name, "get_weather");
    EXPECT_EQ(args_of(m.calls[0]), ojson({{"city", "Paris"}, {"unit", "c"}}));
    EXPECT_EQ(m.calls[0].id.size(), 29u);
    expect_split_invariant(text, opts(ToolFormat::kHermes, constrained));
  }
}

TEST(ToolCallParser, HermesSeveralCallsKeepOrderAndDropLayoutWhitespace) {
  const std::string text =
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>"
      "\n<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": \"a \\\"}\\\" b\", \"n\": "
      "[1, {\"x\": 2}]}}\n</tool_call>\n";
  for (bool constrained : {false, true}) {
    const ParsedMessage m = parse_tool_output(text, opts(ToolFormat::kHermes, constrained));
    EXPECT_EQ(m.content, "");
    ASSERT_EQ(m.calls.size(), 2u);
    EXPECT_EQ(m.calls[0].name, "get_weather");
    EXPECT_EQ(m.calls[1].name, "search");
    EXPECT_EQ(args_of(m.calls[1]), ojson::parse(R"({"q": "a \"}\" b", "n": [1, {"x": 2}]})"));
    EXPECT_NE(m.calls[0].id, m.calls[1].id);
    expect_split_invariant(text, opts(ToolFormat::kHermes, constrained));
    // parallel_tool_calls false: only the first call
    const ParsedMessage one =
        parse_tool_output(text, opts(ToolFormat::kHermes, constrained, false));
    ASSERT_EQ(one.calls.size(), 1u);
    EXPECT_EQ(one.calls[0].name, "get_weather");
  }
}

TEST(ToolCallParser, HermesMalformedOrUndeclaredCallsStayContent) {
  for (const std::string& text : {
           std::string("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": }\n"
                       "</tool_call>"),
           std::string("Sure <tool_call>{\"name\": \"launch_rockets\", \"arguments\": {}}"
                       "</tool_call> done"),
           std::string("<tool_call>[1, 2]</tool_call>"),
           std::string("<tool_call>{\"name\": \"search\", \"arguments\": [1]}</tool_call>"),
           std::string("a <tool_call>{\"name\": \"search\", \"arguments\": {\"q\": \"unclosed"),
           std::string("plain answer, no calls at all"),
           std::string("ends with half a tag <tool_ca"),
       }) {
    const ParsedMessage m = parse_tool_output(text, opts(ToolFormat::kHermes));
    EXPECT_TRUE(m.calls.empty()) << text;
    EXPECT_EQ(m.content, text);
    expect_split_invariant(text, opts(ToolFormat::kHermes));
  }
}

TEST(ToolCallParser, HermesArgumentsAsStringAndUnclosedTag) {
  const std::string text =
      "<tool_call>{\"name\": \"search\", \"arguments\": \"{\\\"q\\\": \\\"x\\\"}\"}";
  const ParsedMessage m = parse_tool_output(text, opts(ToolFormat::kHermes));
  ASSERT_EQ(m.calls.size(), 1u);
  EXPECT_EQ(args_of(m.calls[0]), ojson({{"q", "x"}}));
  expect_split_invariant(text, opts(ToolFormat::kHermes));
}

TEST(ToolCallParser, Llama3JsonWithAndWithoutPythonTag) {
  for (const std::string& text : {
           std::string("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}"),
           std::string("  <|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": "
                       "\"Rome\"}}"),
       }) {
    for (bool constrained : {false, true}) {
      const ParsedMessage m = parse_tool_output(text, opts(ToolFormat::kLlama3, constrained));
      EXPECT_EQ(m.content, "") << text;
      ASSERT_EQ(m.calls.size(), 1u) << text;
      EXPECT_EQ(args_of(m.calls[0]), ojson({{"city", "Rome"}}));
      expect_split_invariant(text, opts(ToolFormat::kLlama3, constrained));
    }
  }
  const std::string two =
      "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}\n{\"name\": \"search\", "
      "\"parameters\": {\"q\": \"}{\"}}";
  for (bool constrained : {false, true}) {
    const ParsedMessage m = parse_tool_output(two, opts(ToolFormat::kLlama3, constrained));
    ASSERT_EQ(m.calls.size(), 2u);
    EXPECT_EQ(args_of(m.calls[1]), ojson({{"q", "}{"}}));
    expect_split_invariant(two, opts(ToolFormat::kLlama3, constrained));
  }
  // JSON that is not a call, and text, stay content
  for (const std::string& text :
       {std::string("{\"answer\": 42}"), std::string("The call would be {\"name\": \"search\"}")}) {
    const ParsedMessage m = parse_tool_output(text, opts(ToolFormat::kLlama3));
    EXPECT_TRUE(m.calls.empty());
    EXPECT_EQ(m.content, text);
    expect_split_invariant(text, opts(ToolFormat::kLlama3));
  }
}

TEST(ToolCallParser, MistralArrayWithAndWithoutMarker) {
  for (const std::string& text : {
           std::string("[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                       "\"Lima\"}}, {\"name\": \"search\", \"arguments\": {\"q\": \"]\"}}]"),
           std::string("[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Lima\"}},"
                       "{\"name\": \"search\", \"arguments\": {\"q\": \"]\"}}]"),
       }) {
    for (bool constrained : {false, true}) {
      const ParsedMessage m = parse_tool_output(text, opts(ToolFormat::kMistral, constrained));
      EXPECT_EQ(m.content, "") << text;
      ASSERT_EQ(m.calls.size(), 2u) << text;
      EXPECT_EQ(m.calls[0].name, "get_weather");
      EXPECT_EQ(args_of(m.calls[1]), ojson({{"q", "]"}}));
      expect_split_invariant(text, opts(ToolFormat::kMistral, constrained));
    }
  }
  for (const std::string& bad :
       {std::string("[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": 3}]"),
        std::string("\n[TOOL\n[1, 2]")}) {  // leading whitespace kept when it is no call
    const ParsedMessage m = parse_tool_output(bad, opts(ToolFormat::kMistral));
    EXPECT_TRUE(m.calls.empty());
    EXPECT_EQ(m.content, bad);
    expect_split_invariant(bad, opts(ToolFormat::kMistral));
  }
}

TEST(ToolCallParser, ConstrainedStreamsArgumentsBeforeTheCallEnds) {
  const std::string text =
      "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": \"long query text\"}}\n"
      "</tool_call>";
  ToolCallParser p(opts(ToolFormat::kHermes, true));
  std::vector<ToolCallDelta> deltas;
  const size_t cut = text.find("query");
  p.feed(text.substr(0, cut), deltas);
  ASSERT_EQ(deltas.size(), 2u);
  EXPECT_EQ(deltas[0].kind, ToolCallDelta::kCallStart);
  EXPECT_EQ(deltas[0].text, "search");
  EXPECT_EQ(deltas[1].kind, ToolCallDelta::kArguments);
  EXPECT_EQ(deltas[1].text, "{\"q\": \"long ");
  // auto mode holds the whole call back until it is complete
  ToolCallParser a(opts(ToolFormat::kHermes, false));
  std::vector<ToolCallDelta> held;
  a.feed(text.substr(0, text.size() - 1), held);
  EXPECT_TRUE(held.empty());
  a.feed(text.substr(text.size() - 1), held);
  EXPECT_EQ(held.size(), 2u);
}

TEST(ToolCallParser, FormatFromTemplate) {
  EXPECT_EQ(tool_format_from_template("{{ '<tool_call>\\n' }}{{ tool_call | tojson }}"),
            ToolFormat::kHermes);
  EXPECT_EQ(tool_format_from_template("{{ '[TOOL_CALLS]' }}"), ToolFormat::kMistral);
  EXPECT_EQ(tool_format_from_template("{{ '<|python_tag|>' }}"), ToolFormat::kLlama3);
  EXPECT_EQ(tool_format_from_template("{{ message.content }}"), ToolFormat::kHermes);
}

// ---- requests ----

ojson tool(const std::string& name, ojson params = nullptr) {
  ojson fn = {{"name", name}, {"description", "d"}};
  if (!params.is_null()) fn["parameters"] = params;
  return {{"type", "function"}, {"function", fn}};
}

std::string rejected_param(const ojson& body) {
  try {
    parse_tools(body, ToolFormat::kHermes);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400);
    return e.param;
  }
  return "(accepted)";
}

TEST(ToolRequest, MalformedToolsAreRejectedNamingTheField) {
  const ojson ok = ojson::array({tool("get_weather")});
  EXPECT_EQ(rejected_param({{"tools", "x"}}), "tools");
  EXPECT_EQ(rejected_param({{"tools", {1}}}), "tools[0]");
  EXPECT_EQ(rejected_param({{"tools", {{{"type", "code"}, {"function", {{"name", "f"}}}}}}}),
            "tools[0].type");
  EXPECT_EQ(rejected_param({{"tools", {{{"type", "function"}}}}}), "tools[0].function");
  EXPECT_EQ(rejected_param({{"tools", {tool("has space")}}}), "tools[0].function.name");
  EXPECT_EQ(rejected_param({{"tools", {tool("f"), tool("f")}}}), "tools[1].function.name");
  EXPECT_EQ(rejected_param({{"tools", {tool("f", "string")}}}), "tools[0].function.parameters");
  EXPECT_EQ(rejected_param({{"tools", ok}, {"tool_choice", "sometimes"}}), "tool_choice");
  EXPECT_EQ(
      rejected_param(
          {{"tools", ok}, {"tool_choice", {{"type", "function"}, {"function", {{"name", "x"}}}}}}),
      "tool_choice");
  EXPECT_EQ(rejected_param({{"tool_choice", "required"}}), "tool_choice");
  EXPECT_EQ(rejected_param({{"tools", ok}, {"parallel_tool_calls", 1}}), "parallel_tool_calls");
  EXPECT_EQ(rejected_param({{"tools", ok}, {"tool_choice", "none"}}), "(accepted)");

  const ToolsRequest r =
      parse_tools({{"tools", ok},
                   {"tool_choice", {{"type", "function"}, {"function", {{"name", "get_weather"}}}}},
                   {"parallel_tool_calls", false}},
                  ToolFormat::kMistral);
  EXPECT_EQ(r.choice, ToolChoice::kFunction);
  EXPECT_EQ(r.function, "get_weather");
  EXPECT_FALSE(r.parallel);
  EXPECT_TRUE(r.constrained());
  EXPECT_EQ(parse_tools({{"tools", ok}}, ToolFormat::kHermes).choice, ToolChoice::kAuto);
  EXPECT_FALSE(parse_tools(ojson::object(), ToolFormat::kHermes).parse_output());
}

TEST(ToolRequest, UnenforceableParametersNameThePath) {
  const ojson params = {{"type", "object"},
                        {"properties", {{"a", {{"type", "integer"}, {"multipleOf", 3}}}}}};
  ToolsRequest r =
      parse_tools({{"tools", {tool("search"), tool("f", params)}}, {"tool_choice", "required"}},
                  ToolFormat::kHermes);
  try {
    tool_call_gbnf(r);
    FAIL() << "accepted a schema with multipleOf";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.param, "tools[1].function.parameters");
    EXPECT_NE(std::string(e.what()).find("#/properties/a"), std::string::npos) << e.what();
  }
  r = parse_tools({{"tools", {tool("f", {{"type", "array"}})}}, {"tool_choice", "required"}},
                  ToolFormat::kHermes);
  EXPECT_THROW(tool_call_gbnf(r), ApiError);
}

// The grammar of tool_choice required / named: its sentences are calls in the model's syntax
// whose arguments follow the schema, and the constrained parser reads them back.
TEST(ToolRequest, GrammarAcceptsExactlyValidCalls) {
  const ojson weather = {
      {"type", "object"},
      {"properties",
       {{"unit", {{"enum", {"c", "f"}}}}, {"city", {{"type", "string"}, {"maxLength", 10}}}}},
      {"required", {"unit", "city"}}};
  const ojson search = {{"type", "object"},
                        {"properties", {{"q", {{"type", "string"}}}}},
                        {"required", {"q"}},
                        {"$defs", {{"unused", {{"type", "integer"}}}}}};
  const ojson tools = {tool("get_weather", weather), tool("search", search), tool("noargs")};
  struct Case {
    ToolFormat format;
    std::string good, good2, bad;
  };
  const std::vector<Case> cases = {
      {ToolFormat::kHermes,
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"unit\": \"c\", \"city\": "
       "\"Oslo\"}}\n</tool_call>",
       "\n<tool_call>\n{\"name\": \"noargs\", \"arguments\": {}}\n</tool_call>",
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"unit\": "
       "\"c\"}}\n</tool_call>"},
      {ToolFormat::kLlama3, "{\"name\": \"search\", \"parameters\": {\"q\": \"x\"}}",
       "\n{\"name\": \"noargs\", \"parameters\": {}}",
       "{\"name\": \"search\", \"parameters\": {\"q\": 1}}"},
      {ToolFormat::kMistral,
       "[{\"name\": \"search\", \"arguments\": {\"q\": \"x\"}}",  // "]" or more calls follow
       ", {\"name\": \"noargs\", \"arguments\": {}}]",
       "[{\"name\": \"get_weather\", \"arguments\": {\"unit\": \"k\", \"city\": \"Oslo\"}}]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(tool_format_name(c.format));
    ToolsRequest r = parse_tools({{"tools", tools}, {"tool_choice", "required"}}, c.format);
    const constrain::Grammar g =
        constrain::spec_to_grammar({constrain::SpecKind::kGrammar, tool_call_gbnf(r), {}});
    const std::string one = c.format == ToolFormat::kMistral ? c.good + "]" : c.good;
    EXPECT_TRUE(constrain::grammar_accepts(g, one)) << one;
    EXPECT_TRUE(constrain::grammar_accepts(g, c.good + c.good2));
    EXPECT_FALSE(constrain::grammar_accepts(g, c.bad)) << c.bad;
    // wrong function name
    std::string renamed = one;
    renamed.replace(renamed.find("\"name\": \"") + 9, 1, "X");
    EXPECT_FALSE(constrain::grammar_accepts(g, renamed)) << renamed;
    // the constrained parser reads the two calls back
    const ParsedMessage m = parse_tool_output(c.good + c.good2, r.parser_options());
    ASSERT_EQ(m.calls.size(), 2u);
    EXPECT_EQ(m.calls[1].name, "noargs");
    EXPECT_EQ(m.calls[1].arguments, "{}");
    // parallel off: one call only
    r.parallel = false;
    const constrain::Grammar g1 =
        constrain::spec_to_grammar({constrain::SpecKind::kGrammar, tool_call_gbnf(r), {}});
    EXPECT_TRUE(constrain::grammar_accepts(g1, one));
    EXPECT_FALSE(constrain::grammar_accepts(g1, c.good + c.good2));
    // a named function: only that one
    ToolsRequest named =
        parse_tools({{"tools", tools},
                     {"tool_choice", {{"type", "function"}, {"function", {{"name", "noargs"}}}}}},
                    c.format);
    const constrain::Grammar gn =
        constrain::spec_to_grammar({constrain::SpecKind::kGrammar, tool_call_gbnf(named), {}});
    EXPECT_FALSE(constrain::grammar_accepts(gn, one));
  }
}

TEST(ToolRequest, GbnfPrefixRulesRenamesOnlyNames) {
  const std::string g = "root ::= item (\"root\" [a-z] item){0,3} # root comment\nitem ::= \"x\"\n";
  EXPECT_EQ(constrain::gbnf_prefix_rules(g, "p-"),
            "p-root ::= p-item (\"root\" [a-z] p-item){0,3} # root comment\np-item ::= \"x\"\n");
}

// ---- what the chat template sees ----

const char* kHermesTemplate =
    "{% if tools %}TOOLS:{% for t in tools %}{{ t.function.name }}={{ t.function.parameters | "
    "tojson }};{% endfor %}\n{% endif %}{% for m in messages %}<{{ m.role }}>{% if m.content %}{{ "
    "m.content }}{% endif %}{% if m.tool_calls %}{% for tc in m.tool_calls %}<tool_call>{{ "
    "tc.function.name }} {{ tc.function.arguments.city }}</tool_call>{% endfor %}{% endif %}{% if "
    "m.role == 'tool' %}[{{ m.tool_call_id }}]{% endif %}\n{% endfor %}";

ojson history() {
  return ojson::parse(R"([
    {"role": "user", "content": "Weather in Oslo?"},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
      "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "-3 C"},
    {"role": "tool", "tool_call_id": "call_2", "content": "snow"}])");
}

TEST(ToolTemplate, ToolsAndHistoryRenderThroughATemplateThatKnowsThem) {
  const ojson params = {{"type", "object"},
                        {"properties", {{"z", {{"type", "string"}}}, {"a", {{"type", "string"}}}}}};
  const ToolsRequest r =
      parse_tools({{"tools", {tool("get_weather", params)}}}, ToolFormat::kHermes);
  const tok::ChatTemplate t(kHermesTemplate, "<s>", "</s>");
  const std::string text =
      t.render(messages_for_template(history(), r, kHermesTemplate), false, r.tools);
  EXPECT_NE(text.find(R"(TOOLS:get_weather={"type": "object", "properties": {"z")"),
            std::string::npos)
      << text;  // the schema in the client's key order
  EXPECT_NE(text.find("<tool_call>get_weather Oslo</tool_call>"), std::string::npos) << text;
  EXPECT_NE(text.find("<tool>-3 C[call_1]"), std::string::npos) << text;
}

// The real Qwen3 template (tests/data/chat_templates): Hermes syntax, tools in <tools>, the
// history's call with its arguments object, the result in <tool_response>.
TEST(ToolTemplate, Qwen3TemplateRendersToolsCallsAndResults) {
  std::ifstream in(std::string(WICK_SOURCE_DIR) + "/tests/data/chat_templates/qwen3.json");
  ASSERT_TRUE(in) << "tests/data/chat_templates/qwen3.json";
  std::stringstream ss;
  ss << in.rdbuf();
  const ojson data = ojson::parse(ss.str());
  const std::string src = data["template"].get<std::string>();
  ASSERT_EQ(tool_format_from_template(src), ToolFormat::kHermes);
  const ojson params = {{"type", "object"},
                        {"properties", {{"zone", {{"type", "string"}}}, {"city", {{"type", "string"}}}}}};
  const ToolsRequest r = parse_tools({{"tools", {tool("get_weather", params)}}}, ToolFormat::kHermes);
  const tok::ChatTemplate t(src, data["bos_token"].get<std::string>(),
                            data["eos_token"].get<std::string>());
  const std::string text = t.render(messages_for_template(history(), r, src), true, r.tools);
  EXPECT_NE(text.find("<tools>"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("properties": {"zone": {"type": "string"}, "city")"), std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(<tool_call>
{"name": "get_weather", "arguments": {"city": "Oslo"}}
</tool_call>)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("<tool_response>\n-3 C\n</tool_response>"), std::string::npos) << text;
  EXPECT_EQ(text.find("You may call one or more functions to help with the user's request. The "
                      "functions are described as JSON"),
            std::string::npos);  // no fallback description: the template has its own
}

TEST(ToolTemplate, ATemplateWithoutToolsGetsThemWrittenIn) {
  const std::string plain = "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}";
  const ToolsRequest r = parse_tools({{"tools", {tool("get_weather")}}}, ToolFormat::kHermes);
  const ojson msgs = messages_for_template(history(), r, plain);
  ASSERT_EQ(msgs.size(), 4u);  // system + user + assistant + one user turn of both results
  EXPECT_EQ(msgs[0]["role"], "system");
  EXPECT_NE(msgs[0]["content"].get<std::string>().find("\"name\":\"get_weather\""),
            std::string::npos);
  EXPECT_EQ(msgs[2]["content"],
            "<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Oslo\"}}\n"
            "</tool_call>");
  EXPECT_FALSE(msgs[2].contains("tool_calls"));
  EXPECT_EQ(msgs[3]["role"], "user");
  EXPECT_EQ(msgs[3]["content"],
            "<tool_response>\n-3 C\n</tool_response>\n<tool_response>\nsnow\n</tool_response>");
  const tok::ChatTemplate t(plain, "<s>", "</s>");
  EXPECT_NO_THROW(t.render(msgs, true));
  // the polyfilled call parses back with the Hermes parser
  const ParsedMessage m =
      parse_tool_output(msgs[2]["content"].get<std::string>(), r.parser_options());
  ASSERT_EQ(m.calls.size(), 1u);
  EXPECT_EQ(m.calls[0].arguments, "{\"city\":\"Oslo\"}");
}

TEST(ToolTemplate, RequestSchemasKeepTheirPropertyOrder) {
  const ojson body = ojson::parse(
      R"({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema":
          {"type": "object", "properties": {"zeta": {"type": "string"}, "alpha": {"type": "integer"}},
           "required": ["zeta", "alpha"]}}}})");
  const auto spec = constrain::spec_from_request(body);
  ASSERT_TRUE(spec);
  const constrain::Grammar g = constrain::spec_to_grammar(*spec);
  EXPECT_TRUE(constrain::grammar_accepts(g, R"({"zeta": "z", "alpha": 1})"));
  EXPECT_FALSE(constrain::grammar_accepts(g, R"({"alpha": 1, "zeta": "z"})"));
}

}  // namespace
}  // namespace wick::serve
