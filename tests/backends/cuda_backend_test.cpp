// CUDA backend tests beyond the op-parity harness: device detection, the caching allocator and
// its out-of-memory error, device-side index errors, and linear() at model-like sizes (the
// quantized GEMV with many units per lane, the dequantize + cuBLAS path for larger batches).
// Every test skips when the build or the machine has no CUDA device; they compile everywhere.
// CudaBench.* (only with WICK_CUDA_BENCH=1) times decode-shaped linear() against copy bandwidth.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/ops.h"
#include "core/quant/quant.h"
#include "op_parity.h"

namespace wick {
namespace {

Backend* cuda_or_skip() {
  Backend* b = find_backend(DeviceType::kCuda);
  return b != nullptr && b->device_count() > 0 ? b : nullptr;
}

#define REQUIRE_CUDA()               \
  Backend* backend = cuda_or_skip(); \
  if (backend == nullptr) GTEST_SKIP() << "no CUDA backend in this build or machine"

TEST(CudaBackend, DefaultDeviceFollowsDetection) {
  Backend* b = find_backend(DeviceType::kCuda);
  const bool has_gpu = b != nullptr && b->device_count() > 0;
  EXPECT_EQ(default_device(), has_gpu ? Device::cuda(0) : Device::cpu());
}

TEST(CudaBackend, RoundTripKeepsBytes) {
  REQUIRE_CUDA();
  std::vector<float> v(1000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) * 0.5f - 7.0f;
  const Tensor host = Tensor::from_floats({10, 100}, v);
  const Tensor dev = to_device(host, Device::cuda());
  EXPECT_EQ(dev.device(), Device::cuda());
  EXPECT_EQ(to_device(dev, Device::cpu()).to_float_vector(), v);
  // A strided device view comes back as its logical values.
  const Tensor back = to_device(dev.t(), Device::cpu());
  EXPECT_EQ(back.shape(), (Shape{100, 10}));
  EXPECT_EQ(back.to_float_vector()[1], v[100]);
}

TEST(CudaBackend, AllocatorReusesFreedBlocks) {
  REQUIRE_CUDA();
  void* first = nullptr;
  {
    const Tensor t = Tensor::empty({1 << 20}, DType::kF32, Device::cuda());
    first = t.raw_data();
  }
  const Tensor again = Tensor::empty({1 << 20}, DType::kF32, Device::cuda());
  EXPECT_EQ(again.raw_data(), first);
}

TEST(CudaBackend, OutOfMemoryNamesSizeAndFreeMemory) {
  REQUIRE_CUDA();
  try {
    (void)Tensor::empty({int64_t{1} << 48}, DType::kU8, Device::cuda());  // 256 TiB
    FAIL() << "expected an out-of-memory error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kOutOfMemory);
    const std::string msg = e.what();
    EXPECT_NE(msg.find("281474976710656 bytes"), std::string::npos) << msg;
    EXPECT_NE(msg.find("MiB free"), std::string::npos) << msg;
  }
  // The device still works afterwards.
  const Tensor ok = full({4}, 2.0, DType::kF32, Device::cuda());
  EXPECT_EQ(to_device(ok, Device::cpu()).to_float_vector(), std::vector<float>(4, 2.0f));
}

TEST(CudaBackend, OutOfRangeIndexIsReported) {
  REQUIRE_CUDA();
  const Tensor x =
      to_device(Tensor::from_floats({3, 2}, std::vector<float>{1, 2, 3, 4, 5, 6}), Device::cuda());
  const Tensor idx = to_device(Tensor::from_vector<int32_t>({2}, {0, 7}), Device::cuda());
  const Tensor out = index_select(x, 0, idx);
  EXPECT_THROW(backend->synchronize(), Error);
  backend->synchronize();  // the flag is cleared once reported
  (void)out;
}

// linear() on the GPU vs the CPU reference for weights of `q` (N, K) and `rows` rows of x.
void check_linear(DType q, int64_t rows, int64_t n, int64_t k, DType x_dtype) {
  parity::Rng rng(static_cast<uint64_t>(n * 131 + k * 7 + rows) ^ static_cast<uint64_t>(q));
  const Tensor w = dtype_is_quantized(q) ? parity::random_quantized(rng, {n, k}, q, -1, 1)
                                         : parity::random_tensor(rng, {n, k}, q, -1, 1);
  const Tensor x = parity::random_tensor(rng, {rows, k}, x_dtype, -1, 1);
  const Tensor bias = parity::random_tensor(rng, {n}, DType::kF32, -1, 1);
  // The plain formula in double over the reference-decoded weight (the CPU's own linear() may
  // round x to Q8 blocks on its fast path).
  const std::vector<float> wf = to_dtype(w, DType::kF32).to_float_vector();
  const std::vector<float> xf = x.to_float_vector(), bf = bias.to_float_vector();
  std::vector<float> want(static_cast<size_t>(rows * n));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) {
      double acc = bf[static_cast<size_t>(j)];
      for (int64_t p = 0; p < k; ++p)
        acc += static_cast<double>(xf[static_cast<size_t>(r * k + p)]) *
               wf[static_cast<size_t>(j * k + p)];
      want[static_cast<size_t>(r * n + j)] = static_cast<float>(acc);
    }
  const Tensor got_dev = linear(to_device(x, Device::cuda()), to_device(w, Device::cuda()),
                                to_device(bias, Device::cuda()));
  const std::vector<float> got = to_device(got_dev, Device::cpu()).to_float_vector();
  ASSERT_EQ(got.size(), want.size());
  // x and w products summed over k values in [-1, 1]: bf16 inputs (the prefill path) cost
  // ~2^-8 relative per term.
  const bool bf16_path =
      x_dtype == DType::kBF16 || q == DType::kBF16 || (dtype_is_quantized(q) && rows > 8);
  const double atol = (bf16_path ? 2e-2 : 1e-3) * std::sqrt(static_cast<double>(k));
  // The decode GEMV on block weights may round x to int8 blocks of 32 (step d = amax / 127, as
  // the CPU integer path): each x value moves by at most d / 2, uniformly, so output j moves by
  // sum_p w_jp e_p with variance sum_p w_jp^2 d_p^2 / 12; allow 6 standard deviations.
  // Batches of 9+ rows take either path (WICK_CUDA_QGEMV_ROWS), so they get both allowances.
  const bool q8_x = dtype_is_quantized(q);
  std::vector<double> step_var(static_cast<size_t>(rows * n), 0.0);
  if (q8_x)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t b = 0; b < k / 32; ++b) {
        float amax = 0.0f;
        for (int64_t p = 0; p < 32; ++p)
          amax = std::max(amax, std::fabs(xf[static_cast<size_t>(r * k + b * 32 + p)]));
        const double d = amax / 127.0;
        for (int64_t j = 0; j < n; ++j)
          for (int64_t p = 0; p < 32; ++p) {
            const double wv = wf[static_cast<size_t>(j * k + b * 32 + p)];
            step_var[static_cast<size_t>(r * n + j)] += wv * wv * d * d / 12.0;
          }
      }
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <=
          atol + 6.0 * std::sqrt(step_var[i]) + 1e-2 * std::fabs(want[i])) &&
        ++bad < 5)
      ADD_FAILURE() << dtype_name(q) << " rows " << rows << " [" << i << "] got " << got[i]
                    << " want " << want[i];
  EXPECT_EQ(bad, 0);
}

