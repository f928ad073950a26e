// Packing of quantized linear weights into 16-row tiles (qpack.h) and back, plain C++ (byte
// moves only, so packing is exact and unpacking restores the GGUF bytes), and the CPU's
// WeightPacker registration.
#include "backends/cpu/qpack.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "backend/kernel_table.h"
#include "core/cpu_features.h"
#include "core/thread_pool.h"

namespace wick::cpu {
namespace {

// Where the fields of one GGUF block go: n_half f16 fields from half_off; n_bytes single bytes
// from byte_off (transposed per byte); n_dwords code dwords from qs_off (XORed with xor8).
struct PackDesc {
  int block_bytes = 0;
  int half_off = 0;
  int n_half = 0;
  int byte_off = 0;
  int n_bytes = 0;
  int qs_off = 0;
  int n_dwords = 0;
  uint8_t xor8 = 0;
};

PackDesc pack_desc(DType dtype) {
  switch (dtype) {
    case DType::kQ4_0:
      return {18, 0, 1, 0, 0, 2, 4, 0};
    case DType::kQ4_1:
      return {20, 0, 2, 0, 0, 4, 4, 0};
    case DType::kQ8_0:
      return {34, 0, 1, 0, 0, 2, 8, 0x80};
    case DType::kQ4_K:
      return {144, 0, 2, 4, 12, 16, 32, 0};
    case DType::kQ6_K:  // ql (32 dwords) and qh (16) are contiguous from 0; scales at 192; d at 208
      return {210, 208, 1, 192, 16, 0, 48, 0};
    default:
      return {};
  }
}

// Moves one block between the GGUF row `row` (lane `lane` of the tile) and the packed group `g`
// (16 x block_bytes bytes); Pack: row -> group, else group -> row.
template <bool Pack>
void move_block(const PackDesc& pd, int lane, uint8_t* row, uint8_t* g) {
  const auto move = [](uint8_t* row_p, uint8_t* g_p, size_t n, uint8_t x) {
    if constexpr (Pack) {
      for (size_t i = 0; i < n; ++i) g_p[i] = static_cast<uint8_t>(row_p[i] ^ x);
    } else {
      for (size_t i = 0; i < n; ++i) row_p[i] = static_cast<uint8_t>(g_p[i] ^ x);
    }
  };
  uint8_t* dst = g;
  for (int h = 0; h < pd.n_half; ++h, dst += 2 * kPackRows)
    move(row + pd.half_off + 2 * h, dst + 2 * lane, 2, 0);
  for (int j = 0; j < pd.n_bytes; ++j, dst += kPackRows)
    move(row + pd.byte_off + j, dst + lane, 1, 0);
  for (int i = 0; i < pd.n_dwords; ++i, dst += 4 * kPackRows)
    move(row + pd.qs_off + 4 * i, dst + 4 * lane, 4, pd.xor8);
}

template <bool Pack>
void move_tile(DType dtype, uint8_t* rows, uint64_t row_bytes, int64_t n_blocks, uint8_t* tile,
               int n_lanes) {
  const PackDesc pd = pack_desc(dtype);
  for (int64_t b = 0; b < n_blocks; ++b)
    for (int lane = 0; lane < n_lanes; ++lane)
      move_block<Pack>(pd, lane, rows + lane * row_bytes + b * pd.block_bytes,
                       tile + b * kPackRows * pd.block_bytes);
}

}  // namespace

bool qpack_has_layout(DType dtype) {
  return pack_desc(dtype).block_bytes != 0;
}

bool qpack_enabled(DType dtype) {
  const CpuFeatures& f = cpu_features();
  return qpack_has_layout(dtype) && f.has_avx512_set() && f.avx512vnni;
}

void qpack_tile(DType dtype, const uint8_t* rows, uint64_t row_bytes, int64_t n_blocks,
                uint8_t* tile) {
  move_tile<true>(dtype, const_cast<uint8_t*>(rows), row_bytes, n_blocks, tile, kPackRows);
}

void qunpack_tile(DType dtype, const uint8_t* tile, int64_t n_blocks, uint8_t* rows,
                  uint64_t row_bytes) {
  move_tile<false>(dtype, rows, row_bytes, n_blocks, const_cast<uint8_t*>(tile), kPackRows);
}

PackedView packed_view(const Tensor& w) {
  const int64_t k = w.dim(1);
  PackedView v;
  v.base = static_cast<const uint8_t*>(w.storage()->data());
  v.row_bytes = dtype_bytes_for(w.dtype(), static_cast<uint64_t>(k));
  WICK_CHECK(k > 0 && w.offset() % k == 0, ErrorKind::kInvalidArgument,
             "packed weight {}: view does not start at a row", w.str());
  v.row0 = w.offset() / k;
  v.total_rows = static_cast<int64_t>(w.storage()->bytes() / v.row_bytes);
  return v;
}

Tensor qpack_weight(const Tensor& w) {
  if (!w.device().is_cpu() || w.rank() != 2 || !qpack_enabled(w.dtype()) || !w.is_contiguous() ||
      w.dim(0) < kPackRows)
    return w;
  const int64_t n = w.dim(0), k = w.dim(1);
  const int64_t n_blocks = k / dtype_info(w.dtype()).block_size;
  const uint64_t row_bytes = dtype_bytes_for(w.dtype(), static_cast<uint64_t>(k));
  const uint64_t bytes = row_bytes * static_cast<uint64_t>(n);
  std::shared_ptr<Storage> storage = allocate_host_storage(bytes);
  const auto* src = static_cast<const uint8_t*>(w.raw_data());
  auto* dst = static_cast<uint8_t*>(storage->data());
  const int64_t tiles = n / kPackRows;
  parallel_for(tiles, 8, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const uint64_t off = static_cast<uint64_t>(t) * kPackRows * row_bytes;
      qpack_tile(w.dtype(), src + off, row_bytes, n_blocks, dst + off);
    }
  });
  const uint64_t tail = static_cast<uint64_t>(tiles) * kPackRows * row_bytes;
  std::memcpy(dst + tail, src + tail, bytes - tail);
  storage->set_packed_layout(kPackedTiles16);
  if (w.storage()->file_mapped()) {
    // The packed copy replaces the mapped bytes: drop their pages from this process (clean file
    // pages; a later read, e.g. by another tensor sharing an edge page, faults them in again).
    const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto begin = reinterpret_cast<uintptr_t>(src) / page * page;
    const auto end = reinterpret_cast<uintptr_t>(src + bytes);
    madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
  }
  return Tensor::from_storage(std::move(storage), w.shape(), w.dtype());
}

