// Normalizers: the first stage of encoding, rewriting each text piece between added tokens
// (Unicode normal forms, lowercase, Replace, Prepend, Strip, BERT cleaning, sequences).
// wick keeps no offset alignment: it needs ids, not character spans.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tokenizer/json_fields.h"

namespace wick::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // text: valid UTF-8. start_moved is set when the output no longer begins at the input's first
  // character (leading characters were removed): HF's Metaspace "first" scheme looks at that.
  virtual std::string normalize(std::string_view text, bool& start_moved) const = 0;
  std::string normalize(std::string_view text) const {
    bool moved = false;
    return normalize(text, moved);
  }
};

// Builds the normalizer described by tokenizer.json's "normalizer" (null gives nullptr).
// Unknown or unsupported types throw Error(kUnsupported) naming the type.
std::unique_ptr<Normalizer> make_normalizer(const Json& j, std::string_view where = "normalizer");

// Unicode White_Space, as Rust's char::is_whitespace.
bool is_unicode_whitespace(char32_t cp);

}  // namespace wick::tok
