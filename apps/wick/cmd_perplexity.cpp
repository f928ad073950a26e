// `wick perplexity -m PATH -f TEXT [-c N] [--json]`: perplexity of the model on a text file,
// measured as llama.cpp's llama-perplexity does (chunks of N tokens, second half scored), so
// the figures compare with llama.cpp's and show what quantization costs.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "command.h"
#include "core/thread_pool.h"
#include "generate/bundle.h"
#include "tools/perplexity.h"

namespace wick::cli {
namespace {

struct PerplexityFlags {
  std::string model;
  std::string file;
  int64_t ctx = 512;
  int threads = 0;
  bool json = false;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  WICK_CHECK(in.good(), ErrorKind::kIo, "perplexity: cannot open text file {}", path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int run_perplexity(const PerplexityFlags& f) {
  if (f.threads > 0) ThreadPool::set_global_threads(f.threads);
  const std::string text = read_text(f.file);
  gen::ModelBundle bundle = gen::load_bundle(f.model);
  WICK_CHECK(bundle.tokenizer != nullptr, ErrorKind::kInvalidArgument,
             "perplexity: {} has no tokenizer", f.model);
  const std::vector<int32_t> ids = bundle.tokenizer->encode(text, false);
  // The BOS the tokenizer adds (if any) starts every chunk, as llama.cpp does.
  std::optional<int32_t> bos;
  const std::vector<int32_t> with_special = bundle.tokenizer->encode("", true);
  if (!with_special.empty()) bos = with_special.front();
  const tools::PerplexityResult r = tools::perplexity(bundle.model(), ids, f.ctx, bos);
  if (f.json) {
    nlohmann::json out = {{"perplexity", r.perplexity},   {"mean_nll", r.mean_nll},
                          {"nll_stderr", r.nll_stderr},   {"n_scored", r.n_scored},
                          {"n_tokens", ids.size()},       {"n_ctx", f.ctx},
                          {"chunks", r.chunk_perplexity}, {"seconds", r.seconds}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  for (size_t i = 0; i < r.chunk_perplexity.size(); ++i)
    std::printf("[%zu]%.4f ", i + 1, r.chunk_perplexity[i]);
  std::printf("\nperplexity %.4f +/- %.4f over %lld tokens (%zu-token text, ctx %lld) in %.1f s\n",
              r.perplexity, r.perplexity * r.nll_stderr, static_cast<long long>(r.n_scored),
              ids.size(), static_cast<long long>(f.ctx), r.seconds);
  return 0;
}

const CommandRegistration kRegistration{
    "perplexity", "Perplexity of a model on a text file (llama-perplexity's method)",
    [](CLI::App& sub) -> CommandAction {
      auto f = std::make_shared<PerplexityFlags>();
      sub.add_option("-m,--model", f->model, "GGUF file or HF folder")->required();
      sub.add_option("-f,--file", f->file, "text file to score")->required();
      sub.add_option("-c,--ctx-size", f->ctx, "tokens per chunk (second half scored)")
          ->check(CLI::Range(int64_t{4}, int64_t{1} << 20));
      sub.add_option("-t,--threads", f->threads, "threads (default: all cores)")
          ->check(CLI::NonNegativeNumber);
      sub.add_flag("--json", f->json, "print one JSON object");
      return [f] { return run_perplexity(*f); };
    }};

}  // namespace
}  // namespace wick::cli
