// ChatTemplate: the variables transformers passes to a chat template (messages, tools,
// documents, add_generation_prompt, bos/eos tokens, extra kwargs) bound into the Jinja engine.
#include "tokenizer/chat_template.h"

#include "core/error.h"
#include "tokenizer/jinja_parser.h"

namespace wick::tok {

ChatTemplate::ChatTemplate(const std::string& source, std::string bos_token, std::string eos_token,
                           const jinja::RenderLimits& limits)
    : source_(source),
      template_(jinja::parse_template(source)),
      bos_token_(std::move(bos_token)),
      eos_token_(std::move(eos_token)),
      limits_(limits) {}

std::string ChatTemplate::render(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                 const nlohmann::ordered_json& tools,
                                 const nlohmann::ordered_json& extra_context) const {
  return render_values(jinja::from_json(messages), add_generation_prompt, jinja::from_json(tools),
                       jinja::from_json(extra_context));
}

std::string ChatTemplate::render(const nlohmann::json& messages, bool add_generation_prompt,
                                 const nlohmann::json& tools,
                                 const nlohmann::json& extra_context) const {
  return render_values(jinja::from_json(messages), add_generation_prompt, jinja::from_json(tools),
                       jinja::from_json(extra_context));
}

std::string ChatTemplate::render_values(jinja::Value messages, bool add_generation_prompt,
                                        jinja::Value tools,
                                        const jinja::Value& extra_context) const {
  WICK_CHECK(messages.is_list(), ErrorKind::kInvalidArgument,
             "chat template: messages must be a JSON array, got {}", messages.type_name());
  WICK_CHECK(extra_context.is_dict() || extra_context.is_none(), ErrorKind::kInvalidArgument,
             "chat template: extra_context must be a JSON object");
  // transformers: render(messages=..., tools=..., documents=..., add_generation_prompt=...,
  // **special_tokens_map, **kwargs); later keys win.
  std::vector<std::pair<std::string, jinja::Value>> context = {
      {"messages", std::move(messages)},
      {"tools", std::move(tools)},
      {"documents", jinja::Value::none()},
      {"add_generation_prompt", jinja::Value::boolean(add_generation_prompt)},
      {"bos_token", jinja::Value::string(bos_token_)},
      {"eos_token", jinja::Value::string(eos_token_)},
  };
  if (extra_context.is_dict()) {
    for (const auto& [k, v] : extra_context.dict->items) context.emplace_back(jinja::to_str(k), v);
  }
  jinja::Interpreter interpreter(template_, limits_);
  return interpreter.render(context);
}

}  // namespace wick::tok
