// Tokenizer: loading tokenizer.json and running the encode / decode pipelines.
#include "tokenizer/tokenizer.h"

#include "core/error.h"
#include "core/mapped_file.h"
#include "tokenizer/decoder.h"
#include "tokenizer/json_tables.h"
#include "tokenizer/model.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/utf8.h"

namespace wick::tok {

Tokenizer::Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

namespace {

std::vector<AddedToken> read_added_tokens(const Json& root) {
  std::vector<AddedToken> out;
  const auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return out;
  if (!it->is_array()) fail(ErrorKind::kParse, "tokenizer.json: added_tokens is not an array");
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& e = (*it)[i];
    const std::string where = fmt::format("added_tokens[{}]", i);
    AddedToken t;
    const int64_t id = json_int(e, "id", where);
    if (id < 0 || id > kMaxTokenId)
      fail(ErrorKind::kParse, "tokenizer.json: {}.id {} is out of range", where, id);
    t.id = static_cast<int32_t>(id);
    t.content = json_string(e, "content", where);
    t.single_word = json_bool_or(e, "single_word", false, where);
    t.lstrip = json_bool_or(e, "lstrip", false, where);
    t.rstrip = json_bool_or(e, "rstrip", false, where);
    t.special = json_bool_or(e, "special", false, where);
    t.normalized = json_bool_or(e, "normalized", !t.special, where);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

Tokenizer Tokenizer::from_json(std::string_view json, std::string_view source) {
  // Fast path: the big tables without the DOM. A parse error in the remaining text falls
  // through to the full parse, whose message has the offsets of the original text.
  if (auto spliced = splice_model_tables(json)) {
    Json rest;
    bool parsed = true;
    try {
      rest = Json::parse(spliced->rest);
    } catch (const nlohmann::json::exception&) {
      parsed = false;
    }
    if (parsed) return from_json_value(rest, source, &spliced->tables);
  }
  Json root;
  try {
    root = Json::parse(json.begin(), json.end());
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::kParse, "{}: not valid JSON: {}", source, e.what());
  }
  return from_json_value(root, source);
}

Tokenizer Tokenizer::from_json_value(const Json& root, std::string_view source,
                                     ModelTables* tables) {
  if (!root.is_object()) fail(ErrorKind::kParse, "{}: top level is not an object", source);
  try {
    Tokenizer t;
    const auto part = [&root](const char* key) -> const Json& {
      static const Json null_json;
      const auto it = root.find(key);
      return it == root.end() ? null_json : *it;
    };
    t.normalizer_ = make_normalizer(part("normalizer"));
    t.pre_tokenizer_ = make_pre_tokenizer(part("pre_tokenizer"));
    t.model_ = make_model(json_field(root, "model", "(root)"), tables);
    t.post_processor_ = make_post_processor(part("post_processor"));
    t.decoder_ = make_decoder(part("decoder"));
    t.added_ = tables != nullptr && tables->added_tokens ? std::move(*tables->added_tokens)
                                                         : read_added_tokens(root);
    t.init_added_tokens();
    return t;
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("{}: {}", source, e.what()));
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::kParse, "{}: {}", source, e.what());
  }
}

Tokenizer Tokenizer::from_file(const std::string& path) {
  const auto file = MappedFile::open(path);
  const auto* data = reinterpret_cast<const char*>(file->data());
  return from_json(std::string_view(data, file->size()), path);
}

void Tokenizer::init_added_tokens() {
  std::vector<const AddedToken*> raw, normalized;
  std::vector<std::string> raw_patterns, normalized_patterns;
  int32_t limit = model_->vocab().id_limit();
  for (const AddedToken& t : added_) limit = std::max(limit, t.id + 1);
  added_index_.assign(static_cast<size_t>(limit), -1);
  for (size_t k = 0; k < added_.size(); ++k) {
    const AddedToken& t = added_[k];
    added_index_[t.id] = static_cast<int32_t>(k);
    if (t.special) special_contents_.insert(t.content);
    if (t.normalized) {
      normalized.push_back(&t);
      normalized_patterns.push_back(normalizer_ ? normalizer_->normalize(t.content) : t.content);
    } else {
      raw.push_back(&t);
      raw_patterns.push_back(t.content);
    }
  }
  raw_matcher_.build(raw, raw_patterns);
  normalized_matcher_.build(normalized, normalized_patterns);
}

