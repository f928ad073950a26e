// The golden models on the GPU (built with WICK_CUDA, skipped without a device): weights uploaded
// at load, activations and the KV cache on the device, logits copied back. f32: greedy tokens
// identical to transformers' and last-position logits within kF32Tol of them. bf16 (every float
// matrix cast to bf16 at load): logits within kBf16Tol of the same bf16 model on the CPU. Also:
// 1,000 consecutive generate calls leave the caching allocator's in-use bytes unchanged.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/ops.h"
#include "generate/generator.h"
#include "models/decoder.h"
#include "models/registry.h"
#include "nn/weights.h"
#ifdef WICK_HAS_CUDA
#include "backends/cuda/memory_stats.h"
#endif

namespace wick::models {
namespace {

// cuBLAS and the fused attention sum in another order than the CPU kernels; transformers'
// logits agree with the CPU to 1e-4.
constexpr double kF32Tol = 5e-4;
// Same bf16 weights on both devices, f32 activations: only summation order differs.
constexpr double kBf16Tol = 2e-3;

bool have_gpu() {
  const Backend* b = find_backend(DeviceType::kCuda);
  return b != nullptr && b->device_count() > 0;
}

std::string model_dir(const std::string& name) {
  return std::string(WICK_SOURCE_DIR) + "/tests/data/models/" + name;
}

struct Prompt {
  std::vector<int32_t> ids, greedy;
  std::vector<float> last_logits;
};

std::vector<Prompt> read_prompts(const std::string& dir) {
  std::ifstream in(dir + "/expected.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  std::vector<Prompt> out;
  for (const auto& p : j["prompts"])
    out.push_back({p["ids"].get<std::vector<int32_t>>(), p["greedy"].get<std::vector<int32_t>>(),
                   p["last_logits"].get<std::vector<float>>()});
  return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  return m;
}

// Greedy decoding of `n` tokens after `ids`; `first` receives the prompt's last logits.
std::vector<int32_t> greedy(const Model& m, const std::vector<int32_t>& ids, size_t n,
                            std::vector<float>* first) {
  nn::KvCache cache = m.make_cache();
  cache.add_sequence(0);
  BatchItem item{0, ids};
  std::vector<float> row = m.forward({&item, 1}, cache).to_float_vector();
  if (first) *first = row;
  std::vector<int32_t> out;
  while (out.size() < n) {
    out.push_back(static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin()));
    item.tokens = std::span<const int32_t>(&out.back(), 1);
    if (out.size() < n) row = m.forward({&item, 1}, cache).to_float_vector();
  }
  return out;
}

// Every 2-D float tensor of `inner` as bf16 (norms and biases stay as stored).
class Bf16Matrices : public WeightSource {
 public:
  explicit Bf16Matrices(const WeightSource& inner) : inner_(inner) {}
  const std::vector<std::string>& names() const override { return inner_.names(); }
  bool contains(std::string_view n) const override { return inner_.contains(n); }
  WeightInfo info(std::string_view n) const override {
    WeightInfo i = inner_.info(n);
    if (cast(i)) {
      i.dtype = DType::kBF16;
      i.n_bytes /= dtype_info(inner_.info(n).dtype).block_bytes / 2;
    }
    return i;
  }
  Bytes bytes(std::string_view n) const override {
    if (!cast(inner_.info(n))) return inner_.bytes(n);
    const Tensor t = to_dtype(inner_.tensor(n), DType::kBF16);
    return {{static_cast<const uint8_t*>(t.raw_data()), static_cast<size_t>(t.nbytes())},
            t.storage()};
  }
  WeightFixup fixup(std::string_view n) const override { return inner_.fixup(n); }
  std::string describe() const override { return inner_.describe() + " (matrices as bf16)"; }

 private:
  static bool cast(const WeightInfo& i) {
    return i.shape.size() == 2 && (i.dtype == DType::kF32 || i.dtype == DType::kF16);
  }
  const WeightSource& inner_;
};

class GoldenCudaTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!have_gpu()) GTEST_SKIP() << "no CUDA device (or a build without WICK_CUDA)";
    dir_ = model_dir(GetParam());
    if (!std::filesystem::exists(dir_ + "/expected.json"))
      GTEST_SKIP() << "golden data absent: " << dir_;
    prompts_ = read_prompts(dir_);
  }
  std::string dir_;
  std::vector<Prompt> prompts_;
};

