// `wick run -m PATH [PROMPT]`: generate a continuation and stream it to stdout, with a stats line
// (prompt tokens, prefill and decode tok/s, time to first token) on stderr. --prompt-ids feeds
// ids directly (models without a tokenizer); --json prints {"ids": [...], "text": "..."} at the
// end. --grammar FILE (GBNF) / --json-schema FILE constrain the output (constrain/).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "command.h"
#include "constrain/constraint.h"
#include "generate/bundle.h"
#include "sampling_flags.h"

namespace wick::cli {
namespace {

struct RunFlags {
  GenerationFlags gen;
  std::string prompt;
  std::string prompt_ids;
  std::string prompt_file;
  bool json = false;
  bool no_special = false;
  std::string grammar_file;      // GBNF
  std::string json_schema_file;  // JSON Schema
};

// The constraint named by --grammar / --json-schema, compiled before generation starts.
std::shared_ptr<const constrain::Constraint> constraint_from_flags(const RunFlags& f,
                                                                   const gen::ModelBundle& b) {
  if (f.grammar_file.empty() && f.json_schema_file.empty()) return nullptr;
  WICK_CHECK(f.grammar_file.empty() || f.json_schema_file.empty(), ErrorKind::kInvalidArgument,
             "--grammar and --json-schema cannot be used together");
  WICK_CHECK(b.tokenizer, ErrorKind::kInvalidArgument,
             "{}: constrained generation needs the model's tokenizer", f.gen.model);
  const bool gbnf = !f.grammar_file.empty();
  const std::string& path = gbnf ? f.grammar_file : f.json_schema_file;
  std::ifstream in(path, std::ios::binary);
  WICK_CHECK(in, ErrorKind::kIo, "{}: cannot open", path);
  std::stringstream text;
  text << in.rdbuf();
  const constrain::Spec spec{
      gbnf ? constrain::SpecKind::kGrammar : constrain::SpecKind::kJsonSchema, text.str(), {}};
  try {
    return constrain::compile(spec, *b.tokenizer, b.eos_ids);
  } catch (const Error& e) {
    fail(e.kind(), "{}: {}", path, e.what());
  }
}

std::string read_prompt_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  WICK_CHECK(in, ErrorKind::kIo, "{}: cannot open the prompt file", path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int run(const RunFlags& f0) {
  RunFlags f = f0;
  WICK_CHECK(f.prompt_file.empty() || f.prompt.empty(), ErrorKind::kInvalidArgument,
             "give the prompt as text or with --file, not both");
  if (!f.prompt_file.empty()) f.prompt = read_prompt_file(f.prompt_file);
  gen::ModelBundle bundle = gen::load_bundle(f.gen.model, true, f.gen.device.resolve());
  std::vector<int32_t> ids;
  if (!f.prompt_ids.empty()) {
    ids = parse_prompt_ids(f.prompt_ids);
  } else {
    WICK_CHECK(bundle.tokenizer, ErrorKind::kInvalidArgument,
               "{} has no tokenizer; pass --prompt-ids", f.gen.model);
    ids = bundle.tokenizer->encode(f.prompt, !f.no_special);
    WICK_CHECK(!ids.empty(), ErrorKind::kInvalidArgument, "the prompt encodes to no tokens");
  }
  gen::GenerateOptions options = f.gen.options(bundle.eos_ids);
  options.constraint = constraint_from_flags(f, bundle);
  gen::Generator generator(bundle.model(), bundle.tokenizer.get());
  const bool have_text = bundle.tokenizer != nullptr;
  gen::TokenCallback stream;
  if (!f.json) {
    stream = [&](int32_t id, std::string_view text) {
      if (have_text)
        std::fwrite(text.data(), 1, text.size(), stdout);
      else if (id >= 0)
        std::printf("%d ", id);
      std::fflush(stdout);
      return true;
    };
  }
  gen::GenerateResult r = generator.generate(ids, options, stream);
  if (f.json) {
    nlohmann::json out = {{"ids", r.ids}, {"text", r.text}};
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
  }
  print_stats(r.stats, r.reason);
  return 0;
}

CommandRegistration reg("run", "generate a continuation of a prompt", [](CLI::App& sub) {
  auto f = std::make_shared<RunFlags>();
  f->gen.add(sub);
  sub.add_option("prompt,-p,--prompt", f->prompt,
                 "prompt text (tokenized with the model's tokenizer); -p as in llama.cpp");
  sub.add_option("-f,--file", f->prompt_file, "read the prompt from this file (llama.cpp's -f)");
  sub.add_option("--prompt-ids", f->prompt_ids, "comma-separated token ids instead of text");
  sub.add_flag("--json", f->json, "print {\"ids\": [...], \"text\": \"...\"} instead of streaming");
  sub.add_flag("--no-special", f->no_special, "do not add BOS/special tokens to the prompt");
  sub.add_option("--grammar", f->grammar_file, "constrain the output to a GBNF grammar file");
  sub.add_option("--json-schema", f->json_schema_file,
                 "constrain the output to JSON valid under a JSON Schema file");
  return [f] { return run(*f); };
});

}  // namespace
}  // namespace wick::cli
