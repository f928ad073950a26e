// Added tokens (special and user tokens listed in tokenizer.json's "added_tokens"): found in the
// input before the model runs, leftmost-longest, honouring lstrip / rstrip / single_word.
// Tokens with normalized=false match the raw text; normalized=true ones match normalized text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace wick::tok {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = false;
};

// One span of input: an added token (id >= 0) or text still to tokenize (id < 0).
struct Span {
  size_t begin, end;
  int32_t id;
};

// Finds a fixed set of strings, leftmost-longest, with a byte trie.
class AddedTokenMatcher {
 public:
  // `tokens` must outlive the matcher; `patterns[k]` is what tokens[k] looks like in the text.
  void build(const std::vector<const AddedToken*>& tokens,
             const std::vector<std::string>& patterns);
  bool empty() const { return tokens_.empty(); }
  // Splits `text` into spans covering it, applying each token's strip/word rules.
  std::vector<Span> split(std::string_view text) const;

 private:
  struct Hit {
    size_t begin, end;
    const AddedToken* token;
  };
  std::vector<Hit> find_leftmost_longest(std::string_view text) const;

  std::vector<const AddedToken*> tokens_;
  std::vector<int32_t> terminal_;                // per trie node: index into tokens_, or -1
  std::unordered_map<uint64_t, int32_t> edges_;  // (node << 8 | byte) -> child node
  bool first_byte_[256] = {};
};

}  // namespace wick::tok
