// The architecture registry: the one place that maps an HF `architectures` entry (or
// `model_type`) and a GGUF `general.architecture` to the code that reads its config and builds
// it. Adding an architecture is one file defining an Architecture plus one line in registry.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "formats/weight_source.h"
#include "models/config.h"
#include "models/model.h"

namespace wick {
class GgufFile;
}

namespace wick::models {

struct Architecture {
  const char* name;                     // "llama", for messages and docs
  std::vector<std::string> hf_names;    // "LlamaForCausalLM", "llama" (model_type)
  std::vector<std::string> gguf_names;  // "llama"
  ModelConfig (*config_from_hf)(const HfConfig& hf);
  ModelConfig (*config_from_gguf)(const GgufConfig& gg);  // nullptr: no GGUF support
  std::unique_ptr<Model> (*build)(const ModelConfig& config, const WeightSource& ws);
};

const std::vector<const Architecture*>& architectures();
// Throw kUnsupported naming the architecture, the file and what is supported.
const Architecture& find_hf_architecture(const HfConfig& hf);
const Architecture& find_gguf_architecture(const std::string& name, const std::string& file);

struct LoadedModel {
  std::unique_ptr<Model> model;
  std::shared_ptr<const GgufFile> gguf;  // set when loaded from a .gguf (vocabulary, template)
  std::string hf_dir;                    // set when loaded from an HF folder
};

// `path`: an HF folder (config.json + model.safetensors[.index.json]) or a .gguf file. Weights
// are uploaded to `device` at load (GGUF blocks stay quantized there); a model that does not fit
// throws kOutOfMemory naming its weight bytes and the device.
LoadedModel load_model(const std::string& path, Device device = Device::cpu());
// Builds from an already-parsed config (tests inject configs this way).
std::unique_ptr<Model> build_model(const ModelConfig& config, const Architecture& arch,
                                   const WeightSource& ws);

}  // namespace wick::models
