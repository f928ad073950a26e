// wick::tok::Tokenizer: a Hugging Face tokenizer.json, encoded and decoded exactly as the
// `tokenizers` library does (ids, not offsets). Pipeline per input:
//   added-token split -> normalizer -> pre-tokenizer -> model -> post-processor
// and for decoding: ids -> token strings -> decoder chain. All methods are const and
// thread-safe. StreamDecoder turns a growing id sequence into UTF-8-safe text deltas.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/added_tokens.h"

namespace wick::tok {

class Normalizer;
class PreTokenizer;
class Model;
class PostProcessor;
class Decoder;
struct ModelTables;

class Tokenizer {
 public:
  // Parses tokenizer.json text; `source` names it in error messages. Throws Error(kParse) for
  // malformed files, Error(kUnsupported) for components wick does not implement.
  static Tokenizer from_json(std::string_view json, std::string_view source = "tokenizer.json");
  static Tokenizer from_file(const std::string& path);
  // The same from an already parsed tokenizer.json document (GGUF vocabularies build one).
  // `tables` (model.h), when given, supplies the model's vocab / merges / scores instead of the
  // document (large tables are cheaper to build without the DOM); the model takes them over.
  static Tokenizer from_json_value(const nlohmann::json& root, std::string_view source,
                                   ModelTables* tables = nullptr);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // text must be valid UTF-8 (Error(kInvalidArgument) naming the byte offset otherwise).
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  // Unknown ids are skipped, as HF does. Invalid byte sequences become U+FFFD.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(int32_t id) const;
  // Distinct tokens, added tokens included (HF get_vocab_size(with_added_tokens=True)).
  size_t vocab_size() const;
  // One past the largest id: the number of rows an embedding table needs.
  int32_t id_limit() const;
  bool is_special(int32_t id) const;
  const std::vector<AddedToken>& added_tokens() const { return added_; }

 private:
  Tokenizer();
  void init_added_tokens();
  void encode_text(std::string_view text, bool at_start, std::vector<int32_t>& ids) const;
  std::optional<std::string_view> token_string(int32_t id) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<PostProcessor> post_processor_;
  std::unique_ptr<Decoder> decoder_;
  std::vector<AddedToken> added_;
  std::vector<int32_t> added_index_;  // id -> index into added_, or -1
  struct StringHash {                 // lets special_contents_ be searched with a string_view
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_set<std::string, StringHash, std::equal_to<>> special_contents_;
  AddedTokenMatcher raw_matcher_;         // normalized=false tokens, on the input text
  AddedTokenMatcher normalized_matcher_;  // normalized=true tokens, on normalized text
};

// Incremental detokenization for streaming output (HF DecodeStream): step() returns the new
// text once it is complete UTF-8, holding back ids that decode to a partial character, and
// re-decodes only a short window so that spacing rules (Metaspace, Strip) stay right.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false)
      : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}
  std::optional<std::string> step(int32_t id);

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::vector<int32_t> ids_;
  std::string prefix_;
  size_t prefix_index_ = 0;
};

}  // namespace wick::tok
