// Tokenizers from GGUF vocabularies (tokenizer.ggml.* metadata). The caller (formats layer or
// app) reads the metadata into GgufVocab; this layer maps it to the equivalent tokenizer.json
// and builds a Tokenizer, so GGUF and HF files share one implementation.
// Supported: byte-level BPE vocabularies (tokenizer.ggml.model "gpt2") with the pre-tokenizer
// named by tokenizer.ggml.pre (gpt2/default, smollm/starcoder, llama3/llama-bpe, qwen2,
// deepseek-v3, gpt-4o), and
// SentencePiece BPE vocabularies (tokenizer.ggml.model "llama": U+2581 for spaces, <0xXX> byte
// fallback, optional space prefix). Without tokenizer.ggml.merges, "llama" merges are derived
// from the scores the way HF's SentencePiece converter does it (every split of a token into two
// tokens, ranked by the merged token's score), which reproduces HF's tokenizer.json merges; the
// rank of a pair is computed when encoding meets it, so loading does not enumerate them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace wick::tok {

// llama.cpp's token types (tokenizer.ggml.token_type).
enum class GgufTokenType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct GgufVocab {
  std::string model;                 // tokenizer.ggml.model
  std::string pre;                   // tokenizer.ggml.pre (empty: "default")
  std::vector<std::string> tokens;   // tokenizer.ggml.tokens, index = id
  std::vector<int32_t> token_types;  // tokenizer.ggml.token_type (may be empty: all normal)
  std::vector<std::string> merges;   // tokenizer.ggml.merges, "a b"
  std::vector<float> scores;         // tokenizer.ggml.scores ("llama" without merges)
  std::optional<int32_t> unk_id;     // tokenizer.ggml.unknown_token_id
  bool add_space_prefix = true;      // tokenizer.ggml.add_space_prefix ("llama" only)
  std::optional<int32_t> bos_id;     // tokenizer.ggml.bos_token_id
  std::optional<int32_t> eos_id;     // tokenizer.ggml.eos_token_id
  bool add_bos = false;              // tokenizer.ggml.add_bos_token
  bool add_eos = false;              // tokenizer.ggml.add_eos_token
};

// Throws Error(kUnsupported) naming the model or pre-tokenizer wick does not know, and
// Error(kParse) for inconsistent metadata (lengths, ids out of range).
Tokenizer tokenizer_from_gguf_vocab(const GgufVocab& vocab);

}  // namespace wick::tok
