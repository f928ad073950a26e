// tools / tool_choice / parallel_tool_calls (see tool_request.h): request checks, the messages
// the chat template sees, and the tool-call grammar of the constrained modes.
#include "serve/tool_request.h"

#include <fmt/format.h>

#include <algorithm>

#include "constrain/gbnf_compose.h"
#include "constrain/json_schema.h"
#include "core/error.h"
#include "serve/openai_api.h"

namespace wick::serve {

namespace {

using ojson = nlohmann::ordered_json;

[[noreturn]] void bad(const std::string& param, const std::string& what) {
  throw ApiError(400, fmt::format("{}: {}", param, what), param, "invalid_value");
}

const ojson* field(const ojson& obj, const char* name) {
  auto it = obj.find(name);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

void check_tool(const ojson& t, size_t i, std::vector<std::string>& names) {
  const std::string at = fmt::format("tools[{}]", i);
  if (!t.is_object()) bad(at, "expected an object {\"type\": \"function\", \"function\": {...}}");
  const ojson* type = field(t, "type");
  if (!type || !type->is_string() || *type != "function")
    bad(at + ".type", "expected \"function\" (the only tool type)");
  const ojson* fn = field(t, "function");
  if (!fn || !fn->is_object()) bad(at + ".function", "expected an object with a name");
  const ojson* name = field(*fn, "name");
  if (!name || !name->is_string() || !valid_name(name->get<std::string>()))
    bad(at + ".function.name", "expected 1-64 characters of a-z, A-Z, 0-9, _ and -");
  if (const ojson* d = field(*fn, "description"); d && !d->is_string())
    bad(at + ".function.description", "expected a string");
  if (const ojson* p = field(*fn, "parameters"); p && !p->is_object())
    bad(at + ".function.parameters", "expected a JSON Schema object");
  if (const ojson* s = field(*fn, "strict"); s && !s->is_boolean())
    bad(at + ".function.strict", "expected a boolean");
  const std::string n = name->get<std::string>();
  if (std::find(names.begin(), names.end(), n) != names.end())
    bad(at + ".function.name", fmt::format("\"{}\" is declared twice", n));
  names.push_back(n);
}

void parse_choice(const ojson& c, ToolsRequest& r) {
  const char* expected =
      "expected \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": "
      "{\"name\": ...}}";
  if (c.is_string()) {
    const std::string s = c.get<std::string>();
    if (s == "none")
      r.choice = ToolChoice::kNone;
    else if (s == "auto")
      r.choice = ToolChoice::kAuto;
    else if (s == "required")
      r.choice = ToolChoice::kRequired;
    else
      bad("tool_choice", expected);
  } else if (c.is_object()) {
    const ojson* type = field(c, "type");
    const ojson* fn = field(c, "function");
    const ojson* name = fn && fn->is_object() ? field(*fn, "name") : nullptr;
    if (!type || *type != "function" || !name || !name->is_string()) bad("tool_choice", expected);
    r.choice = ToolChoice::kFunction;
    r.function = name->get<std::string>();
    if (std::find(r.names.begin(), r.names.end(), r.function) == r.names.end())
      bad("tool_choice",
          fmt::format("function \"{}\" is not among the request's tools", r.function));
  } else {
    bad("tool_choice", expected);
  }
  if (r.choice != ToolChoice::kNone && r.names.empty())
    bad("tool_choice", "is only allowed when tools are given");
}

// The Hermes-style description of the tools for a template that does not render them.
std::string tools_system_text(const ojson& tools) {
  std::string s =
      "You may call one or more functions to help with the user's request. The functions are "
      "described as JSON schemas inside <tools></tools>:\n<tools>\n";
  for (const ojson& t : tools) s += t.dump() + "\n";
  s += "</tools>\nTo call a function, write a JSON object with its name and arguments inside "
       "<tool_call></tool_call> tags:\n<tool_call>\n{\"name\": \"function name\", "
       "\"arguments\": {\"argument name\": \"value\"}}\n</tool_call>";
  return s;
}

std::string content_text(const ojson& m) {
  const ojson* c = field(m, "content");
  if (!c) return "";
  if (c->is_string()) return c->get<std::string>();
  std::string out;  // an array of content parts: their text
  if (c->is_array())
    for (const ojson& part : *c)
      if (part.is_object() && part.contains("text") && part["text"].is_string())
        out += part["text"].get<std::string>();
  return out;
}

}  // namespace

ToolParserOptions ToolsRequest::parser_options() const {
  ToolParserOptions o;
  o.format = format;
  o.constrained = constrained();
  o.parallel = parallel;
  o.names = names;
  return o;
}

ToolsRequest parse_tools(const ojson& body, ToolFormat format) {
  ToolsRequest r;
  r.format = format;
  if (const ojson* tools = field(body, "tools")) {
    if (!tools->is_array()) bad("tools", "expected an array of tools");
    if (tools->size() > 128) bad("tools", "at most 128 tools");
    for (size_t i = 0; i < tools->size(); ++i) check_tool((*tools)[i], i, r.names);
    if (!tools->empty()) r.tools = *tools;
  }
  r.choice = r.names.empty() ? ToolChoice::kNone : ToolChoice::kAuto;
  if (const ojson* c = field(body, "tool_choice")) parse_choice(*c, r);
  if (const ojson* p = field(body, "parallel_tool_calls")) {
    if (!p->is_boolean()) bad("parallel_tool_calls", "expected a boolean");
    r.parallel = p->get<bool>();
  }
  return r;
}

bool template_takes_tools(std::string_view src) {
  return src.find("tools") != src.npos;
}

ojson messages_for_template(const ojson& messages, const ToolsRequest& tools,
                            std::string_view src) {
  const bool knows_calls = src.find("tool_calls") != src.npos;
  const bool knows_tool_role = src.find("'tool'") != src.npos || src.find("\"tool\"") != src.npos;
  ojson out = ojson::array();
  bool last_was_result = false;
  for (const ojson& msg : messages) {
    ojson m = msg;
    const std::string role = m.value("role", "");
    // null content (an assistant turn that only calls tools) renders as "", as vLLM does:
    // templates such as Qwen3's test `'</think>' in message.content`.
    if (!m.contains("content") || m["content"].is_null()) m["content"] = "";
    if (role == "assistant" && m.contains("tool_calls") && m["tool_calls"].is_array()) {
      std::string text = content_text(m);
      for (ojson& tc : m["tool_calls"]) {
        if (!tc.is_object() || !tc.contains("function") || !tc["function"].is_object()) continue;
        ojson& fn = tc["function"];
        if (fn.contains("arguments") && fn["arguments"].is_string()) {
          ojson args = ojson::parse(fn["arguments"].get<std::string>(), nullptr, false);
          if (!args.is_discarded()) fn["arguments"] = args;
        }
        if (!knows_calls) {
          const ojson call = {{"name", fn.value("name", "")},
                              {"arguments", fn.value("arguments", ojson::object())}};
          text += (text.empty() ? "" : "\n") + std::string("<tool_call>\n") + call.dump() +
                  "\n</tool_call>";
        }
      }
      if (!knows_calls) {
        m.erase("tool_calls");
        m["content"] = text;
      }
    }
    if (role == "tool" && !knows_tool_role) {
      const std::string block = "<tool_response>\n" + content_text(m) + "\n</tool_response>";
      if (last_was_result) {  // consecutive results: one user turn
        out.back()["content"] = out.back()["content"].get<std::string>() + "\n" + block;
        continue;
      }
      m = {{"role", "user"}, {"content", block}};
      last_was_result = true;
    } else {
      last_was_result = false;
    }
    out.push_back(std::move(m));
  }
  if (tools.tools.is_array() && tools.choice != ToolChoice::kNone && !template_takes_tools(src)) {
    const std::string desc = tools_system_text(tools.tools);
    if (!out.empty() && out[0].value("role", "") == "system" && out[0].contains("content") &&
        out[0]["content"].is_string()) {
      out[0]["content"] = out[0]["content"].get<std::string>() + "\n\n" + desc;
    } else {
      out.insert(out.begin(), ojson{{"role", "system"}, {"content", desc}});
    }
  }
  return out;
}

std::string tool_call_gbnf(const ToolsRequest& r) {
  std::vector<std::string> fns =
      r.choice == ToolChoice::kFunction ? std::vector<std::string>{r.function} : r.names;
  const char* key = r.format == ToolFormat::kLlama3 ? "parameters" : "arguments";
  std::string rules, alts;
  for (size_t k = 0; k < fns.size(); ++k) {
    const size_t i =
        static_cast<size_t>(std::find(r.names.begin(), r.names.end(), fns[k]) - r.names.begin());
    const ojson& fn = r.tools[i]["function"];
    const std::string at = fmt::format("tools[{}].function.parameters", i);
    ojson params = {{"type", "object"}, {"properties", ojson::object()}};
    if (fn.contains("parameters") && !fn["parameters"].is_null()) params = fn["parameters"];
    if (params.contains("type") && params["type"] != "object")
      bad(at, "the parameters of a function must be an object schema (\"type\": \"object\")");
    std::string gbnf;
    try {
      gbnf = constrain::json_schema_to_gbnf(params.dump());
    } catch (const Error& e) {
      bad(at, fmt::format("wick cannot enforce this schema: {}", e.what()));
    }
    const std::string prefix = fmt::format("f{}-", k);
    rules += constrain::gbnf_prefix_rules(gbnf, prefix);
    rules += fmt::format(
        "tc-call-{} ::= \"{{\" tc-ws \"\\\"name\\\"\" tc-ws \":\" tc-ws \"\\\"{}\\\"\" tc-ws "
        "\",\" tc-ws \"\\\"{}\\\"\" tc-ws \":\" {}root tc-ws \"}}\"\n",
        k, fns[k], key, prefix);
    alts += fmt::format("{}tc-call-{}", k ? " | " : "", k);
  }
  std::string root;
  switch (r.format) {
    case ToolFormat::kHermes:
      root = fmt::format(
          "root ::= tc-one{}\ntc-one ::= \"<tool_call>\\n\" tc-call \"\\n</tool_call>\"\n",
          r.parallel ? " (\"\\n\" tc-one)*" : "");
      break;
    case ToolFormat::kMistral:
      root = fmt::format("root ::= \"[\" tc-call{} \"]\"\n",
                         r.parallel ? " (\",\" tc-ws tc-call)*" : "");
      break;
    case ToolFormat::kLlama3:
      root = fmt::format("root ::= tc-call{}\n", r.parallel ? " (\"\\n\" tc-call)*" : "");
      break;
  }
  return root + "tc-call ::= " + alts + "\ntc-ws ::= \" \"?\n" + rules;
}

}  // namespace wick::serve
