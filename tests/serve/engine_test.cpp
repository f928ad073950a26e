// Engine tests: what a batched sequence produces must equal what the single-sequence
// gen::Generator produces for the same prompt and sampling parameters — with many requests
// at once, chunked prefill, preemption under a tiny KV pool — and cancelling frees the
// sequence's KV blocks at once. Exact equality needs batch-invariant kernels: the CPU fast
// linear kernels round differently for 1-2 rows (GEMV) than for more (GEMM), so these tests
// run the reference kernels, whose result for a row does not depend on the batch.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "backend/kernel_table.h"
#include "generate/bundle.h"
#include "generate/generator.h"
#include "models/registry.h"
#include "serve/engine.h"

namespace wick::serve {
namespace {

namespace fs = std::filesystem;

// Collects the events of many requests; wait() blocks until a request's choices all finished.
class Collector {
 public:
  EventFn callback(uint64_t id) {
    return [this, id](Event ev) {
      std::lock_guard lock(mu_);
      Result& r = results_[id];
      if (r.ids.size() <= static_cast<size_t>(ev.choice)) {
        r.ids.resize(static_cast<size_t>(ev.choice) + 1);
        r.text.resize(static_cast<size_t>(ev.choice) + 1);
      }
      for (const TokenOut& t : ev.tokens) r.ids[static_cast<size_t>(ev.choice)].push_back(t.id);
      r.text[static_cast<size_t>(ev.choice)] += ev.text;
      r.events++;
      if (ev.finish != Finish::kNone) {
        r.finished++;
        r.last = ev.finish;
        r.error = ev.error;
      }
      cv_.notify_all();
    };
  }
  struct Result {
    std::vector<std::vector<int32_t>> ids;
    std::vector<std::string> text;
    int events = 0, finished = 0;
    Finish last = Finish::kNone;
    std::string error;
  };
  Result wait(uint64_t id, int choices = 1) {
    std::unique_lock lock(mu_);
    const bool ok = cv_.wait_for(lock, std::chrono::seconds(120),
                                 [&] { return results_[id].finished == choices; });
    EXPECT_TRUE(ok) << "request " << id << " did not finish";
    return results_[id];
  }
  int events(uint64_t id) {
    std::lock_guard lock(mu_);
    return results_[id].events;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, Result> results_;
};

std::vector<int32_t> random_prompt(std::mt19937& rng, int len, int vocab) {
  std::uniform_int_distribution<int32_t> d(0, vocab - 1);
  std::vector<int32_t> p(static_cast<size_t>(len));
  for (auto& id : p) id = d(rng);
  return p;
}

std::vector<int32_t> reference(const models::Model& model, const std::vector<int32_t>& prompt,
                               const gen::SamplingParams& sampling, int max_tokens) {
  gen::Generator g(model, nullptr);
  gen::GenerateOptions o;
  o.max_tokens = max_tokens;
  o.sampling = sampling;
  return g.generate(prompt, o).ids;
}

// Reference kernels for the duration of a test (see the file comment).
class ReferenceKernels {
 public:
  ReferenceKernels() : was_(force_reference_kernels()) { set_force_reference_kernels(true); }
  ~ReferenceKernels() { set_force_reference_kernels(was_); }

