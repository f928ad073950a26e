// Tool calls in generated text: which syntax a chat template teaches its model (Hermes / Qwen
// `<tool_call>{...}</tool_call>`, Llama 3.1 JSON `{"name", "parameters"}`, Mistral
// `[TOOL_CALLS][...]`) and an incremental parser that turns the text, fed in pieces as the model
// writes it, into content and tool-call deltas (OpenAI's streamed `delta.tool_calls`). The
// non-streamed response runs the same parser over the whole text, so both give the same calls.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wick::serve {

enum class ToolFormat { kHermes, kLlama3, kMistral };
const char* tool_format_name(ToolFormat f);
// From the template's text: `[TOOL_CALLS]` -> Mistral, `<tool_call>` -> Hermes, `<|python_tag|>`
// or a Llama 3 header template that speaks of "parameters" -> Llama 3; otherwise Hermes (the
// syntax wick then describes to the model itself, see tool_request.h).
ToolFormat tool_format_from_template(std::string_view source);

struct ToolCallDelta {
  enum Kind { kContent, kCallStart, kArguments };
  Kind kind = kContent;
  int index = 0;     // the call's index (kCallStart, kArguments)
  std::string text;  // content text, the function name (kCallStart) or a piece of arguments
  std::string id;    // kCallStart: "call_..."
};

struct ToolParserOptions {
  ToolFormat format = ToolFormat::kHermes;
  // The output follows the tool-call grammar (tool_choice required or a named function): a call
  // is reported as soon as its name is known and its arguments stream as they are written.
  // Otherwise ("auto") a call is reported only once it is complete and valid JSON naming a
  // declared function; anything else stays content.
  bool constrained = false;
  bool parallel = true;            // false: calls after the first are dropped
  std::vector<std::string> names;  // the declared functions
};

class ToolCallParser {
 public:
  explicit ToolCallParser(ToolParserOptions opt);
  // Appends to `out` what `text` (the next piece of output) decides. Text that may be the start
  // of a tool call is held back until it is decided.
  void feed(std::string_view text, std::vector<ToolCallDelta>& out);
  // The output ended: whatever is held back is decided now.
  void finish(std::vector<ToolCallDelta>& out);
  int calls() const { return calls_; }

 private:
  enum class State { kText, kBuffered, kStreamHeader, kStreamArgs, kStreamTail, kDone };
  bool step(std::vector<ToolCallDelta>& out);  // one decision; false when more text is needed
  bool step_text(std::vector<ToolCallDelta>& out);
  bool step_buffered(std::vector<ToolCallDelta>& out);
  bool step_header(std::vector<ToolCallDelta>& out);
  bool step_args(std::vector<ToolCallDelta>& out);
  bool step_tail();
  void enter_call(std::string prefix);
  void content(std::string_view text, std::vector<ToolCallDelta>& out);
  bool emit_call(std::string_view object_text, std::vector<ToolCallDelta>& out);
  void start_call(const std::string& name, std::vector<ToolCallDelta>& out);
  void push(ToolCallDelta d, std::vector<ToolCallDelta>& out);

  ToolParserOptions opt_;
  State state_ = State::kText;
  std::string buf_;          // undecided text
  std::string call_prefix_;  // the marker that opened the current call (content if it fails)
  std::string pending_ws_;   // trailing whitespace of content, dropped next to a call
  bool seen_text_ = false;   // non-whitespace content went out
  int calls_ = 0;
  bool dropping_ = false;  // the current streamed call is beyond the first with parallel off
  // kStreamArgs: JSON scan state of the arguments value
  int depth_ = 0;
  bool in_string_ = false, escape_ = false, value_started_ = false;
};

struct ParsedToolCall {
  std::string id, name, arguments;  // arguments: JSON text
};
struct ParsedMessage {
  std::string content;
  std::vector<ParsedToolCall> calls;
};
// Folds deltas into a message (content concatenated, each call's argument pieces joined).
void apply_deltas(const std::vector<ToolCallDelta>& deltas, ParsedMessage& msg);
// The whole output at once: feed + finish + apply_deltas.
ParsedMessage parse_tool_output(std::string_view text, const ToolParserOptions& opt);

}  // namespace wick::serve
