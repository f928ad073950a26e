// Subcommand registration: each cmd_*.cpp defines a static CommandRegistration, so adding a
// subcommand touches one file. main() builds the CLI11 app from the registry and runs it.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace wick::cli {

// setup() adds options to `sub` and returns the action run when the subcommand is chosen.
// The action returns the process exit code; it may throw wick::Error (exit code 1).
using CommandAction = std::function<int()>;
using CommandSetup = std::function<CommandAction(CLI::App& sub)>;

struct CommandSpec {
  std::string name;
  std::string description;
  CommandSetup setup;
};

std::vector<CommandSpec>& command_registry();

struct CommandRegistration {
  CommandRegistration(std::string name, std::string description, CommandSetup setup) {
    command_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace wick::cli
