// Tokenizer from GGUF metadata (tokenizer.ggml.*): the vocabulary, merges or scores and special
// tokens are turned into the equivalent tokenizer.json and handed to tok::Tokenizer, so GGUF
// models encode exactly as their Hugging Face tokenizer does. Supported: "gpt2" byte-level BPE
// (pre-tokenizers gpt2/default, smollm/starcoder, llama-bpe, qwen2) and "llama" SentencePiece
// BPE (merges derived from the piece scores, byte fallback). This glue lives here because the
// tokenizer layer does not depend on formats.
#pragma once

#include <nlohmann/json.hpp>

#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"

namespace wick::gen {

// The tokenizer.json a GGUF file's metadata describes. Throws kUnsupported naming the key
// (tokenizer.ggml.model / .pre) for vocabularies wick cannot express.
nlohmann::json gguf_tokenizer_json(const GgufFile& file);
tok::Tokenizer gguf_tokenizer(const GgufFile& file);

}  // namespace wick::gen
