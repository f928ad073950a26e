// The --device option shared by run, chat, logits and bench: "cpu", "cuda" or "cuda:N"; empty
// means the best device present (CUDA when the build has it and a GPU is found, else the CPU).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "backend/backend.h"
#include "core/storage.h"

namespace wick::cli {

struct DeviceFlag {
  std::string text;

  void add(CLI::App& sub) {
    sub.add_option("--device", text, "cpu | cuda[:N] (default: CUDA when present, else cpu)");
  }
  Device resolve() const { return text.empty() ? default_device() : parse_device(text); }
};

}  // namespace wick::cli
