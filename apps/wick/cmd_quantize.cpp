// `wick quantize IN OUT --type TYPE [-t THREADS] [--pure]`: GGUF file or HF folder -> GGUF with
// the type's (or llama.cpp recipe's) per-tensor types; progress on stderr, then sizes and time.
#include <cstdio>

#include "command.h"
#include "tools/quantize.h"

namespace wick::cli {
namespace {

struct QuantizeFlags {
  std::string input, output, type;
  int threads = 0;
  bool pure = false;
  bool quiet = false;
};

double mib(uint64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

int run(const QuantizeFlags& f) {
  tools::QuantizeOptions o;
  o.input = f.input;
  o.output = f.output;
  o.recipe = tools::parse_quant_recipe(f.type, f.pure);
  o.threads = f.threads;
  if (!f.quiet) {
    o.on_tensor = [](const tools::QuantizeProgress& p) {
      constexpr int kWidth = 30;
      const int done = static_cast<int>(kWidth * (p.index + 1) / p.count);
      std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu %-32.*s %s -> %s\x1b[K", done,
                   "##############################", kWidth - done, "", p.index + 1, p.count,
                   static_cast<int>(p.name.size()), p.name.data(), dtype_name(p.from),
                   dtype_name(p.to));
      std::fflush(stderr);
    };
  }
  const tools::QuantizeReport r = tools::quantize_model(o);
  if (!f.quiet) std::fprintf(stderr, "\n");
  std::printf("%s -> %s (%s)\n", f.input.c_str(), f.output.c_str(), o.recipe.name.c_str());
  std::printf("tensors: %zu, parameters: %llu\n", r.types.size(),
              static_cast<unsigned long long>(r.n_params));
  std::printf("size before: %.2f MiB (%.2f bits/weight)\n", mib(r.bytes_in),
              r.bits_per_weight_in());
  std::printf("size after:  %.2f MiB (%.2f bits/weight)\n", mib(r.bytes_out),
              r.bits_per_weight_out());
  std::printf("time: %.2f s\n", r.seconds);
  return 0;
}

CommandRegistration reg(
    "quantize", "convert a GGUF file or HF folder to a (quantized) GGUF", [](CLI::App& sub) {
      auto f = std::make_shared<QuantizeFlags>();
      sub.add_option("input", f->input, "GGUF file or HF folder (config.json + safetensors)")
          ->required();
      sub.add_option("output", f->output, "GGUF file to write")->required();
      sub.add_option("--type", f->type,
                     "F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL IQ4_XS "
                     "or a recipe: Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M")
          ->required();
      sub.add_option("-t,--threads", f->threads, "CPU threads (default: all cores)");
      sub.add_flag("--pure", f->pure, "every weight matrix gets --type (no recipe rules)");
      sub.add_flag("-q,--quiet", f->quiet, "no progress bar");
      return [f] { return run(*f); };
    });

}  // namespace
}  // namespace wick::cli
