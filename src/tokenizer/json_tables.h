// Fast loading of tokenizer.json: model.vocab and model.merges (nearly all of a 33 MB Gemma 3
// file) are read straight from the text into a Vocab and merge views by a small scanner; the
// rest of the document, with those two values cut out, goes through the nlohmann DOM as before.
// Anything unexpected (escaped keys, duplicate keys, odd shapes, invalid JSON) makes the
// scanner give up, and the caller parses the whole text with the DOM, which reports errors.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tokenizer/model.h"

namespace wick::tok {

struct SplicedJson {
  std::string rest;    // the document with model.vocab / model.merges replaced by {} / []
  ModelTables tables;  // what was cut out; merge views point into the input text
};

// nullopt when the text is not a shape the scanner handles; the caller then falls back.
std::optional<SplicedJson> splice_model_tables(std::string_view json);

}  // namespace wick::tok
