// The model factory and the vocabulary helpers shared by BPE, Unigram and WordPiece.
#include "tokenizer/model.h"

namespace wick::tok {

void read_vocab_object(const Json& j, Vocab& vocab, std::string_view where) {
  if (!j.is_object()) fail(ErrorKind::kParse, "tokenizer.json: {} is not an object", where);
  vocab.reserve(j.size());
  for (const auto& [token, id] : j.items()) {
    if (!id.is_number_integer())
      fail(ErrorKind::kParse, "tokenizer.json: {}['{}'] is not an integer id", where, token);
    const int64_t v = id.get<int64_t>();
    if (v < 0 || v > kMaxTokenId)
      fail(ErrorKind::kParse, "tokenizer.json: {}['{}']: id {} is out of range", where, token, v);
    vocab.add(token, static_cast<int32_t>(v), where);
  }
}

std::vector<int32_t> byte_fallback_ids(const Vocab& vocab) {
  std::vector<int32_t> ids(256, -1);
  for (int b = 0; b < 256; ++b) ids[b] = vocab.find(fmt::format("<0x{:02X}>", b)).value_or(-1);
  return ids;
}

std::unique_ptr<Model> make_model(const Json& j, ModelTables* tables) {
  std::string type = json_string_or(j, "type", "", "model");
  if (type.empty()) {  // older files omit the type: infer it from the fields
    if (j.contains("merges"))
      type = "BPE";
    else if (j.contains("vocab") && j["vocab"].is_array())
      type = "Unigram";
    else if (j.contains("continuing_subword_prefix"))
      type = "WordPiece";
  }
  if (type == "BPE") return make_bpe_model(j, tables);
  if (type == "Unigram") return make_unigram_model(j);
  if (type == "WordPiece") return make_wordpiece_model(j, tables);
  fail(ErrorKind::kUnsupported, "tokenizer.json: model type '{}' is not supported", type);
}

}  // namespace wick::tok
