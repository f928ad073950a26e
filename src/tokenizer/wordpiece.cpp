// WordPiece (BERT): greedy longest-match-first over each word; pieces after the first carry the
// continuing-subword prefix ("##"). A word with any unmatched rest, or longer than
// max_input_chars_per_word characters, becomes the single unk token.
#include "tokenizer/model.h"
#include "tokenizer/utf8.h"

namespace wick::tok {
namespace {

class WordPiece : public Model {
 public:
  WordPiece(const Json& j, ModelTables* tables) {
    if (tables != nullptr && tables->vocab)
      vocab_ = std::move(*tables->vocab);
    else
      read_vocab_object(json_field(j, "vocab", "model"), vocab_, "model.vocab");
    const std::string unk = json_string_or(j, "unk_token", "[UNK]", "model");
    const auto id = vocab_.find(unk);
    if (!id)
      fail(ErrorKind::kParse, "tokenizer.json: model.unk_token '{}' is not in the vocab", unk);
    unk_id_ = *id;
    prefix_ = json_string_or(j, "continuing_subword_prefix", "##", "model");
    const auto max = j.find("max_input_chars_per_word");
    if (max != j.end() && max->is_number_unsigned()) max_chars_ = max->get<uint64_t>();
  }

  void tokenize(std::string_view word, std::vector<int32_t>& out) const override {
    size_t chars = 0;
    for (size_t i = 0; i < word.size(); utf8_next(word, i)) ++chars;
    if (chars > max_chars_) {
      out.push_back(unk_id_);
      return;
    }
    std::vector<int32_t> pieces;
    std::string key;
    for (size_t start = 0; start < word.size();) {
      // Try the longest substring first, shrinking one character at a time.
      size_t end = word.size();
      std::optional<int32_t> found;
      while (end > start) {
        key.assign(start > 0 ? prefix_ : std::string());
        key.append(word.substr(start, end - start));
        if ((found = vocab_.find(key))) break;
        do --end;
        while (end > start && (static_cast<uint8_t>(word[end]) & 0xC0) == 0x80);
      }
      if (!found) {
        out.push_back(unk_id_);
        return;
      }
      pieces.push_back(*found);
      start = end;
    }
    out.insert(out.end(), pieces.begin(), pieces.end());
  }

 private:
  int32_t unk_id_ = 0;
  std::string prefix_;
  uint64_t max_chars_ = 100;
};

}  // namespace

std::unique_ptr<Model> make_wordpiece_model(const Json& j, ModelTables* tables) {
  return std::make_unique<WordPiece>(j, tables);
}

}  // namespace wick::tok
