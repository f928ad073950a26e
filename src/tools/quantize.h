// `wick quantize` as a library: read a GGUF file or an HF folder, give each tensor the type its
// recipe picks (tools/quant_recipe.h), re-encode rows in parallel on the global thread pool and
// write a GGUF that wick and llama.cpp load. GGUF input keeps every metadata key (general.file_type
// is updated); HF input (llama family) gets llama.cpp's keys, tensor names and Q/K permutation.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "tools/quant_recipe.h"

namespace wick {
class GgufWriter;
}

namespace wick::tools {

// One tensor to write, under its GGUF name, with the bytes it is read from.
struct SourceTensor {
  std::string name;            // GGUF name: "blk.0.attn_q.weight"
  DType stored = DType::kF32;  // type of `bytes`
  std::vector<int64_t> shape;  // PyTorch order, rows first
  std::span<const uint8_t> bytes;
  int permute_heads = 0;  // > 0: apply llama.cpp's Q/K row permutation over this many heads
};

// A model opened for conversion: its metadata (already added to `writer` except the keys the
// quantizer sets) and its tensors, valid while `keepalive` lives.
struct SourceModel {
  std::vector<SourceTensor> tensors;
  RecipeModelInfo info;
  std::shared_ptr<const void> keepalive;
};

// Opens a GGUF file or an HF folder; copies/writes its metadata into `writer` (all but
// general.file_type, general.quantization_version and general.alignment).
SourceModel open_source_model(const std::string& path, GgufWriter& writer);
// The HF half of the above (tools/hf_to_gguf.cpp): llama, mistral, qwen2, qwen3 folders.
SourceModel open_hf_source(const std::string& dir, GgufWriter& writer);

struct QuantizeProgress {
  size_t index = 0;  // 0-based
  size_t count = 0;
  std::string_view name;
  DType from = DType::kF32, to = DType::kF32;
};

struct QuantizeOptions {
  std::string input, output;
  QuantRecipe recipe;
  int threads = 0;                                         // 0: keep the global pool's size
  std::function<void(const QuantizeProgress&)> on_tensor;  // called before each tensor
};

struct QuantizeReport {
  uint64_t n_params = 0;
  uint64_t bytes_in = 0;   // tensor data read
  uint64_t bytes_out = 0;  // tensor data written
  double seconds = 0;
  std::vector<std::pair<std::string, DType>> types;  // per output tensor, in file order
  double bits_per_weight_in() const;
  double bits_per_weight_out() const;
};

QuantizeReport quantize_model(const QuantizeOptions& options);

// Re-encodes a (rows, row_length) tensor from `t.stored` to `to`, rows split over the global
// pool; applies t.permute_heads. Returns dtype_bytes_for(to, numel) bytes.
std::vector<uint8_t> convert_tensor(const SourceTensor& t, DType to);

}  // namespace wick::tools