TEST_P(GoldenCudaTest, F32GreedyAndLogitsMatchTransformers) {
  LoadedModel gpu = load_model(dir_, Device::cuda());
  for (size_t i = 0; i < prompts_.size(); ++i) {
    const Prompt& p = prompts_[i];
    std::vector<float> logits;
    EXPECT_EQ(greedy(*gpu.model, p.ids, p.greedy.size(), &logits), p.greedy) << "prompt " << i;
    EXPECT_LE(max_abs_diff(logits, p.last_logits), kF32Tol) << "prompt " << i;
  }
}

TEST_P(GoldenCudaTest, Bf16LogitsMatchCpu) {
  const HfConfig hf = HfConfig::load(dir_);
  const Architecture& arch = find_hf_architecture(hf);
  const ModelConfig config = arch.config_from_hf(hf);
  const std::unique_ptr<WeightSource> file = open_weight_source(dir_);
  const Bf16Matrices ws(*file);
  const std::unique_ptr<Model> cpu = build_model(config, arch, ws);
  std::unique_ptr<Model> gpu;
  {
    nn::ScopedLoadDevice on(Device::cuda());
    gpu = build_model(config, arch, ws);
  }
  gpu->set_device(Device::cuda());
  for (size_t i = 0; i < prompts_.size(); ++i) {
    std::vector<float> want, got;
    const std::vector<int32_t> cpu_ids = greedy(*cpu, prompts_[i].ids, 8, &want);
    const std::vector<int32_t> gpu_ids = greedy(*gpu, prompts_[i].ids, 8, &got);
    EXPECT_LE(max_abs_diff(got, want), kBf16Tol) << "prompt " << i;
    EXPECT_EQ(gpu_ids, cpu_ids) << "prompt " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, GoldenCudaTest,
                         ::testing::Values("llama", "llama_tied", "smollm2", "mistral", "qwen2",
                                           "qwen3", "gemma3", "phi3", "gpt2"),
                         [](const auto& p) { return p.param; });

// Decode steps of 3 sequences at once (one token each) after different prompts: every step's
// logits, in order.
std::vector<std::vector<float>> batched_decode(const Model& m, int steps) {
  nn::KvCache cache = m.make_cache();
  const std::vector<std::vector<int32_t>> prompts = {{1, 15, 27, 3}, {5, 9}, {2, 40, 41, 42, 7, 8}};
  std::vector<int32_t> next(prompts.size());
  for (size_t s = 0; s < prompts.size(); ++s) {
    cache.add_sequence(static_cast<int>(s));
    BatchItem item{static_cast<int>(s), prompts[s]};
    const std::vector<float> row = m.forward({&item, 1}, cache).to_float_vector();
    next[s] = static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
  }
  const auto vocab = static_cast<std::ptrdiff_t>(m.config().vocab_size);
  std::vector<std::vector<float>> out;
  for (int step = 0; step < steps; ++step) {
    std::vector<BatchItem> items;
    for (size_t s = 0; s < prompts.size(); ++s)
      items.push_back({static_cast<int>(s), std::span<const int32_t>(&next[s], 1)});
    out.push_back(m.forward(items, cache).to_float_vector());
    for (size_t s = 0; s < prompts.size(); ++s) {
      const auto row = out.back().begin() + static_cast<std::ptrdiff_t>(s) * vocab;
      next[s] = static_cast<int32_t>(std::max_element(row, row + vocab) - row);
    }
  }
  return out;
}

// Replaying the recorded decode step (CUDA graph) gives the eager logits at every step, for one
// sequence and for a batch of 3.
TEST_P(GoldenCudaTest, GraphReplayMatchesEagerLogits) {
  LoadedModel gpu = load_model(dir_, Device::cuda());
  auto* dec = dynamic_cast<Decoder*>(gpu.model.get());
  ASSERT_NE(dec, nullptr);
  auto run = [&](bool graphs, std::vector<std::vector<float>>* steps) {
    dec->set_step_graphs(graphs);
    nn::KvCache cache = gpu.model->make_cache();
    cache.add_sequence(0);
    BatchItem item{0, prompts_[0].ids};
    std::vector<float> row = gpu.model->forward({&item, 1}, cache).to_float_vector();
    std::vector<int32_t> toks;
    for (int i = 0; i < 40; ++i) {
      toks.push_back(static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin()));
      item.tokens = std::span<const int32_t>(&toks.back(), 1);
      row = gpu.model->forward({&item, 1}, cache).to_float_vector();
      steps->push_back(row);
    }
    return toks;
  };
  std::vector<std::vector<float>> eager, replay;
  const std::vector<int32_t> want = run(false, &eager);
  const int64_t before = dec->step_graphs_recorded();
  const std::vector<int32_t> got = run(true, &replay);
  EXPECT_GT(dec->step_graphs_recorded(), before) << "no graph was recorded";
  EXPECT_EQ(got, want);
  ASSERT_EQ(replay.size(), eager.size());
  for (size_t i = 0; i < eager.size(); ++i)
    EXPECT_LE(max_abs_diff(replay[i], eager[i]), 1e-4) << "step " << i;
  dec->set_step_graphs(false);
  const auto batch_eager = batched_decode(*gpu.model, 6);
  dec->set_step_graphs(true);
  const auto batch_replay = batched_decode(*gpu.model, 6);
  ASSERT_EQ(batch_replay.size(), batch_eager.size());
  for (size_t i = 0; i < batch_eager.size(); ++i)
    EXPECT_LE(max_abs_diff(batch_replay[i], batch_eager[i]), 1e-4) << "batched step " << i;
}

