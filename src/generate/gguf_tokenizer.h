// Tokenizer from GGUF metadata (tokenizer.ggml.*): reads the vocabulary keys into
// tok::GgufVocab and lets the tokenizer layer build it (tokenizer/gguf_vocab.h says which
// vocabularies are supported). This glue lives here because the tokenizer layer does not
// depend on formats.
#pragma once

#include "formats/gguf.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/tokenizer.h"

namespace wick::gen {

// Throws kParse naming the key for inconsistent metadata, kUnsupported for vocabularies wick
// cannot express (the message names tokenizer.ggml.model / .pre and the file).
tok::GgufVocab gguf_vocab(const GgufFile& file);
tok::Tokenizer gguf_tokenizer(const GgufFile& file);

}  // namespace wick::gen
