// WeightSource implementations for GGUF and safetensors, the llama.cpp -> HF name map, and the
// fixups that undo what llama.cpp's converter did to the values (Q/K row order, Gemma's 1 + w).
#include "formats/weight_source.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"

namespace wick {
namespace {

// convert_hf_to_gguf.py models with undo_permute = True (LlamaModel and its subclasses).
constexpr std::array<std::string_view, 6> kPermutedArchs = {
    "llama", "granite", "granitemoe", "granitehybrid", "llada", "nanbeige"};
// Gemma converters store norm weights as 1 + w (HF computes x * (1 + w)).
constexpr std::array<std::string_view, 4> kNormPlusOneArchs = {"gemma", "gemma2", "gemma3",
                                                               "gemma3n"};

struct NamePair {
  std::string_view gguf;
  std::string_view hf;
};

// Per-layer tensors: blk.N.<gguf> -> model.layers.N.<hf>. ffn_norm depends on the layout and
// is handled in gguf_to_hf_name.
constexpr std::array<NamePair, 13> kLayerNames = {{
    {"attn_norm", "input_layernorm"},
    {"attn_q", "self_attn.q_proj"},
    {"attn_k", "self_attn.k_proj"},
    {"attn_v", "self_attn.v_proj"},
    {"attn_qkv", "self_attn.qkv_proj"},
    {"attn_output", "self_attn.o_proj"},
    {"attn_q_norm", "self_attn.q_norm"},
    {"attn_k_norm", "self_attn.k_norm"},
    {"post_attention_norm", "post_attention_layernorm"},
    {"post_ffw_norm", "post_feedforward_layernorm"},
    {"ffn_gate", "mlp.gate_proj"},
    {"ffn_up", "mlp.up_proj"},
    {"ffn_down", "mlp.down_proj"},
}};

constexpr std::array<NamePair, 3> kGlobalNames = {{
    {"token_embd", "model.embed_tokens"},
    {"output_norm", "model.norm"},
    {"output", "lm_head"},
}};

// Splits "blk.12.attn_q.weight" into layer "12", base "attn_q", suffix ".weight".
bool split_layer_name(std::string_view name, std::string_view& layer, std::string_view& base,
                      std::string_view& suffix) {
  if (!name.starts_with("blk.")) return false;
  name.remove_prefix(4);
  const size_t dot = name.find('.');
  if (dot == 0 || dot == std::string_view::npos) return false;
  layer = name.substr(0, dot);
  if (!std::all_of(layer.begin(), layer.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  name.remove_prefix(dot + 1);
  const size_t last = name.rfind('.');
  if (last == std::string_view::npos) return false;
  base = name.substr(0, last);
  suffix = name.substr(last);
  return suffix == ".weight" || suffix == ".bias";
}

template <size_t N>
bool contains_name(const std::array<std::string_view, N>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

}  // namespace

std::string gguf_to_hf_name(std::string_view gguf_name, bool ffn_norm_is_pre_ffw) {
  std::string_view layer, base, suffix;
  if (split_layer_name(gguf_name, layer, base, suffix)) {
    std::string_view hf;
    if (base == "ffn_norm") {
      hf = ffn_norm_is_pre_ffw ? "pre_feedforward_layernorm" : "post_attention_layernorm";
    } else {
      for (const NamePair& p : kLayerNames) {
        if (p.gguf == base) hf = p.hf;
      }
    }
    if (hf.empty()) return {};
    return fmt::format("model.layers.{}.{}{}", layer, hf, suffix);
  }
  const size_t last = gguf_name.rfind('.');
  if (last == std::string_view::npos) return {};
  const std::string_view stem = gguf_name.substr(0, last);
  const std::string_view tail = gguf_name.substr(last);
  for (const NamePair& p : kGlobalNames) {
    if (p.gguf == stem) return fmt::format("{}{}", p.hf, tail);
  }
  return {};
}

void unpermute_qk_rows(std::span<const uint8_t> src, std::span<uint8_t> dst, uint64_t rows,
                       int n_heads) {
  WICK_CHECK(n_heads > 0 && rows % (2 * static_cast<uint64_t>(n_heads)) == 0,
             ErrorKind::kInvalidArgument, "cannot unpermute {} rows into {} heads of even size",
             rows, n_heads);
  WICK_CHECK(src.size() == dst.size() && (rows == 0 ? src.empty() : src.size() % rows == 0),
             ErrorKind::kInvalidArgument, "unpermute: {} bytes is not {} whole rows", src.size(),
             rows);
  // Rows of zero bytes (a lying file can declare 2^40 of them): nothing to move, and the loop
  // below must stay proportional to the bytes, not to the declared extents.
  if (src.empty()) return;
  const uint64_t row_bytes = src.size() / rows;
  const uint64_t head_dim = rows / static_cast<uint64_t>(n_heads);
  const uint64_t half = head_dim / 2;
  // HF row h*D + p*half + i was written to GGUF row h*D + 2*i + p.
  for (uint64_t h = 0; h < static_cast<uint64_t>(n_heads); ++h) {
    for (uint64_t p = 0; p < 2; ++p) {
      for (uint64_t i = 0; i < half; ++i) {
        const uint64_t hf_row = h * head_dim + p * half + i;
        const uint64_t gguf_row = h * head_dim + 2 * i + p;
        std::memcpy(dst.data() + hf_row * row_bytes, src.data() + gguf_row * row_bytes, row_bytes);
      }
    }
  }
}

// ---- WeightSource ----

Tensor WeightSource::tensor(std::string_view name) const {
  const WeightInfo meta = info(name);
  const Shape shape(std::span<const int64_t>(meta.shape));
  Bytes stored = bytes(name);
  const WeightFixup fix = fixup(name);
  // Kernels read elements through typed pointers, so a view must be aligned to the element
  // (block types: to their f16/f32 scales). safetensors does not guarantee it (a 3-byte u8
  // tensor shifts every later one); a misaligned tensor is copied instead.
  const DTypeInfo& dt = dtype_info(meta.dtype);
  const uintptr_t align = dt.is_quantized ? 4 : static_cast<uintptr_t>(dt.block_bytes);
  const bool aligned = reinterpret_cast<uintptr_t>(stored.data.data()) % align == 0;
  if (fix.kind == WeightFixup::Kind::kNone && aligned) {
    // Storage wants a mutable pointer; the mapping is PROT_READ, so this view is read-only.
    auto storage = std::make_shared<Storage>(
        Device::cpu(), const_cast<uint8_t*>(stored.data.data()), stored.data.size(),
        std::const_pointer_cast<void>(stored.keepalive));
    storage->set_file_mapped(stored.file_mapped);
    return Tensor::from_storage(std::move(storage), shape, meta.dtype);
  }
  Tensor out = Tensor::empty(shape, meta.dtype);
  std::span<uint8_t> dst(static_cast<uint8_t*>(out.raw_data()), stored.data.size());
  if (fix.kind == WeightFixup::Kind::kNone) {
    if (!dst.empty()) std::memcpy(dst.data(), stored.data.data(), dst.size());
  } else if (fix.kind == WeightFixup::Kind::kUnpermuteRows) {
    const uint64_t rows = meta.shape.empty() ? 1 : static_cast<uint64_t>(meta.shape[0]);
    unpermute_qk_rows(stored.data, dst, rows, fix.n_heads);
  } else {
    WICK_CHECK(meta.dtype == DType::kF32, ErrorKind::kUnsupported,
               "{}: tensor '{}' needs 1 subtracted but is {}, not f32", describe(), name,
               dtype_name(meta.dtype));
    std::memcpy(dst.data(), stored.data.data(), dst.size());
    float* values = out.data<float>();
    for (int64_t i = 0; i < out.numel(); ++i) values[i] -= 1.0f;
  }
  return out;
}

std::unique_ptr<WeightSource> open_weight_source(const std::string& path) {
  const bool looks_safetensors = path.ends_with(".safetensors") || path.ends_with(".json");
  if (!looks_safetensors) {
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec)) {
      std::shared_ptr<MappedFile> mapped = MappedFile::open(path);
      uint32_t magic = 0;
      if (mapped->size() >= 4) std::memcpy(&magic, mapped->data(), 4);
      if (magic == kGgufMagic) {
        const std::span<const uint8_t> all = mapped->bytes();
        return std::make_unique<GgufWeightSource>(
            GgufFile::open_bytes(all, path, std::move(mapped)));
      }
    }
  }
  return std::make_unique<SafetensorsWeightSource>(SafetensorsCheckpoint::open(path));
}

// ---- GGUF ----

GgufWeightSource::GgufWeightSource(std::shared_ptr<const GgufFile> file) : file_(std::move(file)) {
  const std::vector<GgufTensorInfo>& tensors = file_->tensors();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const std::string_view gguf_name = tensors[i].name;
    // Gemma-2/3 layout: a layer with post_attention_norm uses ffn_norm before the MLP.
    bool pre_ffw = false;
    std::string_view layer, base, suffix;
    if (split_layer_name(gguf_name, layer, base, suffix) && base == "ffn_norm") {
      pre_ffw =
          file_->find_tensor(fmt::format("blk.{}.post_attention_norm.weight", layer)) != nullptr;
    }
    std::string hf = gguf_to_hf_name(gguf_name, pre_ffw);
    if (hf.empty() || entries_.contains(hf)) hf = std::string(gguf_name);
    WICK_CHECK(!entries_.contains(hf), ErrorKind::kParse,
               "{}: tensor '{}' collides with a renamed tensor", file_->path(), gguf_name);
    entries_.emplace(hf, Entry{i, fixup_for(gguf_name, hf)});
    names_.push_back(std::move(hf));
  }
}

WeightFixup GgufWeightSource::fixup_for(std::string_view gguf_name,
                                        std::string_view hf_name) const {
  const std::string_view arch = file_->architecture();
  if (contains_name(kNormPlusOneArchs, arch) && gguf_name.ends_with("norm.weight")) {
    return {WeightFixup::Kind::kSubtractOne, 0};
  }
  if (!contains_name(kPermutedArchs, arch)) return {};
  const bool is_q = hf_name.find(".self_attn.q_proj.") != std::string_view::npos;
  const bool is_k = hf_name.find(".self_attn.k_proj.") != std::string_view::npos;
  if (!is_q && !is_k) return {};
  const std::string prefix(arch);
  const std::string head_key = prefix + ".attention.head_count";
  uint32_t heads = file_->get_u32(head_key);
  if (is_k) heads = file_->get_u32_or(prefix + ".attention.head_count_kv", heads);
  WICK_CHECK(heads > 0 && heads <= (1u << 20), ErrorKind::kParse, "{}: {} = {} is not a head count",
             file_->path(), is_k ? prefix + ".attention.head_count_kv" : head_key, heads);
  return {WeightFixup::Kind::kUnpermuteRows, static_cast<int>(heads)};
}

const GgufWeightSource::Entry& GgufWeightSource::require(std::string_view name) const {
  const auto it = entries_.find(std::string(name));
  if (it == entries_.end()) fail(ErrorKind::kNotFound, "{}: no tensor '{}'", describe(), name);
  return it->second;
}

bool GgufWeightSource::contains(std::string_view name) const {
  return entries_.contains(std::string(name));
}

WeightInfo GgufWeightSource::info(std::string_view name) const {
  const GgufTensorInfo& t = file_->tensors()[require(name).tensor_index];
  if (!t.dtype) {
    fail(ErrorKind::kUnsupported, "{}: tensor '{}' ({}) has ggml type {}, which wick cannot use",
         describe(), name, t.name, t.type_name);
  }
  return {*t.dtype, t.shape, t.n_bytes};
}

WeightSource::Bytes GgufWeightSource::bytes(std::string_view name) const {
  const GgufTensorInfo& t = file_->tensors()[require(name).tensor_index];
  return {file_->tensor_bytes(t), file_->keepalive(), file_->file_mapped()};
}

WeightFixup GgufWeightSource::fixup(std::string_view name) const {
  return require(name).fixup;
}

std::string GgufWeightSource::describe() const {
  return "GGUF " + file_->path();
}

std::string_view GgufWeightSource::gguf_name(std::string_view name) const {
  const auto it = entries_.find(std::string(name));
  return it == entries_.end() ? std::string_view() : file_->tensors()[it->second.tensor_index].name;
}

// ---- safetensors ----

SafetensorsWeightSource::SafetensorsWeightSource(
    std::shared_ptr<const SafetensorsCheckpoint> checkpoint)
    : checkpoint_(std::move(checkpoint)) {}

const std::vector<std::string>& SafetensorsWeightSource::names() const {
  return checkpoint_->names();
}

bool SafetensorsWeightSource::contains(std::string_view name) const {
  return checkpoint_->find(name).first != nullptr;
}

WeightInfo SafetensorsWeightSource::info(std::string_view name) const {
  const auto [t, shard] = checkpoint_->find(name);
  if (t == nullptr) fail(ErrorKind::kNotFound, "{}: no tensor '{}'", describe(), name);
  if (!t->dtype) {
    fail(ErrorKind::kUnsupported, "{}: tensor '{}' has dtype {}, which wick cannot use",
         shard->path(), name, t->dtype_name);
  }
  return {*t->dtype, t->shape, t->n_bytes};
}

WeightSource::Bytes SafetensorsWeightSource::bytes(std::string_view name) const {
  const auto [t, shard] = checkpoint_->find(name);
  if (t == nullptr) fail(ErrorKind::kNotFound, "{}: no tensor '{}'", describe(), name);
  return {shard->tensor_bytes(*t), shard->keepalive()};
}

std::string SafetensorsWeightSource::describe() const {
  const auto& shards = checkpoint_->shards();
  if (shards.size() == 1) return "safetensors " + shards[0]->path();
  return fmt::format("safetensors checkpoint of {} shards ({}...)", shards.size(),
                     shards.empty() ? std::string() : shards[0]->path());
}

}  // namespace wick
