// libFuzzer target for the tokenizer: the first byte picks what the rest of the input is.
//   0: a tokenizer.json to load (then encode a fixed text with it);
//   1-255: text for a fixed tokenizer that exercises most components (byte fallback, added
//          tokens with lstrip/rstrip/single_word, regex splits), then decode / stream-decode
//          of the ids and of raw ids taken from the input.
// Any wick::Error is fine; crashes, sanitizer reports and other exceptions are bugs.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace {

constexpr const char* kFixedTokenizer = R"({
  "added_tokens": [
    {"id": 300, "content": "<s>", "special": true},
    {"id": 301, "content": "<mask>", "lstrip": true, "rstrip": true, "special": true},
    {"id": 302, "content": "day", "single_word": true, "normalized": true, "special": false}
  ],
  "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"},
    {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "}]},
  "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
    {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"},
     "behavior": "Isolated", "invert": false},
    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": true}]},
  "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}},
    {"Sequence": {"id": "A"}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [300]}}},
  "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"},
    "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ",
    "start": 1, "stop": 0}]},
  "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": true, "fuse_unk": true,
    "vocab": {"<unk>": 0, "a": 1, "b": 2, "ab": 3, "\u2581": 4, "\u2581a": 5, "c": 6, "abc": 7},
    "merges": ["a b", "\u2581 a", "ab c"]}
})";

const wick::tok::Tokenizer& fixed_tokenizer() {
  static const wick::tok::Tokenizer tok = [] {
    // Give the model its 256 byte-fallback tokens (ids 8..263).
    std::string json = kFixedTokenizer;
    std::string bytes;
    for (int b = 0; b < 256; ++b) bytes += fmt::format(", \"<0x{:02X}>\": {}", b, 8 + b);
    json.insert(json.find("\"abc\": 7") + 8, bytes);
    return wick::tok::Tokenizer::from_json(json, "fixed");
  }();
  return tok;
}

void exercise(const wick::tok::Tokenizer& tok, std::string_view text, std::string_view raw) {
  const auto ids = tok.encode(text, true);
  (void)tok.decode(ids, false);
  wick::tok::StreamDecoder stream(tok, true);
  for (const int32_t id : ids) (void)stream.step(id);
  std::vector<int32_t> raw_ids;  // arbitrary ids, including out-of-range ones
  for (size_t i = 0; i + 1 < raw.size(); i += 2)
    raw_ids.push_back(
        static_cast<int16_t>(static_cast<uint8_t>(raw[i]) << 8 | static_cast<uint8_t>(raw[i + 1])));
  (void)tok.decode(raw_ids, false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    if (data[0] == 0) {
      const auto tok = wick::tok::Tokenizer::from_json(rest, "fuzz");
      exercise(tok, "Hello <s> world 123 \xE2\x96\x81 caf\xC3\xA9", "");
    } else {
      exercise(fixed_tokenizer(), rest, rest);
    }
  } catch (const wick::Error&) {
  }
  return 0;
}
