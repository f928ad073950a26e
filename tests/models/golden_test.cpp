// Golden tests of every architecture against transformers (tests/data/models/<name>/, made by
// scripts/make_model_golden.py): last-position logits within 1e-4, all-position logits of the
// long prompt, 24 greedy tokens with the KV cache, the prompt fed in chunks, and several
// sequences at different positions in one batched forward matching each run alone.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "models/registry.h"

namespace wick::models {
namespace {

constexpr double kTol = 1e-4;

struct Prompt {
  std::string name;
  std::vector<int32_t> ids;
  std::vector<float> last_logits;
  std::vector<int32_t> greedy;
  std::vector<float> all_logits;  // (n, vocab) for the prompt that has them
};

std::string model_dir(const std::string& name) {
  return std::string(WICK_SOURCE_DIR) + "/tests/data/models/" + name;
}

std::vector<Prompt> read_prompts(const std::string& dir) {
  std::ifstream in(dir + "/expected.json");
  nlohmann::json j = nlohmann::json::parse(in);
  std::vector<Prompt> out;
  for (const auto& p : j["prompts"]) {
    Prompt pr;
    pr.name = p["name"].get<std::string>();
    pr.ids = p["ids"].get<std::vector<int32_t>>();
    pr.last_logits = p["last_logits"].get<std::vector<float>>();
    pr.greedy = p["greedy"].get<std::vector<int32_t>>();
    if (p.contains("all_logits")) pr.all_logits = p["all_logits"].get<std::vector<float>>();
    out.push_back(std::move(pr));
  }
  return out;
}

double max_abs_diff(std::span<const float> a, std::span<const float> b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  return m;
}

int32_t argmax(std::span<const float> row) {
  return static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

class GoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = model_dir(GetParam());
    if (!std::filesystem::exists(dir_ + "/expected.json") ||
        !std::filesystem::exists(dir_ + "/model.safetensors"))
      GTEST_SKIP() << "golden data absent: " << dir_
                   << " (make it with scripts/make_model_golden.py)";
    loaded_ = load_model(dir_);
    prompts_ = read_prompts(dir_);
    vocab_ = loaded_.model->config().vocab_size;
  }
  const Model& model() const { return *loaded_.model; }

  // Feeds `ids` to a fresh sequence in chunks of `chunk` tokens; returns the last logits.
  std::vector<float> run_chunked(const std::vector<int32_t>& ids, size_t chunk) {
    nn::KvCache cache = model().make_cache();
    cache.add_sequence(0);
    Tensor logits;
    for (size_t i = 0; i < ids.size(); i += chunk) {
      const size_t n = std::min(chunk, ids.size() - i);
      BatchItem item{0, std::span<const int32_t>(ids).subspan(i, n)};
      logits = model().forward({&item, 1}, cache);
    }
    EXPECT_EQ(cache.length(0), static_cast<int64_t>(ids.size()));
    return logits.to_float_vector();
  }

