// Decoders: turn the token strings of an id sequence back into text (ByteLevel, Metaspace,
// WordPiece, ByteFallback, Fuse, Strip, Replace, BPE suffix, CTC, and sequences of them).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/json_fields.h"

namespace wick::tok {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Transforms the token strings in place (a step may merge them, e.g. ByteLevel, Fuse).
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// Builds tokenizer.json's "decoder" (null gives nullptr); unknown types throw kUnsupported.
std::unique_ptr<Decoder> make_decoder(const Json& j, std::string_view where = "decoder");

}  // namespace wick::tok