 private:
  bool was_;
};

class EngineTest : public ::testing::Test {
 protected:
  ReferenceKernels reference_kernels_;
  void SetUp() override {
    const fs::path dir = fs::path(WICK_SOURCE_DIR) / "tests/data/models/llama";
    if (!fs::exists(dir / "model.safetensors"))
      GTEST_SKIP() << "golden model absent: " << dir.string();
    loaded_ = models::load_model(dir.string());
  }
  const models::Model& model() const { return *loaded_.model; }
  models::LoadedModel loaded_;
};

gen::SamplingParams greedy() {
  gen::SamplingParams p;
  p.temperature = 0;
  return p;
}

TEST_F(EngineTest, ConcurrentGreedyRequestsMatchTheSingleSequenceGenerator) {
  EngineOptions opt;
  opt.step_tokens = 24;  // forces chunked prefill of the longer prompts
  Engine engine(model(), nullptr, {}, opt);
  Collector col;
  std::mt19937 rng(7);
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 12; ++i) prompts.push_back(random_prompt(rng, 3 + 7 * i, 256));
  for (size_t i = 0; i < prompts.size(); ++i) {
    RequestSpec spec;
    spec.prompt = prompts[i];
    spec.max_tokens = 20;
    spec.sampling = greedy();
    ASSERT_EQ(engine.submit(i, spec, col.callback(i)), Admission::kAccepted);
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto r = col.wait(i);
    EXPECT_EQ(r.last, Finish::kLength);
    EXPECT_EQ(r.ids[0], reference(model(), prompts[i], greedy(), 20)) << "request " << i;
  }
}

TEST_F(EngineTest, SeededSamplingPerChoiceMatchesTheGenerator) {
  Engine engine(model(), nullptr, {}, EngineOptions{});
  Collector col;
  std::mt19937 rng(11);
  RequestSpec spec;
  spec.prompt = random_prompt(rng, 9, 256);
  spec.n = 3;
  spec.max_tokens = 24;
  spec.sampling.temperature = 1.0f;
  spec.sampling.seed = 1234;
  ASSERT_EQ(engine.submit(1, spec, col.callback(1)), Admission::kAccepted);
  const auto r = col.wait(1, 3);
  for (int c = 0; c < 3; ++c) {
    gen::SamplingParams p = spec.sampling;
    p.seed += static_cast<uint64_t>(c);
    EXPECT_EQ(r.ids[static_cast<size_t>(c)], reference(model(), spec.prompt, p, 24))
        << "choice " << c;
  }
  EXPECT_NE(r.ids[0], r.ids[1]) << "choices with different seeds should differ";
}

TEST_F(EngineTest, PreemptionUnderATinyKvPoolKeepsOutputsIdentical) {
  EngineOptions opt;
  opt.block_size = 4;
  opt.kv_blocks = 24;  // one 40-token sequence needs 10 blocks: six at once cannot all fit
  opt.step_tokens = 16;
  Engine engine(model(), nullptr, {}, opt);
  Collector col;
  std::mt19937 rng(3);
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 6; ++i) prompts.push_back(random_prompt(rng, 10 + i, 256));
  for (size_t i = 0; i < prompts.size(); ++i) {
    RequestSpec spec;
    spec.prompt = prompts[i];
    spec.max_tokens = 28;
    spec.sampling = greedy();
    ASSERT_EQ(engine.submit(i, spec, col.callback(i)), Admission::kAccepted);
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto r = col.wait(i);
    EXPECT_EQ(r.last, Finish::kLength) << r.error;
    EXPECT_EQ(r.ids[0], reference(model(), prompts[i], greedy(), 28)) << "request " << i;
  }
  engine.drain();
  EXPECT_GT(engine.load().preemptions, 0) << "the pool was meant to force preemption";
  EXPECT_EQ(engine.load().kv_blocks_used, 0);
}

TEST_F(EngineTest, CancelFreesTheSequenceAtOnce) {
  Engine engine(model(), nullptr, {}, EngineOptions{});
  Collector col;
  std::mt19937 rng(5);
  RequestSpec spec;
  spec.prompt = random_prompt(rng, 40, 256);
  spec.max_tokens = 200;
  spec.sampling = greedy();
  ASSERT_EQ(engine.submit(9, spec, col.callback(9)), Admission::kAccepted);
  for (int i = 0; i < 2000 && col.events(9) < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_GE(col.events(9), 2);
  engine.cancel(9);
  bool freed = false;
  for (int i = 0; i < 2000 && !freed; ++i) {
    const Engine::Load l = engine.load();
    freed = l.running == 0 && l.waiting == 0 && l.kv_blocks_used == 0;
    if (!freed) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(freed);
  EXPECT_LT(col.events(9), 200) << "the request ran to the end despite the cancel";
}

TEST_F(EngineTest, RejectsBadSpecsNamingTheField) {
  EngineOptions opt;
  opt.max_queue = 1;
  Engine engine(model(), nullptr, {}, opt);
  RequestSpec spec;
  EXPECT_THROW(engine.submit(1, spec, [](Event) {}), Error);  // empty prompt
  spec.prompt = {1, 2, 999};
  try {
    engine.submit(1, spec, [](Event) {});
    FAIL() << "token id 999 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("999"), std::string::npos) << e.what();
  }
  spec.prompt.assign(300, 1);  // beyond the 256-token context
  EXPECT_THROW(engine.submit(1, spec, [](Event) {}), Error);
  spec.prompt = {1, 2};
  spec.n = 0;
  EXPECT_THROW(engine.submit(1, spec, [](Event) {}), Error);
}

// The real SmolLM2 with its tokenizer: text (UTF-8 safe detokenization, stop strings held back)
// equals the Generator's for several concurrent prompts.
TEST(EngineSmolLM2, ConcurrentTextAndStopStringsMatchTheGenerator) {
  const fs::path path = fs::path(WICK_SOURCE_DIR) / "models/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!fs::exists(path)) GTEST_SKIP() << "model absent: " << path.string();
  ReferenceKernels reference_kernels;
  gen::ModelBundle b = gen::load_bundle(path.string());
  ASSERT_TRUE(b.tokenizer);
  Engine engine(b.model(), b.tokenizer.get(), b.eos_ids, EngineOptions{});
  Collector col;
  const std::vector<std::string> texts = {"The capital of France is",
                                          "def fibonacci(n):", "Once upon a time", "1, 2, 3, 4,"};
  const std::vector<std::string> stop = {"\n\n", " 9,"};
  for (size_t i = 0; i < texts.size(); ++i) {
    RequestSpec spec;
    spec.prompt = b.tokenizer->encode(texts[i]);
    spec.max_tokens = 16;
    spec.sampling = greedy();
    spec.stop = stop;
    ASSERT_EQ(engine.submit(i, spec, col.callback(i)), Admission::kAccepted);
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto r = col.wait(i);
    gen::Generator g(b.model(), b.tokenizer.get());
    gen::GenerateOptions o;
    o.max_tokens = 16;
    o.sampling = greedy();
    o.stop_strings = stop;
    o.eos_ids = b.eos_ids;
    const gen::GenerateResult want = g.generate(b.tokenizer->encode(texts[i]), o);
    EXPECT_EQ(r.text[0], want.text) << texts[i];
    EXPECT_EQ(r.ids[0], want.ids) << texts[i];
  }
}

}  // namespace
}  // namespace wick::serve
