// Pre-tokenizers: split normalized text into the pieces the model tokenizes independently
// (Split by regex or string, ByteLevel, Metaspace, Whitespace, Digits, Punctuation, BERT, ...).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/json_fields.h"
#include "tokenizer/regex.h"

namespace wick::tok {

struct Piece {
  std::string text;
  bool at_start = false;  // begins at offset 0 of the original input (Metaspace "first")
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces every piece by its sub-pieces; empty pieces are dropped.
  virtual void pre_tokenize(std::vector<Piece>& pieces) const = 0;
};

// What happens to the delimiters a pattern finds (HF SplitDelimiterBehavior).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Splits one piece at `matches` (sorted, non-overlapping) following `behavior`.
void split_piece(const Piece& piece, const std::vector<Match>& matches, SplitBehavior behavior,
                 bool invert, std::vector<Piece>& out);

// Builds tokenizer.json's "pre_tokenizer" (null gives nullptr); unknown types throw kUnsupported.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& j,
                                                 std::string_view where = "pre_tokenizer");

}  // namespace wick::tok