TEST(CudaLinear, QuantizedGemvAndPrefillMatchCpu) {
  REQUIRE_CUDA();
  (void)backend;
  for (DType q : {DType::kQ4_0, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K, DType::kQ5_K})
    for (int64_t rows : {1, 5, 8, 33}) check_linear(q, rows, 96, 2048, DType::kF32);
  check_linear(DType::kQ4_0, 3, 64, 1024, DType::kBF16);
  // The int8-activation GEMV and chunked dequantize: k with a partial last chunk (1280 = 1024 +
  // 256), column counts that leave partial column groups (1, 2 and 4 per block), and k % 256 != 0
  // (the generic kernels).
  for (DType q : {DType::kQ4_0, DType::kQ8_0}) {
    for (int64_t rows : {1, 2, 8, 9, 16, 17, 40}) check_linear(q, rows, 4099, 1280, DType::kF32);
    // One warp per block (k <= 1024) with 4 columns per group and 16 rows: 64 sums to write.
    check_linear(q, 16, 8200, 512, DType::kF32);
    for (int64_t rows : {1, 3}) check_linear(q, rows, 2050, 512, DType::kF32);
    for (int64_t rows : {1, 7}) check_linear(q, rows, 33, 14336, DType::kF32);
    check_linear(q, 4, 40, 96, DType::kF32);
    check_linear(q, 12, 40, 96, DType::kF32);
  }
}

