// Tokenizers built from GGUF metadata (generate/gguf_tokenizer.h) against the ids transformers'
// GGUF tokenizer produced for tests/data/models/real/text.txt, plus a decode round trip.
// Skips when the GGUF files are absent (scripts/fetch-models.sh).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/gguf.h"
#include "generate/gguf_tokenizer.h"

namespace wick::gen {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void check_tokenizer(const char* gguf_name, const char* reference) {
  std::string dir = std::getenv("WICK_MODELS_DIR") ? std::getenv("WICK_MODELS_DIR")
                                                   : std::string(WICK_SOURCE_DIR) + "/models";
  const std::string gguf = dir + "/" + gguf_name;
  const std::string data = std::string(WICK_SOURCE_DIR) + "/tests/data/models/real/";
  if (!std::filesystem::exists(gguf)) GTEST_SKIP() << gguf << " absent (scripts/fetch-models.sh)";
  if (!std::filesystem::exists(data + reference)) GTEST_SKIP() << data + reference << " absent";
  const nlohmann::json ref = nlohmann::json::parse(read_text(data + reference));
  const std::string text = read_text(data + "text.txt");
  tok::Tokenizer t = gguf_tokenizer(*GgufFile::open(gguf));
  const std::vector<int32_t> ids = t.encode(text, true);
  EXPECT_EQ(ids, ref["ids"].get<std::vector<int32_t>>());
  EXPECT_EQ(t.decode(ids, true), text);
}

TEST(GgufTokenizer, SmolLM2Gpt2BpeMatchesTransformers) {
  check_tokenizer("SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2-135m-instruct-q4_1.json");
}

TEST(GgufTokenizer, Gemma3SentencePieceBpeMatchesTransformers) {
  check_tokenizer("gemma-3-270m-q4_k_m.gguf", "gemma3-270m-q4_k_m.json");
}

}  // namespace
}  // namespace wick::gen