#ifdef WICK_HAS_CUDA
// 1,000 generate calls on one Generator: after the first few (which size the KV pool and warm
// the allocator's cache) the bytes held by live device storages must not grow.
TEST(CudaGenerate, ThousandCallsLeakNoDeviceMemory) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  const std::string dir = model_dir("llama");
  if (!std::filesystem::exists(dir + "/model.safetensors")) GTEST_SKIP() << "no " << dir;
  LoadedModel m = load_model(dir, Device::cuda());
  gen::Generator g(*m.model, nullptr);
  gen::GenerateOptions opt;
  opt.max_tokens = 4;
  const std::vector<int32_t> prompt = {1, 15, 27, 3, 99, 8};
  size_t baseline = 0;
  for (int i = 0; i < 1000; ++i) {
    g.reset();
    EXPECT_EQ(g.generate(prompt, opt).ids.size(), 4u);
    if (i == 9) baseline = cuda::memory_stats(0).in_use_bytes;
  }
  find_backend(DeviceType::kCuda)->synchronize();
  EXPECT_EQ(cuda::memory_stats(0).in_use_bytes, baseline);
  EXPECT_GT(baseline, 0u);
}
#endif

TEST(CudaLoad, ModelThatDoesNotFitNamesItsSize) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  // Occupy nearly all device memory, then load: the error must say the weights do not fit.
  const std::string dir = model_dir("llama");
  std::vector<Tensor> hog;
  try {
    for (int i = 0; i < 4096; ++i)
      hog.push_back(Tensor::empty(Shape{int64_t{1} << 28}, DType::kU8, Device::cuda()));
  } catch (const Error& e) {
    ASSERT_EQ(e.kind(), ErrorKind::kOutOfMemory) << e.what();
  }
  // Leave less than the model needs but keep allocating until a small block fails too.
  try {
    for (int i = 0; i < 1 << 16; ++i)
      hog.push_back(Tensor::empty(Shape{int64_t{1} << 16}, DType::kU8, Device::cuda()));
  } catch (const Error&) {
  }
  try {
    load_model(dir, Device::cuda());
    ADD_FAILURE() << "loading into a full device succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kOutOfMemory);
    EXPECT_NE(std::string(e.what()).find("do not fit on cuda:0"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace wick::models
