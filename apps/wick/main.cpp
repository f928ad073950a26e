// wick CLI entry point: builds subcommands from the registry, maps errors to exit codes.
#include <cstdio>
#include <map>

#include "command.h"
#include "core/error.h"

namespace wick::cli {

std::vector<CommandSpec>& command_registry() {
  static std::vector<CommandSpec> registry;
  return registry;
}

}  // namespace wick::cli

int main(int argc, char** argv) {
  using namespace wick::cli;
  CLI::App app{"wick: run and fine-tune large language models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "wick 0.1.0");
  std::map<CLI::App*, CommandAction> actions;
  for (CommandSpec& spec : command_registry()) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.description);
    actions[sub] = spec.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, action] : actions) {
      if (sub->parsed()) return action();
    }
  } catch (const wick::Error& e) {
    std::fprintf(stderr, "wick: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wick: error: %s\n", e.what());
    return 1;
  }
  return 1;
}
