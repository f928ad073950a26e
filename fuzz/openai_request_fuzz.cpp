// libFuzzer target for the server's request parsing: the input is an HTTP body, parsed as JSON
// and run through parse_completion (chat and completion), parse_embedding_input and
// check_model against a small BPE tokenizer and the Qwen3 chat template (tools included).
// A wick::Error or serve::ApiError is the expected answer to bad input; crashes, sanitizer
// reports and any other exception are bugs. Data files come from WICK_SOURCE_DIR.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "core/error.h"
#include "serve/openai_api.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Fixture {
  std::unique_ptr<wick::tok::Tokenizer> tokenizer;
  std::unique_ptr<wick::tok::ChatTemplate> chat_template;
  wick::serve::ServedModel model;

  Fixture() {
    const std::string root = WICK_SOURCE_DIR "/tests/data/";
    tokenizer = std::make_unique<wick::tok::Tokenizer>(
        wick::tok::Tokenizer::from_json(read_text(root + "tokenizer/bpe_suffix.tokenizer.json")));
    const auto tmpl = nlohmann::json::parse(read_text(root + "chat_templates/qwen3.json"));
    wick::jinja::RenderLimits limits;
    limits.max_output_bytes = 1 << 20;
    limits.max_steps = 200000;
    chat_template = std::make_unique<wick::tok::ChatTemplate>(
        tmpl["template"].get<std::string>(), tmpl["bos_token"].get<std::string>(),
        tmpl["eos_token"].get<std::string>(), limits);
    model.name = "fuzz";
    model.tokenizer = tokenizer.get();
    model.chat_template = chat_template.get();
    model.max_context = 512;
    model.vocab_size = static_cast<int64_t>(tokenizer->vocab_size());
    model.eos_ids = {0};
  }
};

template <class Fn>
void expect_clean(Fn&& fn) {
  try {
    fn();
  } catch (const wick::serve::ApiError&) {
  } catch (const wick::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture fixture;
  const nlohmann::json body = nlohmann::json::parse(data, data + size, nullptr, false);
  if (body.is_discarded()) return 0;
  const wick::serve::ServedModel& m = fixture.model;
  expect_clean([&] { wick::serve::check_model(body, m); });
  expect_clean([&] { (void)wick::serve::parse_completion(body, true, m); });
  expect_clean([&] { (void)wick::serve::parse_completion(body, false, m); });
  expect_clean([&] { (void)wick::serve::parse_embedding_input(body, m); });
  return 0;
}
