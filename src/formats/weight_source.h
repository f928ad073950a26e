// WeightSource: how models get weights, by Hugging Face name, whatever the file kind. A GGUF
// source renames llama.cpp tensors (blk.3.attn_q.weight -> model.layers.3.self_attn.q_proj.weight)
// and knows what llama.cpp's converter changed: Q/K rows permuted for llama-family models, Gemma
// norm weights stored as 1 + w. tensor() undoes both, so one forward serves both file kinds;
// bytes() always returns the file's bytes untouched (zero-copy).
// Shapes are PyTorch order (rows first) for every source, although GGUF lists dims innermost-first.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace wick {

class GgufFile;
class SafetensorsCheckpoint;

struct WeightInfo {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // PyTorch order: (out_features, in_features) for a Linear weight
  uint64_t n_bytes = 0;
};

// What tensor() does to the stored bytes to give the Hugging Face layout and values.
struct WeightFixup {
  enum class Kind { kNone, kUnpermuteRows, kSubtractOne };
  Kind kind = Kind::kNone;
  int n_heads = 0;  // kUnpermuteRows: heads of the llama.cpp Q/K permutation
};

class WeightSource {
 public:
  virtual ~WeightSource() = default;

  // Every tensor name (HF names where a mapping exists, else the file's own name).
  virtual const std::vector<std::string>& names() const = 0;
  virtual bool contains(std::string_view name) const = 0;
  // dtype, shape and size as stored. Throws kNotFound naming the tensor and file, and
  // kUnsupported for a storage type wick has no DType for (e.g. GGUF IQ2_XXS, safetensors F64).
  virtual WeightInfo info(std::string_view name) const = 0;
  // The stored bytes, valid while `keepalive` lives.
  struct Bytes {
    std::span<const uint8_t> data;
    std::shared_ptr<const void> keepalive;
    bool file_mapped = false;  // `data` lies in a read-only file mapping
  };
  virtual Bytes bytes(std::string_view name) const = 0;
  virtual WeightFixup fixup(std::string_view name) const { return {}; }
  virtual std::string describe() const = 0;  // "GGUF model.gguf", for messages

  // A CPU tensor in HF layout: a read-only view of the mapping when fixup() is kNone and the
  // bytes are aligned to the element (writing through it faults), otherwise a fresh copy with
  // the fixup applied.
  Tensor tensor(std::string_view name) const;
};

// Opens a .gguf file, a .safetensors file, a model.safetensors.index.json or a directory holding
// model.safetensors(.index.json). GGUF is recognised by its magic, not its extension.
std::unique_ptr<WeightSource> open_weight_source(const std::string& path);

class GgufWeightSource : public WeightSource {
 public:
  explicit GgufWeightSource(std::shared_ptr<const GgufFile> file);

  const std::vector<std::string>& names() const override { return names_; }
  bool contains(std::string_view name) const override;
  WeightInfo info(std::string_view name) const override;
  Bytes bytes(std::string_view name) const override;
  WeightFixup fixup(std::string_view name) const override;
  std::string describe() const override;

  const GgufFile& file() const { return *file_; }
  // The GGUF name a HF name came from ("" if absent).
  std::string_view gguf_name(std::string_view name) const;

 private:
  struct Entry {
    size_t tensor_index;
    WeightFixup fixup;
  };
  const Entry& require(std::string_view name) const;
  WeightFixup fixup_for(std::string_view gguf_name, std::string_view hf_name) const;

  std::shared_ptr<const GgufFile> file_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, Entry> entries_;
};

class SafetensorsWeightSource : public WeightSource {
 public:
  explicit SafetensorsWeightSource(std::shared_ptr<const SafetensorsCheckpoint> checkpoint);

  const std::vector<std::string>& names() const override;
  bool contains(std::string_view name) const override;
  WeightInfo info(std::string_view name) const override;
  Bytes bytes(std::string_view name) const override;
  std::string describe() const override;

 private:
  std::shared_ptr<const SafetensorsCheckpoint> checkpoint_;
};

// llama.cpp tensor name -> HF name ("" when there is no mapping). `ffn_norm_is_pre_ffw` selects
// Gemma-2/3's layout, where ffn_norm is pre_feedforward_layernorm rather than
// post_attention_layernorm (the file then also has post_attention_norm).
std::string gguf_to_hf_name(std::string_view gguf_name, bool ffn_norm_is_pre_ffw);

// Undoes llama.cpp's convert_hf_to_gguf permute(): within each of n_heads groups of rows, HF
// row (p, i) for p in {0, 1}, i < head_dim/2 was stored at row (i, p). Rows are whole byte runs
// of `row_bytes`, so this works for block-quantized types too. dst and src must not overlap.
void unpermute_qk_rows(std::span<const uint8_t> src, std::span<uint8_t> dst, uint64_t rows,
                       int n_heads);

}  // namespace wick
