// `wick chat -m PATH`: a conversation through the model's chat template. Interactive when stdin
// is a terminal (/reset clears the conversation, /exit or EOF quits); otherwise each input line
// is one user message and each reply is printed on its own line(s). The KV cache keeps the
// conversation, so every turn only prefills the tokens the template added since the last one.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "command.h"
#include "generate/bundle.h"
#include "sampling_flags.h"

namespace wick::cli {
namespace {

struct ChatFlags {
  GenerationFlags gen;
  std::string system;
  std::string chat_template;  // a .jinja file or a tokenizer_config.json
  bool stats = false;
};

// The template text of --chat-template: a tokenizer_config.json's "chat_template", else the file.
std::string read_template(const std::string& path) {
  std::ifstream in(path);
  WICK_CHECK(in.good(), ErrorKind::kNotFound, "--chat-template: cannot open {}", path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (path.size() < 5 || path.substr(path.size() - 5) != ".json") return ss.str();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  WICK_CHECK(j.is_object() && j.contains("chat_template") && j["chat_template"].is_string(),
             ErrorKind::kParse, "{}: no string field chat_template", path);
  return j["chat_template"].get<std::string>();
}

int chat(const ChatFlags& f0) {
  ChatFlags f = f0;
  gen::ModelBundle bundle = gen::load_bundle(f.gen.model, true, f.gen.device.resolve());
  if (!f.chat_template.empty())
    bundle.chat_template = std::make_unique<tok::ChatTemplate>(read_template(f.chat_template),
                                                               bundle.bos_token, bundle.eos_token);
  WICK_CHECK(bundle.tokenizer, ErrorKind::kInvalidArgument, "{} has no tokenizer", f.gen.model);
  WICK_CHECK(bundle.chat_template, ErrorKind::kInvalidArgument,
             "{} has no chat template; pass --chat-template", f.gen.model);
  gen::GenerateOptions options = f.gen.options(bundle.eos_ids);
  gen::Generator generator(bundle.model(), bundle.tokenizer.get());
  const bool interactive = isatty(STDIN_FILENO) != 0;
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  if (!f.system.empty()) messages.push_back({{"role", "system"}, {"content", f.system}});
  const size_t n_fixed = messages.size();
  std::string line;
  while (true) {
    if (interactive) {
      std::fputs("> ", stdout);
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line)) break;
    if (interactive && line == "/exit") break;
    if (interactive && line == "/reset") {
      messages.erase(messages.begin() + static_cast<std::ptrdiff_t>(n_fixed), messages.end());
      generator.reset();
      continue;
    }
    if (line.empty()) continue;
    messages.push_back({{"role", "user"}, {"content", line}});
    const std::string text = bundle.chat_template->render(messages, true);
    std::vector<int32_t> ids = bundle.tokenizer->encode(text, false);
    gen::GenerateResult r = generator.generate(ids, options, [](int32_t, std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    std::fputs("\n", stdout);
    std::fflush(stdout);
    if (f.stats) print_stats(r.stats, r.reason);
    messages.push_back({{"role", "assistant"}, {"content", r.text}});
  }
  return 0;
}

CommandRegistration reg("chat", "chat with a model through its chat template", [](CLI::App& sub) {
  auto f = std::make_shared<ChatFlags>();
  f->gen.add(sub);
  sub.add_option("--system", f->system, "system message");
  sub.add_option("--chat-template", f->chat_template,
                 "Jinja chat template file, or a tokenizer_config.json holding one");
  sub.add_flag("--stats", f->stats, "print a stats line to stderr after each reply");
  return [f] { return chat(*f); };
});

}  // namespace
}  // namespace wick::cli
