// Packed linear weights (backends/cpu/qpack.h): packing is an exact byte permutation (unpack gives
// the GGUF bytes back), linear() on a packed weight matches the reference (dequantize + f32) within
// the activation-rounding bound and the scalar integer reference (qdot_ref.cpp) to float rounding,
// on odd N (partial tiles), M from decode to prefill, row views, bias, 1 and 2 threads; other ops
// reject packed weights. tests/models/qpack_load_test.cpp: loading from a mapped GGUF.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "backend/kernel_table.h"
#include "backend/ops.h"
#include "backends/cpu/qdot.h"
#include "backends/cpu/qgemm.h"
#include "backends/cpu/qpack.h"
#include "core/quant/quant.h"
#include "core/thread_pool.h"

namespace wick {
namespace {

const DType kPackedTypes[] = {DType::kQ4_0, DType::kQ4_1, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K};

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// A quantized (n, k) weight and its dequantized values.
struct Weight {
  Tensor w;
  std::vector<float> deq;
};
Weight make_weight(DType dt, int64_t n, int64_t k, uint32_t seed) {
  const std::vector<float> v = random_floats(static_cast<size_t>(n * k), seed);
  Weight out{Tensor::empty({n, k}, dt), std::vector<float>(static_cast<size_t>(n * k))};
  const uint64_t row_bytes = dtype_bytes_for(dt, static_cast<uint64_t>(k));
  for (int64_t r = 0; r < n; ++r) {
    auto* row = static_cast<uint8_t*>(out.w.raw_data()) + static_cast<uint64_t>(r) * row_bytes;
    quantize_row(dt, v.data() + r * k, row, k);
    dequantize_row_reference(dt, row, out.deq.data() + r * k, k);
  }
  return out;
}

std::vector<uint8_t> bytes_of(const Tensor& t) {
  const auto* p = static_cast<const uint8_t*>(t.raw_data());
  return {p, p + t.nbytes()};
}

struct ReferenceOnly {
  ReferenceOnly() { set_force_reference_kernels(true); }
  ~ReferenceOnly() { set_force_reference_kernels(false); }
};

struct Threads {
  explicit Threads(int n) : previous(ThreadPool::global().size()) {
    ThreadPool::set_global_threads(n);
  }
  ~Threads() { ThreadPool::set_global_threads(previous); }
  int previous;
};

bool packing_on(DType dt) {
  return cpu::qpack_enabled(dt);
}

TEST(QPack, TilesRoundTripExactly) {
  for (const DType dt : kPackedTypes) {
    const int64_t k = 512, n_blocks = k / dtype_info(dt).block_size;
    const Weight w = make_weight(dt, cpu::kPackRows, k, 1);
    const uint64_t row_bytes = dtype_bytes_for(dt, static_cast<uint64_t>(k));
    std::vector<uint8_t> tile(row_bytes * cpu::kPackRows), back(tile.size());
    const std::vector<uint8_t> orig = bytes_of(w.w);
    cpu::qpack_tile(dt, orig.data(), row_bytes, n_blocks, tile.data());
    EXPECT_NE(tile, orig) << dtype_name(dt);
    cpu::qunpack_tile(dt, tile.data(), n_blocks, back.data(), row_bytes);
    EXPECT_EQ(back, orig) << dtype_name(dt);
  }
}

// Prefill panels made straight from a packed tile are bit for bit those of its GGUF rows.
TEST(QPack, PanelsFromPackedTilesMatchGguf) {
  const cpu::PanelKernels* pk = cpu::best_panel_kernels();
  if (pk == nullptr) GTEST_SKIP() << "CPU lacks AVX-512 VNNI";
  for (const DType dt : kPackedTypes) {
    if (pk->unpack_packed[static_cast<int>(dt)] == nullptr) continue;  // Q6_K: via GGUF rows
    const int64_t k = 768, n_groups = k / 32;
    const Weight w = make_weight(dt, cpu::kPackRows, k, 29);
    const uint64_t row_bytes = dtype_bytes_for(dt, static_cast<uint64_t>(k));
    std::vector<uint8_t> tile(row_bytes * cpu::kPackRows);
    cpu::qpack_tile(dt, static_cast<const uint8_t*>(w.w.raw_data()), row_bytes,
                    k / dtype_info(dt).block_size, tile.data());
    struct Buffers {
      std::vector<uint8_t> codes;
      std::vector<float> scale, min;
      std::vector<int32_t> wsum;
      cpu::Panel panel() { return {codes.data(), scale.data(), min.data(), wsum.data()}; }
    };
    const auto make = [&] {
      return Buffers{std::vector<uint8_t>(static_cast<size_t>(k * cpu::kPanelRows), 1),
                     std::vector<float>(static_cast<size_t>(n_groups * cpu::kPanelRows), 1.0f),
                     std::vector<float>(static_cast<size_t>(n_groups * cpu::kPanelRows), 1.0f),
                     std::vector<int32_t>(static_cast<size_t>(n_groups * cpu::kPanelRows), 1)};
    };
    Buffers a = make(), b = make();
    pk->unpack[static_cast<int>(dt)](static_cast<const uint8_t*>(w.w.raw_data()), row_bytes,
                                     cpu::kPanelRows, n_groups, a.panel());
    pk->unpack_packed[static_cast<int>(dt)](tile.data(), n_groups, b.panel());
    EXPECT_EQ(a.codes, b.codes) << dtype_name(dt);
    EXPECT_EQ(0, std::memcmp(a.scale.data(), b.scale.data(), a.scale.size() * 4)) << dtype_name(dt);
    EXPECT_EQ(0, std::memcmp(a.min.data(), b.min.data(), a.min.size() * 4)) << dtype_name(dt);
  }
}

TEST(QPack, WeightsPackAndUnpackExactly) {
  for (const DType dt : kPackedTypes) {
    if (!packing_on(dt)) GTEST_SKIP() << "CPU lacks AVX-512 VNNI";
    for (int64_t n : {15, 16, 37, 48}) {
      const Weight w = make_weight(dt, n, 256, 2);
      const Tensor p = prepare_linear_weight(w.w);
      ASSERT_EQ(is_packed(p), n >= 16) << dtype_name(dt) << " n " << n;
      EXPECT_EQ(p.shape(), w.w.shape());
      EXPECT_EQ(bytes_of(unpack_linear_weight(p)), bytes_of(w.w)) << dtype_name(dt) << " n " << n;
      // Row views (aligned or not to a tile) unpack to the same rows.
      if (n >= 37)
        for (auto [start, len] : {std::pair<int64_t, int64_t>{16, 21}, {3, 20}, {32, 5}}) {
          EXPECT_EQ(bytes_of(unpack_linear_weight(p.narrow(0, start, len))),
                    bytes_of(contiguous(w.w.narrow(0, start, len))))
              << dtype_name(dt) << " rows " << start << "+" << len;
        }
    }
  }
}

// linear on the packed weight vs the reference on the GGUF weight: each output may move by the
// activation rounding, sum over activation blocks of (amax / 254) * sum |w| (as in matmul_test).
void expect_matches_reference(const Tensor& packed, const Tensor& plain,
                              const std::vector<float>& deq, int64_t m, const Tensor& bias,
                              const std::string& what) {
  const DType dt = plain.dtype();
  const int64_t n = plain.dim(0), k = plain.dim(1);
  const Tensor x = Tensor::from_floats({m, k}, random_floats(static_cast<size_t>(m * k), 7));
  const std::vector<float> xv = x.to_float_vector();
  const std::vector<float> got = linear(x, packed, bias).to_float_vector();
  std::vector<float> want;
  {
    ReferenceOnly ref;
    want = linear(x, plain, bias).to_float_vector();
    // The reference also runs on the packed weight (it unpacks it): bit-identical.
    ASSERT_EQ(linear(x, packed, bias).to_float_vector(), want) << what;
  }
  const int act_block = cpu::qdot_act_block_values(dt);
  for (int64_t a = 0; a < m; ++a)
    for (int64_t j = 0; j < n; ++j) {
      double tol = 2e-5 * std::fabs(want[a * n + j]) + 1e-5 * std::sqrt(static_cast<double>(k));
      for (int64_t b0 = 0; b0 < k; b0 += act_block) {
        double amax = 0, wsum = 0;
        for (int64_t p = b0; p < b0 + act_block; ++p) {
          amax = std::max(amax, std::fabs(static_cast<double>(xv[a * k + p])));
          wsum += std::fabs(deq[j * k + p]);
        }
        tol += 1.01 * amax / 254.0 * wsum;
      }
      ASSERT_NEAR(got[a * n + j], want[a * n + j], tol) << what << " at " << a << "," << j;
    }
}

TEST(QPack, LinearMatchesReference) {
  for (const DType dt : kPackedTypes) {
    if (!packing_on(dt)) GTEST_SKIP() << "CPU lacks AVX-512 VNNI";
    for (int threads : {1, 2}) {
      Threads pool(threads);
      for (int64_t n : {16, 37, 70}) {
        const int64_t k = dtype_info(dt).block_size == 256 ? 768 : 544;
        const Weight w = make_weight(dt, n, k, 3 + static_cast<uint32_t>(n));
        const Tensor p = prepare_linear_weight(w.w);
        ASSERT_TRUE(is_packed(p));
        const Tensor bias = Tensor::from_floats({n}, random_floats(static_cast<size_t>(n), 5));
        for (int64_t m : {1, 2, 3, 4, 5, 9, 16, 33}) {
          const std::string what = std::string(dtype_name(dt)) + " n " + std::to_string(n) + " m " +
                                   std::to_string(m) + " t " + std::to_string(threads);
          expect_matches_reference(p, w.w, w.deq, m, m % 2 ? bias : Tensor(), what);
        }
        // Row views: tile-aligned (packed kernels, partial last tile), and not (unpacked copy).
        for (auto [start, len] : {std::pair<int64_t, int64_t>{16, n - 16}, {0, 9}, {3, n - 5}}) {
          if (start + len > n || len <= 0) continue;
          std::vector<float> deq(w.deq.begin() + start * k, w.deq.begin() + (start + len) * k);
          for (int64_t m : {1, 4, 17})
            expect_matches_reference(p.narrow(0, start, len), w.w.narrow(0, start, len), deq, m,
                                     Tensor(),
                                     std::string(dtype_name(dt)) + " view " +
                                         std::to_string(start) + "+" + std::to_string(len));
        }
      }
    }
  }
}

// Within each prefill regime a row's output does not depend on the batch around it, bit for bit:
// 3-15 rows (row-dot tiles): the first 3 rows alone equal them inside batches of 7 and 15;
// 16+ rows (panels): the first 16 alone equal them inside batches of 33 and 47 (other rows
// random), at 1 and 2 threads. Across regimes results differ: 1-2 rows (GEMV) quantize the
// activations in one pass, the panels in two (docs/cpu-performance.md).
TEST(QPack, RowsDoNotDependOnTheBatchWithinARegime) {
  for (const DType dt : kPackedTypes) {
    if (!packing_on(dt)) GTEST_SKIP() << "CPU lacks AVX-512 VNNI";
    const int64_t n = 70, k = dtype_info(dt).block_size == 256 ? 768 : 544;
    const Weight w = make_weight(dt, n, k, 11);
    const Tensor p = prepare_linear_weight(w.w);
    for (int threads : {1, 2}) {
      Threads pool(threads);
      for (auto [rows, batches] :
           {std::pair<int64_t, std::vector<int64_t>>{3, {7, 15}}, {16, {33, 47}}}) {
        const std::vector<float> head = random_floats(static_cast<size_t>(rows * k), 12);
        const std::vector<float> alone =
            linear(Tensor::from_floats({rows, k}, head), p, Tensor()).to_float_vector();
        for (int64_t m : batches) {
          std::vector<float> xv =
              random_floats(static_cast<size_t>(m * k), 13 + static_cast<uint32_t>(m));
          std::copy(head.begin(), head.end(), xv.begin());
          const std::vector<float> got =
              linear(Tensor::from_floats({m, k}, xv), p, Tensor()).to_float_vector();
          const std::vector<float> first(got.begin(), got.begin() + rows * n);
          EXPECT_EQ(first, alone) << dtype_name(dt) << " rows " << rows << " in " << m << " t "
                                  << threads;
        }
      }
    }
  }
}

// Decode: the packed kernels do the integer math of the row dots (qdot_ref.cpp) on the same
// quantized activations; only f32 rounding differs.
TEST(QPack, DecodeMatchesScalarIntegerReference) {
  for (const DType dt : kPackedTypes) {
    if (!packing_on(dt)) GTEST_SKIP() << "CPU lacks AVX-512 VNNI";
    const int64_t n = 37, k = 1024;
    const Weight w = make_weight(dt, n, k, 11);
    const Tensor p = prepare_linear_weight(w.w);
    const uint64_t row_bytes = dtype_bytes_for(dt, static_cast<uint64_t>(k));
    for (int64_t m : {1, 3, 4}) {
      const std::vector<float> xv = random_floats(static_cast<size_t>(m * k), 13);
      const std::vector<float> got = linear(Tensor::from_floats({m, k}, xv), p).to_float_vector();
      const size_t act_bytes = cpu::qdot_act_row_bytes(dt, k);
      std::vector<uint8_t> act(act_bytes * static_cast<size_t>(m));
      for (int64_t i = 0; i < m; ++i)
        cpu::quantize_activation_row(dt, xv.data() + i * k, k, act.data() + i * act_bytes);
      std::vector<float> want(static_cast<size_t>(m * n));
      const auto* wb = static_cast<const uint8_t*>(w.w.raw_data());
      for (int64_t j = 0; j < n; ++j)
        cpu::kQDotScalar.dot[static_cast<int>(dt)](
            wb + j * row_bytes, act.data(), act_bytes, static_cast<int>(m),
            k / dtype_info(dt).block_size, want.data() + j, n);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double mag = 0;
          for (int64_t l = 0; l < k; ++l) mag += std::fabs(w.deq[j * k + l] * xv[i * k + l]);
          // Q4_0/Q8_0 offsets: the reference's float min term vs exact int32 here.
          ASSERT_NEAR(got[i * n + j], want[i * n + j], 2e-6 * mag + 1e-6)
              << dtype_name(dt) << " m " << m << " at " << i << "," << j;
        }
    }
  }
}

TEST(QPack, OtherOpsRejectPackedWeights) {
  if (!packing_on(DType::kQ4_0)) GTEST_SKIP() << "CPU lacks AVX-512 VNNI";
  const Weight w = make_weight(DType::kQ4_0, 32, 64, 17);
  const Tensor p = prepare_linear_weight(w.w);
  ASSERT_TRUE(is_packed(p));
  const Tensor ids = Tensor::from_vector<int32_t>({2}, std::vector<int32_t>{1, 3});
  for (auto fn : std::vector<std::function<void()>>{[&] { (void)embedding(p, ids); },
                                                    [&] { (void)to_dtype(p, DType::kF32); },
                                                    [&] { (void)copy(p); }}) {
    try {
      fn();
      ADD_FAILURE() << "packed weight accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUnsupported) << e.what();
      EXPECT_NE(std::string(e.what()).find("packed"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(prepare_linear_weight(p).storage(), p.storage());  // packing twice is a no-op
}

}  // namespace
}  // namespace wick
