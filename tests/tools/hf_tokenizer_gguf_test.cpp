// HF -> GGUF tokenizer conversion: for every real tokenizer in ../shared, a tiny model folder with
// that tokenizer.json is converted by `wick quantize`; the GGUF's vocabulary, rebuilt by wick's
// GGUF tokenizer path, must give the ids of the `tokenizers` package (the committed goldens) with
// and without special tokens; SentencePiece vocabularies must do so from their scores alone
// (llama.cpp ignores merges for them); and the chat template and flags carry over.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <unistd.h>

#include "../tokenizer/tokenizer_files.h"
#include "formats/gguf.h"
#include "generate/gguf_tokenizer.h"
#include "tools/quant_recipe.h"
#include "tools/quantize.h"

namespace wick::tools {
namespace {

namespace fs = std::filesystem;

class HfTokenizerToGguf : public ::testing::TestWithParam<std::string> {};

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

TEST_P(HfTokenizerToGguf, GgufVocabularyReproducesHfIds) {
  const std::string name = GetParam();
  const auto tj = tok::testing::tokenizer_json(name);
  const auto golden =
      tok::testing::read_file(tok::testing::test_data_dir() + "/golden_" + name + ".json");
  if (!tj || !golden) GTEST_SKIP() << "shared tokenizer or golden file for " << name << " absent";
  const fs::path dir =
      fs::temp_directory_path() / ("wick_hf_tok_" + std::to_string(::getpid()) + "_" + name);
  fs::create_directories(dir);
  const fs::path model = fs::path(WICK_SOURCE_DIR) / "tests/data/models/smollm2";
  fs::copy_file(model / "config.json", dir / "config.json", fs::copy_options::overwrite_existing);
  fs::copy_file(model / "model.safetensors", dir / "model.safetensors",
                fs::copy_options::overwrite_existing);
  write(dir / "tokenizer.json", *tj);
  const auto cfg = tok::testing::read_file(tok::testing::shared_tokenizer_dir() + "/" + name +
                                           "/tokenizer_config.json.xz");
  if (cfg) write(dir / "tokenizer_config.json", *cfg);
  QuantizeOptions o;
  o.input = dir.string();
  o.output = (dir / "out.gguf").string();
  o.recipe = parse_quant_recipe("F32");
  quantize_model(o);

  auto file = GgufFile::open(o.output);
  // The pre-tokenizer names llama.cpp's converter gives these tokenizers.
  const std::map<std::string, std::string> pre = {{"llama3", "llama-bpe"},
                                                  {"qwen3", "qwen2"},
                                                  {"gpt2", "gpt2"},
                                                  {"gptoss", "gpt-4o"},
                                                  {"deepseek_v3", "deepseek-v3"}};
  if (pre.count(name)) {
    EXPECT_EQ(file->get_string_or("tokenizer.ggml.pre", ""), pre.at(name));
  }
  const tok::Tokenizer from_gguf = gen::gguf_tokenizer(*file);
  tok::GgufVocab scores_only = gen::gguf_vocab(*file);
  const bool spm = scores_only.model == "llama";
  scores_only.merges.clear();
  const tok::Tokenizer from_scores =
      spm ? tok::tokenizer_from_gguf_vocab(scores_only) : tok::Tokenizer::from_json(*tj);
  const nlohmann::json g = nlohmann::json::parse(*golden);
  size_t checked = 0;
  for (const auto& c : g.at("cases")) {
    const std::string text = c.at("text");
    const auto want_plain = c.at("ids_no_special").get<std::vector<int32_t>>();
    const auto want = c.at("ids").get<std::vector<int32_t>>();
    ASSERT_EQ(from_gguf.encode(text, false), want_plain) << name << ": " << text;
    ASSERT_EQ(from_gguf.encode(text, true), want) << name << " (special): " << text;
    if (spm) {
      ASSERT_EQ(from_scores.encode(text, false), want_plain) << name << " scores: " << text;
    }
    ++checked;
  }
  EXPECT_GE(checked, 200u);
  if (cfg && nlohmann::json::parse(*cfg).contains("chat_template")) {
    EXPECT_FALSE(file->get_string_or("tokenizer.chat_template", "").empty());
  }
  file.reset();
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Shared, HfTokenizerToGguf,
                         ::testing::Values("llama2", "llama3", "qwen3", "gemma3", "gpt2",
                                           "deepseek_v3", "gptoss"));

}  // namespace
}  // namespace wick::tools
