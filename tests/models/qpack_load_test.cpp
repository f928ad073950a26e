// nn::Linear::load packs a quantized weight read from a mapped GGUF (backends/cpu/qpack.h): the
// packed weight unpacks to the file's bytes, the mapping stays readable after its pages were
// dropped, and linear gives the plain weight's result.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "backend/kernel_table.h"
#include "backend/ops.h"
#include "backends/cpu/qpack.h"
#include "core/quant/quant.h"
#include "formats/gguf_writer.h"
#include "formats/weight_source.h"
#include "nn/linear.h"

namespace wick {
namespace {

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<uint8_t> bytes_of(const Tensor& t) {
  const auto* p = static_cast<const uint8_t*>(t.raw_data());
  return {p, p + t.nbytes()};
}

struct Weight {
  Tensor w;
};
Weight make_weight(DType dt, int64_t n, int64_t k, uint32_t seed) {
  const std::vector<float> v = random_floats(static_cast<size_t>(n * k), seed);
  Weight out{Tensor::empty({n, k}, dt)};
  const uint64_t row_bytes = dtype_bytes_for(dt, static_cast<uint64_t>(k));
  for (int64_t r = 0; r < n; ++r)
    quantize_row(dt, v.data() + r * k,
                 static_cast<uint8_t*>(out.w.raw_data()) + static_cast<uint64_t>(r) * row_bytes, k);
  return out;
}

bool packing_on(DType dt) {
  return cpu::qpack_enabled(dt);
}

// nn::Linear::load of a mapped GGUF: the weight is packed (its mapped pages dropped) and linear
// gives the plain weight's result.
TEST(QPackLoad, LinearLoadFromMappedGguf) {
  const DType dt = DType::kQ4_K;
  if (!packing_on(dt)) GTEST_SKIP() << "CPU lacks AVX-512 VNNI";
  const int64_t n = 40, k = 512;
  const Weight w = make_weight(dt, n, k, 19);
  GgufWriter writer;
  writer.add_string("general.architecture", "test");
  const int64_t shape[2] = {n, k};
  writer.add_tensor("proj.weight", dt, shape, bytes_of(w.w));
  const std::string path = ::testing::TempDir() + "/qpack_" + std::to_string(::getpid()) + ".gguf";
  writer.write(path);
  {
    const std::unique_ptr<WeightSource> ws = open_weight_source(path);
    const nn::Linear lin = nn::Linear::load(*ws, "proj", n, k, false);
    EXPECT_TRUE(is_packed(lin.weight));
    EXPECT_EQ(bytes_of(unpack_linear_weight(lin.weight)), bytes_of(w.w));
    const Tensor x = Tensor::from_floats({2, k}, random_floats(static_cast<size_t>(2 * k), 23));
    EXPECT_EQ(bytes_of(ws->tensor("proj.weight")), bytes_of(w.w));  // mapping still readable
    const std::vector<float> got = lin(x).to_float_vector();
    const std::vector<float> plain = linear(x, w.w).to_float_vector();
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], plain[i], 1e-4 * (1 + std::fabs(plain[i]))) << i;
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace wick
