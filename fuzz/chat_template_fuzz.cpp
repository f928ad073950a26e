// libFuzzer target: arbitrary bytes as a chat template source, parsed and rendered against a
// fixed conversation with tools. Every failure must be a wick::Error; bounds are tightened so
// hostile inputs fail fast instead of timing out.
#include "core/error.h"
#include "tokenizer/chat_template.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

const nlohmann::ordered_json& conversation() {
  static const auto messages = nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": [{"type": "text", "text": "Weather?"}, {"type": "image"}]},
    {"role": "assistant", "content": "", "tool_calls": [{"type": "function",
      "function": {"name": "get_weather", "arguments": {"city": "Zürich"}}}]},
    {"role": "tool", "content": "21.5"},
    {"role": "assistant", "content": "<think>ok</think>It is 21.5°C."}
  ])");
  return messages;
}

const nlohmann::ordered_json& tools() {
  static const auto t = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object",
    "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])");
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string source(reinterpret_cast<const char*>(data), size);
  wick::jinja::RenderLimits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_steps = 200000;
  limits.max_call_depth = 32;
  try {
    wick::tok::ChatTemplate tpl(source, "<s>", "</s>", limits);
    tpl.render(conversation(), true, tools());
    tpl.render(conversation(), false);
  } catch (const wick::Error&) {
  }
  return 0;
}
