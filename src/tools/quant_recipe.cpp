// Per-tensor type choice for `wick quantize`, after llama.cpp's llama_tensor_get_type (the rules
// for the ftypes wick can write; IQ1/IQ2/IQ3 and MoE-specific branches are out of scope).
#include "tools/quant_recipe.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "core/error.h"

namespace wick::tools {
namespace {

struct RecipeEntry {
  const char* name;
  DType base;
  bool mixed;
  uint32_t file_type;  // llama_ftype
};

// llama_ftype ids: llama.h. Plain Q3_K/Q4_K/Q5_K have no ftype of their own in llama.cpp (it
// writes them with --pure); we record the _M ftype of the same family.
constexpr std::array<RecipeEntry, 23> kRecipes = {{
    {"F32", DType::kF32, false, 0},       {"F16", DType::kF16, false, 1},
    {"BF16", DType::kBF16, false, 32},    {"Q8_0", DType::kQ8_0, true, 7},
    {"Q4_0", DType::kQ4_0, true, 2},      {"Q4_1", DType::kQ4_1, true, 3},
    {"Q5_0", DType::kQ5_0, true, 8},      {"Q5_1", DType::kQ5_1, true, 9},
    {"Q2_K", DType::kQ2_K, true, 10},     {"Q3_K", DType::kQ3_K, false, 12},
    {"Q4_K", DType::kQ4_K, false, 15},    {"Q5_K", DType::kQ5_K, false, 17},
    {"Q6_K", DType::kQ6_K, true, 18},     {"IQ4_NL", DType::kIQ4_NL, true, 25},
    {"IQ4_XS", DType::kIQ4_XS, true, 30}, {"Q3_K_S", DType::kQ3_K, true, 11},
    {"Q3_K_M", DType::kQ3_K, true, 12},   {"Q3_K_L", DType::kQ3_K, true, 13},
    {"Q4_K_S", DType::kQ4_K, true, 14},   {"Q4_K_M", DType::kQ4_K, true, 15},
    {"Q5_K_S", DType::kQ5_K, true, 16},   {"Q5_K_M", DType::kQ5_K, true, 17},
    {"Q2_K_S", DType::kQ2_K, true, 21},
}};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third in between.
bool use_more_bits(int64_t i, int64_t n) {
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

// "blk.12.ffn_down.weight" -> 12, else -1.
int64_t layer_index(std::string_view name) {
  if (!name.starts_with("blk.")) return -1;
  name.remove_prefix(4);
  int64_t v = -1;
  const auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), v);
  return ec == std::errc() && p != name.data() ? v : -1;
}

bool has_part(std::string_view name, std::string_view part) {
  return name.find(part) != std::string_view::npos;
}

// llama_tensor_get_type's rules for the recipe `r`, before the row-length fallback.
DType mixed_type(const QuantRecipe& r, const RecipeModelInfo& m, std::string_view name) {
  const std::string& f = r.name;
  const int64_t layer = layer_index(name);
  const int64_t n = std::max<int64_t>(m.n_layers, 1);
  const int64_t gqa = m.n_kv_heads > 0 ? m.n_heads / m.n_kv_heads : 1;
  if (name == "output.weight" || (!m.has_output && name == "token_embd.weight")) {
    return r.base == DType::kQ8_0 ? DType::kQ8_0 : DType::kQ6_K;
  }
  if (has_part(name, "attn_v.weight")) {
    if (f == "Q2_K") return gqa >= 4 ? DType::kQ4_K : DType::kQ3_K;
    if (f == "Q2_K_S" && gqa >= 4) return DType::kQ4_K;
    if (f == "Q3_K_M") return layer < 2 ? DType::kQ5_K : DType::kQ4_K;
    if (f == "Q3_K_L") return DType::kQ5_K;
    if ((f == "IQ4_NL" || f == "IQ4_XS") && gqa >= 4) return DType::kQ5_K;
    if ((f == "Q4_K_M" || f == "Q5_K_M") && use_more_bits(layer, n)) return DType::kQ6_K;
    if (f == "Q4_K_S" && layer < 4) return DType::kQ5_K;
    return r.base;
  }
  if (has_part(name, "ffn_down")) {
    if (f == "Q2_K") return DType::kQ3_K;
    if (f == "Q3_K_M") return layer < n / 16 ? DType::kQ5_K : DType::kQ4_K;
    if (f == "Q3_K_L") return DType::kQ5_K;
    if ((f == "Q4_K_M" || f == "Q5_K_M") && use_more_bits(layer, n)) return DType::kQ6_K;
    if (f == "Q4_K_S" && layer < n / 8) return DType::kQ5_K;
    return r.base;
  }
  if (has_part(name, "attn_output.weight")) {
    if (f == "Q2_K") return DType::kQ3_K;
    if (f == "Q3_K_M") return DType::kQ4_K;
    if (f == "Q3_K_L") return DType::kQ5_K;
    return r.base;
  }
  if (has_part(name, "attn_qkv.weight")) {
    if (f == "Q3_K_M" || f == "Q3_K_L") return DType::kQ4_K;
    if (f == "Q4_K_M") return DType::kQ5_K;
    if (f == "Q5_K_M") return DType::kQ6_K;
  }
  return r.base;
}

}  // namespace

