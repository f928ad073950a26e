// End to end: SmolLM2-135M generates under each JSON schema of tests/data/constrain/schemas
// with sampling (temperature 1, several seeds). Every output that ended by EOS must parse as
// JSON; outputs go to $WICK_CONSTRAIN_OUT (JSON lines) so that validate_schemas.py can check
// them against the schemas with the independent Python `jsonschema` validator.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "constrain/constraint.h"
#include "generate/bundle.h"
#include "generate/generator.h"

namespace wick::constrain {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(ModelSchemas, SmolLM2OutputsParseUnderEverySchema) {
  const fs::path model = fs::path(WICK_SOURCE_DIR) / "models/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!fs::exists(model)) GTEST_SKIP() << model << " not found (scripts/fetch-models.sh)";
  const fs::path dir = fs::path(WICK_SOURCE_DIR) / "tests/data/constrain/schemas";
  std::vector<fs::path> schemas;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".json") schemas.push_back(e.path());
  std::sort(schemas.begin(), schemas.end());
  ASSERT_GE(schemas.size(), 50u);

  gen::ModelBundle bundle = gen::load_bundle(model.string());
  ASSERT_TRUE(bundle.tokenizer && bundle.chat_template);
  gen::Generator generator(bundle.model(), bundle.tokenizer.get());
  std::ofstream out;
  if (const char* path = std::getenv("WICK_CONSTRAIN_OUT")) out.open(path);
  const int seeds =
      std::getenv("WICK_CONSTRAIN_SEEDS") ? std::atoi(std::getenv("WICK_CONSTRAIN_SEEDS")) : 2;
  int parsed = 0, truncated = 0;
  for (const fs::path& file : schemas) {
    const std::string schema = read_text(file);
    SCOPED_TRACE(file.filename().string());
    std::shared_ptr<const Constraint> c;
    ASSERT_NO_THROW(
        c = compile({SpecKind::kJsonSchema, schema, {}}, *bundle.tokenizer, bundle.eos_ids));
    const nlohmann::json messages = nlohmann::json::array(
        {{{"role", "user"},
          {"content", "Reply with one JSON document that follows this JSON schema:\n" + schema}}});
    const std::vector<int32_t> prompt =
        bundle.tokenizer->encode(bundle.chat_template->render(messages, true), false);
    for (int seed = 1; seed <= seeds; ++seed) {
      gen::GenerateOptions options;
      options.max_tokens = 320;
      options.sampling.temperature = 1.0f;
      options.sampling.seed = static_cast<uint64_t>(seed);
      options.eos_ids = bundle.eos_ids;
      options.constraint = c;
      const gen::GenerateResult r = generator.generate(prompt, options);
      const bool complete = r.reason == gen::StopReason::kEos;
      if (complete) {
        EXPECT_TRUE(nlohmann::json::accept(r.text)) << "seed " << seed << ": " << r.text;
        ++parsed;
      } else {
        EXPECT_EQ(r.reason, gen::StopReason::kMaxTokens);
        ++truncated;
      }
      if (out)
        out << nlohmann::json{{"schema", file.filename().string()},
                              {"seed", seed},
                              {"reason", gen::stop_reason_name(r.reason)},
                              {"text", r.text}}
                   .dump()
            << std::endl;
    }
  }
  std::printf("[ModelSchemas] %d outputs complete and parsed, %d stopped at max tokens\n", parsed,
              truncated);
  EXPECT_GT(parsed, truncated);
}

}  // namespace
}  // namespace wick::constrain

namespace wick::constrain {
namespace {

// Regex, choice and GBNF constraints with the real model: the whole output is a sentence.
TEST(ModelSchemas, SmolLM2RegexChoiceAndGrammar) {
  const fs::path model = fs::path(WICK_SOURCE_DIR) / "models/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!fs::exists(model)) GTEST_SKIP() << model << " not found (scripts/fetch-models.sh)";
  gen::ModelBundle bundle = gen::load_bundle(model.string());
  gen::Generator generator(bundle.model(), bundle.tokenizer.get());
  const std::vector<int32_t> prompt = bundle.tokenizer->encode("My phone number is", false);
  const Spec specs[] = {{SpecKind::kRegex, R"(\(\d{3}\) \d{3}-\d{4})", {}},
                        {SpecKind::kChoice, {}, {"yes", "no", "maybe later"}},
                        {SpecKind::kGrammar, "root ::= (\"ab\" | [0-9])+ \".\"", {}}};
  for (const Spec& spec : specs) {
    const Grammar g = spec_to_grammar(spec);
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      gen::GenerateOptions options;
      options.max_tokens = 40;
      options.sampling.temperature = 1.0f;
      options.sampling.seed = seed;
      options.eos_ids = bundle.eos_ids;
      options.constraint = compile(spec, *bundle.tokenizer, bundle.eos_ids);
      const gen::GenerateResult r = generator.generate(prompt, options);
      SCOPED_TRACE(spec_kind_name(spec.kind) + std::string(": ") + r.text);
      if (r.reason == gen::StopReason::kEos)
        EXPECT_TRUE(grammar_accepts(g, r.text));
      else
        EXPECT_EQ(r.reason, gen::StopReason::kMaxTokens);
    }
  }
}

}  // namespace
}  // namespace wick::constrain
