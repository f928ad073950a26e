// OpenAI `tools`, `tool_choice` and `parallel_tool_calls` of a chat request: checked (400 naming
// the field), handed to the chat template (with the history's tool calls and tool results), and,
// for tool_choice "required" or a named function, turned into a grammar whose sentences are
// exactly the model's tool-call syntax around call objects whose arguments follow the
// function's `parameters` schema.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "serve/tool_calls.h"

namespace wick::serve {

enum class ToolChoice { kNone, kAuto, kRequired, kFunction };

struct ToolsRequest {
  nlohmann::ordered_json tools = nullptr;  // as given (the template's `tools`); null: none
  std::vector<std::string> names;          // the declared functions, in order
  ToolChoice choice = ToolChoice::kAuto;
  std::string function;  // kFunction: the one to call
  bool parallel = true;
  ToolFormat format = ToolFormat::kHermes;

  bool parse_output() const { return !names.empty() && choice != ToolChoice::kNone; }
  bool constrained() const {
    return choice == ToolChoice::kRequired || choice == ToolChoice::kFunction;
  }
  ToolParserOptions parser_options() const;
};

// Reads tools / tool_choice / parallel_tool_calls of a chat body; throws ApiError (400, param
// names the field) for malformed tools, an unknown tool_choice or a function not in tools.
ToolsRequest parse_tools(const nlohmann::ordered_json& body, ToolFormat format);

// The request's messages as the template should see them: assistant `tool_calls` arguments
// (JSON strings in OpenAI's API) become objects, as Hugging Face templates expect. A template
// that knows nothing of tools gets them described in the system message in the Hermes syntax,
// earlier calls written as <tool_call> blocks and tool results as <tool_response> user turns.
nlohmann::ordered_json messages_for_template(const nlohmann::ordered_json& messages,
                                             const ToolsRequest& tools,
                                             std::string_view template_source);
// True when the template reads the `tools` variable itself.
bool template_takes_tools(std::string_view template_source);

// GBNF for tool_choice "required" (one of the declared functions; one or more calls when
// parallel) or a named function. Throws ApiError (400) naming tools[i].function.parameters and
// the schema path when a schema cannot be enforced.
std::string tool_call_gbnf(const ToolsRequest& tools);

}  // namespace wick::serve
