// Tokenization models: turn one pre-tokenized piece into ids. BPE (byte-level and SentencePiece
// style with byte fallback), Unigram (Viterbi over piece scores) and WordPiece (greedy longest
// match), each built from tokenizer.json's "model" object.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/vocab.h"

namespace wick::tok {

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of `piece` (non-empty, valid UTF-8) to `out`.
  virtual void tokenize(std::string_view piece, std::vector<int32_t>& out) const = 0;
  const Vocab& vocab() const { return vocab_; }

 protected:
  Vocab vocab_;
};

// One BPE merge as tokenizer.json writes it: two token strings; the list position is the rank.
struct MergeText {
  std::string_view left, right;
};
// "a b" -> {a, b}; nullopt unless there is exactly one space.
std::optional<MergeText> split_merge(std::string_view s);

// model.vocab (when an object) and model.merges read without the DOM: from the file text by
// the fast loader (json_tables.h) or from GGUF metadata. A model takes what is set here and
// reads the rest from its JSON object.
struct ModelTables {
  std::optional<Vocab> vocab;
  std::optional<std::vector<MergeText>> merges;  // views into the file text or `unescaped`
  std::deque<std::string> unescaped;             // merge strings that had JSON escapes
  // BPE without a merge list (GGUF "llama" vocabularies without tokenizer.ggml.merges): a pair
  // merges when its concatenation is a token, ranked by that token's score (by id) the way HF's
  // SentencePiece converter ranks the merges it derives.
  std::optional<std::vector<float>> scores;
  // Not the model's: tokenizer.json's added_tokens, when built directly (GGUF).
  std::optional<std::vector<AddedToken>> added_tokens;
};

// Builds the model of tokenizer.json ("model"); unknown types throw Error(kUnsupported).
std::unique_ptr<Model> make_model(const Json& j, ModelTables* tables = nullptr);

// Per-type constructors (bpe.cpp, unigram.cpp, wordpiece.cpp).
std::unique_ptr<Model> make_bpe_model(const Json& j, ModelTables* tables);
std::unique_ptr<Model> make_unigram_model(const Json& j);
std::unique_ptr<Model> make_wordpiece_model(const Json& j, ModelTables* tables);

// Reads a {"token": id, ...} object into `vocab`.
void read_vocab_object(const Json& j, Vocab& vocab, std::string_view where);

// "<0x41>"-style byte tokens used by byte fallback; entry b is -1 when the vocab lacks it.
std::vector<int32_t> byte_fallback_ids(const Vocab& vocab);

}  // namespace wick::tok
