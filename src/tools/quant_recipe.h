// Quantization recipes: the storage type `wick quantize` gives each tensor for a requested --type.
// Plain types (Q8_0, Q4_K...) and llama.cpp's mixed recipes (Q4_K_M, Q3_K_S...) follow the rules of
// llama.cpp's llama_tensor_get_type (no importance matrix): 1-D tensors stay F32, output.weight
// (or a tied token_embd) gets Q6_K, attn_v / ffn_down / attn_output get more bits in some layers,
// and a K-quant whose row length is not a multiple of 256 falls back to a 32-block type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"

namespace wick::tools {

struct QuantRecipe {
  std::string name;    // "Q4_K_M", as the user typed it (upper case)
  DType base;          // the type most weight matrices get
  bool mixed = false;  // llama.cpp's per-tensor rules apply (false: --pure or a plain K type)
  uint32_t file_type;  // llama_ftype recorded as general.file_type
};

// Parses a --type name, case-insensitive; throws kInvalidArgument listing the valid names.
QuantRecipe parse_quant_recipe(std::string_view name, bool pure = false);
// Every accepted --type name, for help text and errors.
const std::vector<std::string>& quant_recipe_names();

// What the recipe needs to know about the model to place higher-precision layers.
struct RecipeModelInfo {
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  bool has_output = true;  // false: token_embd doubles as the output projection (tied)
};

// The storage type for GGUF tensor `name` of `shape` (PyTorch order, rows first) whose stored type
// is `stored`. 1-D tensors (norms, biases) keep F32; non-float/non-weight tensors keep `stored`.
DType recipe_tensor_type(const QuantRecipe& recipe, const RecipeModelInfo& model,
                         std::string_view name, const std::vector<int64_t>& shape, DType stored);

// The 32-value-block type llama.cpp uses when a row does not split into 256-value K blocks, or
// F16 when not even that fits. `type` is returned unchanged when it fits.
DType fallback_for_row(DType type, int64_t row_length);

}  // namespace wick::tools

namespace wick::tools {
// llama_ftype id (general.file_type) -> recipe name ("Q4_K_M"); "" for ids wick cannot write.
std::string file_type_name(uint32_t file_type);
}  // namespace wick::tools
