// Real quantized models against transformers (tests/data/models/real/*.json, made by
// scripts/make_real_model_reference.py): teacher-forced over the evaluation text, wick's top-1
// prediction must agree with the reference at >= 98% of positions and its perplexity must be
// within 2%. The GGUF files are not committed: fetch them with scripts/fetch-models.sh (into
// models/) or point WICK_MODELS_DIR at a folder holding them; the tests skip otherwise.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "models/registry.h"

namespace wick::models {
namespace {

struct RealCase {
  const char* reference;  // tests/data/models/real/<reference>
  const char* gguf;       // file name under models/
};

std::string find_gguf(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("WICK_MODELS_DIR")) dirs.emplace_back(env);
  dirs.push_back(std::string(WICK_SOURCE_DIR) + "/models");
  for (const std::string& d : dirs)
    if (std::filesystem::exists(d + "/" + name)) return d + "/" + name;
  return "";
}

class RealModelTest : public ::testing::TestWithParam<RealCase> {};

TEST_P(RealModelTest, TeacherForcedMatchesTransformers) {
  const RealCase& c = GetParam();
  const std::string ref_path =
      std::string(WICK_SOURCE_DIR) + "/tests/data/models/real/" + c.reference;
  if (!std::filesystem::exists(ref_path)) GTEST_SKIP() << "reference absent: " << ref_path;
  const std::string gguf = find_gguf(c.gguf);
  if (gguf.empty())
    GTEST_SKIP() << c.gguf << " not found in models/ or $WICK_MODELS_DIR (scripts/fetch-models.sh)";
  std::ifstream in(ref_path);
  const nlohmann::json ref = nlohmann::json::parse(in);
  const auto ids = ref["ids"].get<std::vector<int32_t>>();
  const auto top1_ref = ref["top1"].get<std::vector<int32_t>>();
  const double ppl_ref = ref["perplexity"].get<double>();

  LoadedModel m = load_model(gguf);
  const int64_t V = m.model->config().vocab_size;
  nn::KvCache cache = m.model->make_cache();
  cache.add_sequence(0);
  // Chunks of 128 tokens keep the (chunk, vocab) logits small and exercise chunked prefill.
  constexpr size_t kChunk = 128;
  size_t agree = 0;
  double nll = 0;
  for (size_t begin = 0; begin < ids.size(); begin += kChunk) {
    const size_t n = std::min(kChunk, ids.size() - begin);
    BatchItem item{0, std::span<const int32_t>(ids).subspan(begin, n), true};
    const std::vector<float> logits = m.model->forward({&item, 1}, cache).to_float_vector();
    for (size_t r = 0; r < n; ++r) {
      const float* row = logits.data() + r * static_cast<size_t>(V);
      const size_t t = begin + r;
      const auto best = static_cast<int32_t>(std::max_element(row, row + V) - row);
      agree += best == top1_ref[t];
      if (t + 1 < ids.size()) {
        double mx = row[best], sum = 0;
        for (int64_t v = 0; v < V; ++v) sum += std::exp(static_cast<double>(row[v]) - mx);
        nll -= static_cast<double>(row[ids[t + 1]]) - mx - std::log(sum);
      }
    }
  }
  const double agreement = static_cast<double>(agree) / static_cast<double>(ids.size());
  const double ppl = std::exp(nll / static_cast<double>(ids.size() - 1));
  std::printf("%s: top-1 agreement %.4f, perplexity %.4f (reference %.4f, %+.3f%%)\n", c.gguf,
              agreement, ppl, ppl_ref, 100.0 * (ppl / ppl_ref - 1.0));
  EXPECT_GE(agreement, 0.98);
  EXPECT_NEAR(ppl, ppl_ref, 0.02 * ppl_ref);
}

INSTANTIATE_TEST_SUITE_P(
    Real, RealModelTest,
    ::testing::Values(RealCase{"smollm2-135m-instruct-q4_1.json",
                               "SmolLM2-135M-Instruct.Q4_1.gguf"},
                      RealCase{"gemma3-270m-q4_k_m.json", "gemma-3-270m-q4_k_m.gguf"}),
    [](const auto& p) { return std::string(p.param.gguf[0] == 'S' ? "smollm2" : "gemma3"); });

}  // namespace
}  // namespace wick::models