// Normalizes a stretch of input free of raw added tokens, then splits out normalized added
// tokens, pre-tokenizes the rest and runs the model.
void Tokenizer::encode_text(std::string_view text, bool at_start, std::vector<int32_t>& ids) const {
  bool start_moved = false;
  const std::string normalized =
      normalizer_ ? normalizer_->normalize(text, start_moved) : std::string(text);
  at_start = at_start && !start_moved;
  for (const Span& span : normalized_matcher_.split(normalized)) {
    if (span.id >= 0) {
      ids.push_back(span.id);
      continue;
    }
    if (span.end == span.begin) continue;
    std::vector<Piece> pieces{
        {normalized.substr(span.begin, span.end - span.begin), at_start && span.begin == 0}};
    if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(pieces);
    for (const Piece& p : pieces) model_->tokenize(p.text, ids);
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const size_t bad = utf8_invalid_offset(text);
  if (bad != std::string_view::npos)
    fail(ErrorKind::kInvalidArgument, "encode: input is not valid UTF-8 at byte {} (0x{:02X})", bad,
         static_cast<uint8_t>(text[bad]));
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  for (const Span& span : raw_matcher_.split(text)) {
    if (span.id >= 0) {
      ids.push_back(span.id);
    } else if (span.end > span.begin) {
      encode_text(text.substr(span.begin, span.end - span.begin), span.begin == 0, ids);
    }
  }
  if (add_special_tokens && post_processor_) post_processor_->process(ids);
  return ids;
}

std::optional<std::string_view> Tokenizer::token_string(int32_t id) const {
  if (id >= 0 && static_cast<size_t>(id) < added_index_.size() && added_index_[id] >= 0)
    return added_[added_index_[id]].content;
  return model_->vocab().token(id);
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int32_t id : ids) {
    const auto s = token_string(id);
    if (!s) continue;
    if (skip_special_tokens && special_contents_.contains(*s)) continue;
    tokens.emplace_back(*s);
  }
  if (!decoder_) {
    std::string joined;
    for (size_t k = 0; k < tokens.size(); ++k) {
      if (k > 0) joined += ' ';
      joined += tokens[k];
    }
    return joined;
  }
  decoder_->decode_chain(tokens);
  std::string text;
  for (const std::string& t : tokens) text += t;
  return text;
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  for (const AddedToken& t : added_)  // added tokens shadow the model vocab
    if (t.content == token) return t.id;
  return model_->vocab().find(token);
}

std::optional<std::string> Tokenizer::id_to_token(int32_t id) const {
  const auto s = token_string(id);
  if (!s) return std::nullopt;
  return std::string(*s);
}

size_t Tokenizer::vocab_size() const {
  size_t n = model_->vocab().size();
  for (const AddedToken& t : added_)
    if (!model_->vocab().find(t.content)) ++n;
  return n;
}

int32_t Tokenizer::id_limit() const {
  return static_cast<int32_t>(added_index_.size());
}

bool Tokenizer::is_special(int32_t id) const {
  const auto s = token_string(id);
  return s && special_contents_.contains(*s);
}

std::optional<std::string> StreamDecoder::step(int32_t id) {
  // The first step (or one after a held-back prefix) fixes the prefix text to diff against.
  if (prefix_.empty() && !ids_.empty()) {
    std::string start = tokenizer_.decode(ids_, skip_special_);
    if (!ends_with_replacement_char(start)) {
      prefix_ = std::move(start);
      prefix_index_ = ids_.size();
    }
  }
  ids_.push_back(id);
  const std::string text = tokenizer_.decode(ids_, skip_special_);
  if (text.size() <= prefix_.size() || ends_with_replacement_char(text)) return std::nullopt;
  if (!text.starts_with(prefix_))
    fail(ErrorKind::kInternal, "stream decode: text for id {} does not extend the previous text",
         id);
  std::string delta = text.substr(prefix_.size());
  const size_t new_prefix_index = ids_.size() - prefix_index_;
  ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(prefix_index_));
  prefix_ = tokenizer_.decode(ids_, skip_special_);
  prefix_index_ = new_prefix_index;
  return delta;
}

}  // namespace wick::tok
