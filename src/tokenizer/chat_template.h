// ChatTemplate: renders a Hugging Face chat template (tokenizer_config.json "chat_template" or
// GGUF "tokenizer.chat_template") the way transformers' apply_chat_template(tokenize=False) does,
// with wick's own Jinja2 engine (jinja_*.h). Parsing happens once, in the constructor.
#pragma once

#include "tokenizer/jinja_interp.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace wick::tok {

class ChatTemplate {
 public:
  // Throws wick::Error (kParse / kUnsupported) with line and column when the template is invalid.
  ChatTemplate(const std::string& source, std::string bos_token, std::string eos_token,
               const jinja::RenderLimits& limits = {});

  // messages: [{"role": ..., "content": str | [{"type": "text", "text": ...}, ...],
  //             "tool_calls": [...]}, ...]; tools: JSON schemas or null; extra_context: more
  // template variables (e.g. {"enable_thinking": false}). Keys keep their order with
  // ordered_json, as Python dicts do; nlohmann::json sorts them.
  // Throws wick::Error (kInvalidArgument) when the template raises or exceeds a limit.
  std::string render(
      const nlohmann::ordered_json& messages, bool add_generation_prompt,
      const nlohmann::ordered_json& tools = nullptr,
      const nlohmann::ordered_json& extra_context = nlohmann::ordered_json::object()) const;
  std::string render(const nlohmann::json& messages, bool add_generation_prompt,
                     const nlohmann::json& tools = nullptr,
                     const nlohmann::json& extra_context = nlohmann::json::object()) const;
  // The template's text (the server reads which tool-call syntax it teaches the model).
  const std::string& source() const { return source_; }

 private:
  std::string render_values(jinja::Value messages, bool add_generation_prompt, jinja::Value tools,
                            const jinja::Value& extra_context) const;

  std::string source_;
  std::shared_ptr<const jinja::Template> template_;
  std::string bos_token_;
  std::string eos_token_;
  jinja::RenderLimits limits_;
};

}  // namespace wick::tok