TEST(CudaLinear, FloatWeightsMatchCpu) {
  REQUIRE_CUDA();
  (void)backend;
  for (int64_t rows : {1, 7, 40}) {
    check_linear(DType::kF32, rows, 80, 512, DType::kF32);
    check_linear(DType::kBF16, rows, 80, 512, DType::kBF16);
    check_linear(DType::kF16, rows, 80, 512, DType::kF32);
  }
}

// ---- timings (opt-in) ----

double seconds_per_call(Backend* backend, int iters, const std::function<void()>& fn) {
  fn();
  backend->synchronize();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) fn();
  backend->synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters;
}

TEST(CudaBench, DecodeLinearVsCopyBandwidth) {
  REQUIRE_CUDA();
  const char* env = std::getenv("WICK_CUDA_BENCH");
  if (env == nullptr || env[0] != '1') GTEST_SKIP() << "set WICK_CUDA_BENCH=1 to time";
  const Device gpu = Device::cuda();
  // Copy bandwidth: 1 GiB device-to-device (read + write counted).
  const int64_t copy_bytes = int64_t{1} << 30;
  const Tensor src = zeros({copy_bytes / 4}, DType::kF32, gpu);
  const Tensor dst = Tensor::empty({copy_bytes / 4}, DType::kF32, gpu);
  const double t_memcpy = seconds_per_call(backend, 20, [&] {
    backend->copy_device_to_device(src.raw_data(), dst.raw_data(), static_cast<size_t>(copy_bytes));
  });
  const double t_kernel = seconds_per_call(backend, 20, [&] { (void)copy(src); });
  const double t_add = seconds_per_call(backend, 20, [&] { (void)add(src, dst); });
  std::printf(
      "copy 1 GiB d2d: cudaMemcpy %.1f GB/s, wick copy kernel %.1f GB/s (read+write); "
      "add f32 %.1f GB/s (2 reads + 1 write)\n",
      2.0 * copy_bytes / t_memcpy / 1e9, 2.0 * copy_bytes / t_kernel / 1e9,
      3.0 * copy_bytes / t_add / 1e9);
  // Llama-3-8B MLP shapes: up/gate (14336, 4096) and down (4096, 14336).
  struct Shape2 {
    int64_t n, k;
  };
  // WICK_CUDA_BENCH_ONLY=q4_0,q8_0 limits the weight types.
  const char* only_env = std::getenv("WICK_CUDA_BENCH_ONLY");
  const std::string only = only_env != nullptr ? std::string(",") + only_env + "," : "";
  for (const Shape2 s :
       {Shape2{14336, 4096}, Shape2{4096, 14336}, Shape2{4096, 4096}, Shape2{1024, 4096}}) {
    parity::Rng rng(42);
    for (DType q :
         {DType::kQ4_0, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K, DType::kBF16, DType::kF16}) {
      if (!only.empty() && only.find(std::string(",") + dtype_name(q) + ",") == std::string::npos)
        continue;
      const Tensor w_host = dtype_is_quantized(q)
                                ? parity::random_quantized(rng, {s.n, s.k}, q, -1, 1)
                                : parity::random_tensor(rng, {s.n, s.k}, q, -1, 1);
      const Tensor w = to_device(w_host, gpu);
      const double w_bytes = static_cast<double>(w.nbytes());
      for (int64_t rows : {1, 8, 512}) {
        const DType xt = q == DType::kBF16 ? DType::kBF16 : DType::kF32;
        const Tensor x = to_device(parity::random_tensor(rng, {rows, s.k}, xt, -1, 1), gpu);
        const double t = seconds_per_call(backend, 50, [&] { (void)linear(x, w); });
        std::printf(
            "linear %-6s N=%-6lld K=%-6lld rows=%-4lld %8.1f us  weight stream %7.1f GB/s"
            "  %8.1f TFLOP/s\n",
            dtype_name(q), static_cast<long long>(s.n), static_cast<long long>(s.k),
            static_cast<long long>(rows), t * 1e6, w_bytes / t / 1e9,
            2.0 * rows * s.n * s.k / t / 1e12);
      }
    }
  }
}

}  // namespace
}  // namespace wick
