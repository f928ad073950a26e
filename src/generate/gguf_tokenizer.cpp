// GGUF metadata -> tok::GgufVocab (see gguf_tokenizer.h).
#include "generate/gguf_tokenizer.h"

#include "core/error.h"

namespace wick::gen {
namespace {

std::optional<int32_t> optional_id(const GgufFile& f, const char* key, size_t n_tokens) {
  const GgufValue* value = f.find(key);
  if (value == nullptr || !value->as_i64()) return std::nullopt;
  const int64_t id = *value->as_i64();
  WICK_CHECK(id >= 0 && static_cast<uint64_t>(id) < n_tokens, ErrorKind::kParse,
             "{}: {} = {} is outside the vocabulary of {} tokens", f.path(), key, id, n_tokens);
  return static_cast<int32_t>(id);
}

}  // namespace

tok::GgufVocab gguf_vocab(const GgufFile& f) {
  tok::GgufVocab v;
  v.model = std::string(f.get_string_or("tokenizer.ggml.model", ""));
  v.pre = std::string(f.get_string_or("tokenizer.ggml.pre", ""));
  const auto tokens = f.get_string_array("tokenizer.ggml.tokens");  // views into the file
  v.tokens.assign(tokens.begin(), tokens.end());
  if (f.find("tokenizer.ggml.token_type"))
    v.token_types = f.get_i32_array("tokenizer.ggml.token_type");
  if (f.find("tokenizer.ggml.merges")) {
    const auto merges = f.get_string_array("tokenizer.ggml.merges");
    v.merges.assign(merges.begin(), merges.end());
  }
  if (f.find("tokenizer.ggml.scores")) v.scores = f.get_f32_array("tokenizer.ggml.scores");
  v.unk_id = optional_id(f, "tokenizer.ggml.unknown_token_id", v.tokens.size());
  v.bos_id = optional_id(f, "tokenizer.ggml.bos_token_id", v.tokens.size());
  v.eos_id = optional_id(f, "tokenizer.ggml.eos_token_id", v.tokens.size());
  v.add_space_prefix = f.get_bool_or("tokenizer.ggml.add_space_prefix", v.model == "llama");
  // llama.cpp's defaults when the flags are absent: SentencePiece vocabularies add BOS.
  v.add_bos = f.get_bool_or("tokenizer.ggml.add_bos_token", v.model == "llama");
  v.add_eos = f.get_bool_or("tokenizer.ggml.add_eos_token", false);
  return v;
}

tok::Tokenizer gguf_tokenizer(const GgufFile& file) {
  try {
    return tok::tokenizer_from_gguf_vocab(gguf_vocab(file));
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("{}: {}", file.path(), e.what()));
  }
}

}  // namespace wick::gen