const std::vector<std::string>& quant_recipe_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const RecipeEntry& e : kRecipes) v.emplace_back(e.name);
    return v;
  }();
  return names;
}

QuantRecipe parse_quant_recipe(std::string_view name, bool pure) {
  const std::string key = upper(name);
  for (const RecipeEntry& e : kRecipes) {
    if (key == e.name) return {e.name, e.base, e.mixed && !pure, e.file_type};
  }
  fail(ErrorKind::kInvalidArgument, "unknown quantization type '{}'; valid types: {}", name,
       fmt::join(quant_recipe_names(), ", "));
}

DType fallback_for_row(DType type, int64_t row_length) {
  const int64_t block = dtype_info(type).block_size;
  if (row_length % block == 0) return type;
  DType alt = DType::kF16;
  switch (type) {
    case DType::kQ2_K:
    case DType::kQ3_K:
    case DType::kIQ4_XS:
      alt = DType::kIQ4_NL;
      break;
    case DType::kQ4_K:
      alt = DType::kQ5_0;
      break;
    case DType::kQ5_K:
      alt = DType::kQ5_1;
      break;
    case DType::kQ6_K:
      alt = DType::kQ8_0;
      break;
    default:
      break;
  }
  return row_length % dtype_info(alt).block_size == 0 ? alt : DType::kF16;
}

DType recipe_tensor_type(const QuantRecipe& recipe, const RecipeModelInfo& model,
                         std::string_view name, const std::vector<int64_t>& shape, DType stored) {
  const bool is_float = dtype_is_float(stored) || dtype_is_quantized(stored);
  if (!is_float) return stored;
  // As llama.cpp: only weights of rank >= 2 are quantized; norms, biases, rope factors stay f32.
  const bool matrix = shape.size() >= 2 && name.ends_with(".weight");
  if (!matrix || has_part(name, "ffn_gate_inp") || has_part(name, "_norm")) {
    return dtype_is_quantized(stored) ? stored : DType::kF32;
  }
  if (!dtype_is_quantized(recipe.base)) return recipe.base;
  const DType wanted = recipe.mixed ? mixed_type(recipe, model, name) : recipe.base;
  return fallback_for_row(wanted, shape.back());
}

}  // namespace wick::tools

namespace wick::tools {

std::string file_type_name(uint32_t file_type) {
  // Backwards, so a mixed recipe wins over the plain type that shares its ftype (Q4_K_M, Q4_K).
  for (auto it = kRecipes.rbegin(); it != kRecipes.rend(); ++it) {
    if (it->file_type == file_type) return it->name;
  }
  return {};
}

}  // namespace wick::tools
