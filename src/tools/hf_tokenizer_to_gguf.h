// HF tokenizer files -> tokenizer.ggml.* GGUF metadata (see hf_tokenizer_to_gguf.cpp).
#pragma once

#include <string>

#include "formats/gguf_writer.h"

namespace wick::tools {

struct HfTokenizerWritten {
  bool vocabulary = false;  // false: no tokenizer.json, or a kind wick does not convert (warned)
  bool bos_id = false, eos_id = false;  // tokenizer.ggml.{bos,eos}_token_id written
};

// Writes the vocabulary, merges, token types, flags, special ids (from tokenizer_config.json, as
// llama.cpp's converter prefers them to config.json's) and the chat template of the HF folder
// `dir`. Writes nothing when there is no convertible tokenizer; throws kParse for malformed files.
HfTokenizerWritten write_hf_tokenizer(const std::string& dir, GgufWriter& w);

}  // namespace wick::tools