  std::string dir_;
  LoadedModel loaded_;
  std::vector<Prompt> prompts_;
  int64_t vocab_ = 0;
};

TEST_P(GoldenTest, LastLogitsMatchTransformers) {
  for (const Prompt& p : prompts_) {
    std::vector<float> got = run_chunked(p.ids, p.ids.size());
    EXPECT_LE(max_abs_diff(got, p.last_logits), kTol) << "prompt " << p.name;
  }
}

TEST_P(GoldenTest, AllPositionLogitsMatch) {
  bool any = false;
  for (const Prompt& p : prompts_) {
    if (p.all_logits.empty()) continue;
    any = true;
    nn::KvCache cache = model().make_cache();
    cache.add_sequence(7);
    BatchItem item{7, p.ids, true};
    Tensor logits = model().forward({&item, 1}, cache);
    ASSERT_EQ(logits.shape(), (Shape{static_cast<int64_t>(p.ids.size()), vocab_}));
    EXPECT_LE(max_abs_diff(logits.to_float_vector(), p.all_logits), kTol) << p.name;
  }
  if (!any) GTEST_SKIP() << "no prompt with all_logits in " << dir_;
}

TEST_P(GoldenTest, ChunkedPromptMatches) {
  for (const Prompt& p : prompts_) {
    if (p.ids.size() < 4) continue;
    for (size_t chunk : {size_t{1}, size_t{3}, size_t{7}}) {
      std::vector<float> got = run_chunked(p.ids, chunk);
      EXPECT_LE(max_abs_diff(got, p.last_logits), kTol) << p.name << " chunk " << chunk;
    }
  }
}

TEST_P(GoldenTest, GreedyWithKvCache) {
  for (const Prompt& p : prompts_) {
    nn::KvCache cache = model().make_cache();
    cache.add_sequence(0);
    BatchItem item{0, p.ids};
    std::vector<float> row = model().forward({&item, 1}, cache).to_float_vector();
    std::vector<int32_t> out;
    while (out.size() < p.greedy.size()) {
      out.push_back(argmax(row));
      item.tokens = std::span<const int32_t>(&out.back(), 1);
      if (out.size() < p.greedy.size()) row = model().forward({&item, 1}, cache).to_float_vector();
    }
    EXPECT_EQ(out, p.greedy) << "prompt " << p.name;
  }
}

// All prompts as one batch: each sequence first gets a different-sized part of its prompt
// alone, then the rest of every prompt goes in one forward; rows must match the golden logits.
TEST_P(GoldenTest, BatchedSequencesMatchAlone) {
  nn::KvCache cache = model().make_cache();
  std::vector<BatchItem> batch;
  for (size_t s = 0; s < prompts_.size(); ++s) {
    const std::vector<int32_t>& ids = prompts_[s].ids;
    const int seq = static_cast<int>(10 + s);
    cache.add_sequence(seq);
    const size_t head = (ids.size() * s) / (prompts_.size() + 1);  // 0 for the first prompt
    if (head > 0) {
      BatchItem first{seq, std::span<const int32_t>(ids).first(head)};
      model().forward({&first, 1}, cache);
    }
    batch.push_back({seq, std::span<const int32_t>(ids).subspan(head)});
  }
  Tensor logits = model().forward(batch, cache);
  ASSERT_EQ(logits.dim(0), static_cast<int64_t>(prompts_.size()));
  std::vector<float> all = logits.to_float_vector();
  for (size_t s = 0; s < prompts_.size(); ++s) {
    std::span<const float> row(all.data() + s * static_cast<size_t>(vocab_),
                               static_cast<size_t>(vocab_));
    EXPECT_LE(max_abs_diff(row, prompts_[s].last_logits), kTol) << prompts_[s].name;
    EXPECT_EQ(cache.length(static_cast<int>(10 + s)), static_cast<int64_t>(prompts_[s].ids.size()));
  }
  // One decode step for every sequence at once: each continues with its first greedy token.
  std::vector<int32_t> next;
  for (const Prompt& p : prompts_) next.push_back(p.greedy[0]);
  for (size_t s = 0; s < prompts_.size(); ++s)
    batch[s].tokens = std::span<const int32_t>(&next[s], 1);
  std::vector<float> step = model().forward(batch, cache).to_float_vector();
  for (size_t s = 0; s < prompts_.size(); ++s) {
    std::span<const float> row(step.data() + s * static_cast<size_t>(vocab_),
                               static_cast<size_t>(vocab_));
    EXPECT_EQ(argmax(row), prompts_[s].greedy[1]) << prompts_[s].name;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, GoldenTest,
                         ::testing::Values("llama", "llama_legacy_config", "llama_tied", "smollm2",
                                           "mistral", "qwen2", "qwen3", "qwen3_moe", "gemma3",
                                           "gemma3_legacy_config", "phi3", "gpt2"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace wick::models
