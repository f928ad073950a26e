// The architecture list and model loading from HF folders and GGUF files (see registry.h).
#include "models/registry.h"

#include <filesystem>
#include <fstream>

#include "backend/backend.h"
#include "formats/gguf.h"
#include "nn/weights.h"

namespace wick::models {

extern const Architecture kLlama;
extern const Architecture kMistral;
extern const Architecture kQwen2;
extern const Architecture kQwen3;
extern const Architecture kQwen3Moe;
extern const Architecture kGemma3;
extern const Architecture kPhi3;
extern const Architecture kGpt2;

const std::vector<const Architecture*>& architectures() {
  static const std::vector<const Architecture*> all = {
      &kLlama, &kMistral, &kQwen2, &kQwen3, &kQwen3Moe, &kGemma3, &kPhi3, &kGpt2,
  };
  return all;
}

namespace {

std::string supported_list(bool gguf) {
  std::string s;
  for (const Architecture* a : architectures())
    for (const std::string& n : gguf ? a->gguf_names : a->hf_names)
      s += (s.empty() ? "" : ", ") + n;
  return s;
}

bool is_gguf_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::string(magic, 4) == "GGUF";
}

}  // namespace

const Architecture& find_hf_architecture(const HfConfig& hf) {
  const std::vector<std::string> names = hf.strings("architectures");
  const std::string model_type = hf.string_or("model_type", "");
  for (const Architecture* a : architectures())
    for (const std::string& n : a->hf_names)
      for (const std::string& want : names)
        if (n == want) return *a;
  for (const Architecture* a : architectures())
    for (const std::string& n : a->hf_names)
      if (n == model_type) return *a;
  fail(ErrorKind::kUnsupported,
       "{}: architecture {} (model_type \"{}\") is not supported; known: {}", hf.file(),
       names.empty() ? std::string("<none>") : names[0], model_type, supported_list(false));
}

const Architecture& find_gguf_architecture(const std::string& name, const std::string& file) {
  for (const Architecture* a : architectures())
    for (const std::string& n : a->gguf_names)
      if (n == name && a->config_from_gguf) return *a;
  fail(ErrorKind::kUnsupported, "{}: GGUF architecture \"{}\" is not supported; known: {}", file,
       name, supported_list(true));
}

std::unique_ptr<Model> build_model(const ModelConfig& config, const Architecture& arch,
                                   const WeightSource& ws) {
  config.validate();
  return arch.build(config, ws);
}

namespace {

// Builds under a ScopedLoadDevice; an allocation failure on the device becomes an error that
// says how much the weights need and where (the allocator's message carries free/total).
std::unique_ptr<Model> build_on(const ModelConfig& config, const Architecture& arch,
                                const WeightSource& ws, Device device, const std::string& path) {
  if (!device.is_cpu()) {
    const Backend* backend = find_backend(device.type);
    WICK_CHECK(backend != nullptr && device.index < backend->device_count(),
               ErrorKind::kUnsupported, "{}: device {} is not available in this build or machine",
               path, device.str());
  }
  nn::ScopedLoadDevice on(device);
  try {
    std::unique_ptr<Model> model = build_model(config, arch, ws);
    model->set_device(device);
    return model;
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::kOutOfMemory || device.is_cpu()) throw;
    uint64_t bytes = 0;
    for (const std::string& n : ws.names()) bytes += ws.info(n).n_bytes;
    fail(ErrorKind::kOutOfMemory,
         "{}: the model's {:.2f} GiB of weights do not fit on {} ({}); use a smaller "
         "quantization or --device cpu",
         path, static_cast<double>(bytes) / (1u << 30), device.str(), e.what());
  }
}

}  // namespace

LoadedModel load_model(const std::string& path, Device device) {
  LoadedModel out;
  if (std::filesystem::is_directory(path)) {
    HfConfig hf = HfConfig::load(path);
    const Architecture& arch = find_hf_architecture(hf);
    ModelConfig config = arch.config_from_hf(hf);
    std::unique_ptr<WeightSource> ws = open_weight_source(path);
    out.model = build_on(config, arch, *ws, device, path);
    out.hf_dir = path;
    return out;
  }
  WICK_CHECK(std::filesystem::exists(path), ErrorKind::kNotFound, "model path {} does not exist",
             path);
  WICK_CHECK(is_gguf_file(path), ErrorKind::kUnsupported,
             "{}: not a GGUF file and not a folder with config.json", path);
  std::shared_ptr<const GgufFile> file = GgufFile::open(path);
  const std::string arch_name(file->architecture());
  const Architecture& arch = find_gguf_architecture(arch_name, path);
  ModelConfig config = arch.config_from_gguf(GgufConfig(file, arch_name));
  GgufWeightSource ws(file);
  out.model = build_on(config, arch, ws, device, path);
  out.gguf = file;
  return out;
}

}  // namespace wick::models
