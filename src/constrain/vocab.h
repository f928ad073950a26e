// TokenVocab: what the mask needs from a tokenizer — each token id's bytes as it appears in
// decoded text (byte-level and Metaspace/byte-fallback vocabularies undone), which ids may
// never be generated under a grammar (special and control tokens), which ids end generation,
// and a byte trie over all of it in preorder so a mask walks each shared prefix once.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace wick::tok {
class Tokenizer;
}

namespace wick::constrain {

// Preorder byte trie: node 0 is the root; node i's parent is the last node before it with a
// smaller depth; nodes i..skip[i]-1 are i's subtree.
struct TokenTrie {
  std::vector<uint8_t> byte;
  std::vector<uint16_t> depth;
  std::vector<uint32_t> skip;
  std::vector<uint32_t> tok_begin;  // ids ending at node i: ids[tok_begin[i] .. tok_begin[i + 1])
  std::vector<int32_t> ids;
  // Subtree summaries for the fast path of a mask walk (a state that loops on every byte of a
  // subtree allows all its tokens without visiting it): the ASCII bytes present (2 words per
  // node) and flags.
  std::vector<uint64_t> sub_ascii;
  std::vector<uint8_t> sub_flags;
  std::vector<uint16_t> sub_height;        // bytes from node i down to its deepest descendant, >= 1
  static constexpr uint8_t kNonAscii = 1;  // some byte >= 0x80
  static constexpr uint8_t kBadUtf8 = 2;   // some byte breaks UTF-8 read from the token start
};

struct TokenVocab {
  std::vector<std::string> bytes;  // per id
  std::vector<uint8_t> usable;     // per id: may appear inside constrained text
  std::vector<int32_t> eos_ids;    // allowed exactly when the grammar accepts
  int32_t size() const { return static_cast<int32_t>(bytes.size()); }
};

// Reads every id below tokenizer.id_limit(). Specials (and ids with no bytes, or bytes that
// are not what the decoder would print) are unusable.
TokenVocab vocab_from_tokenizer(const tok::Tokenizer& tokenizer, std::span<const int32_t> eos_ids);

TokenTrie build_token_trie(const TokenVocab& vocab);

}  // namespace wick::constrain