Tensor qunpack_weight(const Tensor& w) {
  const PackedView v = packed_view(w);
  const int64_t n = w.dim(0);
  const int64_t n_blocks = w.dim(1) / dtype_info(w.dtype()).block_size;
  Tensor out = Tensor::empty(w.shape(), w.dtype());
  auto* dst = static_cast<uint8_t*>(out.raw_data());
  const PackDesc pd = pack_desc(w.dtype());
  for (int64_t r = 0; r < n; ++r) {
    const int64_t g = v.row0 + r;
    uint8_t* row = dst + static_cast<uint64_t>(r) * v.row_bytes;
    const int64_t t = g / kPackRows;
    if ((t + 1) * kPackRows > v.total_rows) {
      std::memcpy(row, v.base + static_cast<uint64_t>(g) * v.row_bytes, v.row_bytes);
      continue;
    }
    auto* tile = const_cast<uint8_t*>(v.base + static_cast<uint64_t>(t) * kPackRows * v.row_bytes);
    for (int64_t b = 0; b < n_blocks; ++b)
      move_block<false>(pd, static_cast<int>(g % kPackRows), row + b * pd.block_bytes,
                        tile + b * kPackRows * pd.block_bytes);
  }
  return out;
}

namespace {
const bool kRegistered = [] {
  register_weight_packer(DeviceType::kCpu, WeightPacker{&qpack_weight, &qunpack_weight});
  return true;
}();
}  // namespace

}  // namespace wick::cpu
