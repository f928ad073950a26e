// Tokenization models: turn one pre-tokenized piece into ids. BPE (byte-level and SentencePiece
// style with byte fallback), Unigram (Viterbi over piece scores) and WordPiece (greedy longest
// match), each built from tokenizer.json's "model" object.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/json_fields.h"

namespace wick::tok {

// Hash that lets unordered_map<std::string, ...> be searched with a string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenIdMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

// Token <-> id tables. Ids may have gaps; id_to_token gives nullptr for a gap.
class Vocab {
 public:
  void add(std::string token, int32_t id, std::string_view where);
  void reserve(size_t n) {
    to_id_.reserve(n);
    tokens_.reserve(n);
    present_.reserve(n);
  }
  std::optional<int32_t> find(std::string_view token) const {
    const auto it = to_id_.find(token);
    if (it == to_id_.end()) return std::nullopt;
    return it->second;
  }
  const std::string* token(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= tokens_.size() || !present_[id]) return nullptr;
    return &tokens_[id];
  }
  size_t size() const { return to_id_.size(); }
  int32_t id_limit() const { return static_cast<int32_t>(tokens_.size()); }  // max id + 1

 private:
  TokenIdMap to_id_;
  std::vector<std::string> tokens_;
  std::vector<bool> present_;
};

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of `piece` (non-empty, valid UTF-8) to `out`.
  virtual void tokenize(std::string_view piece, std::vector<int32_t>& out) const = 0;
  const Vocab& vocab() const { return vocab_; }

 protected:
  Vocab vocab_;
};

// Largest id a tokenizer file may use: bounds the id -> token table a hostile file can demand.
inline constexpr int64_t kMaxTokenId = (int64_t{1} << 24) - 1;

// Builds the model of tokenizer.json ("model"); unknown types throw Error(kUnsupported).
std::unique_ptr<Model> make_model(const Json& j);

// Per-type constructors (bpe.cpp, unigram.cpp, wordpiece.cpp).
std::unique_ptr<Model> make_bpe_model(const Json& j);
std::unique_ptr<Model> make_unigram_model(const Json& j);
std::unique_ptr<Model> make_wordpiece_model(const Json& j);

// Reads a {"token": id, ...} object into `vocab`.
void read_vocab_object(const Json& j, Vocab& vocab, std::string_view where);

// "<0x41>"-style byte tokens used by byte fallback; entry b is -1 when the vocab lacks it.
std::vector<int32_t> byte_fallback_ids(const Vocab& vocab);

}  // namespace wick::tok
