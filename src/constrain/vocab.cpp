// Token bytes from a tokenizer and the preorder byte trie over them (see vocab.h). The byte
// form is recovered per vocabulary kind: GPT-2 byte-level strings map back through the
// byte-level alphabet, SentencePiece pieces turn "▁" into a space and "<0xNN>" into a byte;
// anything else is decoded alone and kept only when that gives clean UTF-8.
#include "constrain/vocab.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace wick::constrain {

namespace {

enum class VocabKind { kByteLevel, kMetaspace, kDecoded };

VocabKind detect_kind(const tok::Tokenizer& t) {
  for (const char* s : {"\xC4\xA0",
                        "\xC4\xA0"
                        "the",
                        "\xC4\xA0"
                        "a"})  // "Ġ", "Ġthe", "Ġa"
    if (t.token_to_id(s)) return VocabKind::kByteLevel;
  for (const char* s : {"\xE2\x96\x81",
                        "\xE2\x96\x81"
                        "the",
                        "\xE2\x96\x81"
                        "a"})  // "▁..."
    if (t.token_to_id(s)) return VocabKind::kMetaspace;
  return VocabKind::kDecoded;
}

// Byte-level string -> bytes; false when a character is outside the alphabet.
bool byte_level_bytes(std::string_view s, std::string& out) {
  const tok::ByteLevelTable& table = tok::byte_level_table();
  out.clear();
  size_t i = 0;
  while (i < s.size()) {
    const char32_t cp = tok::utf8_next(s, i);
    const int b = cp < table.char_to_byte.size() ? table.char_to_byte[cp] : -1;
    if (b < 0) return false;
    out += static_cast<char>(b);
  }
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string metaspace_bytes(const std::string& s) {
  if (s.size() == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && s[5] == '>' &&
      hex_digit(s[3]) >= 0 && hex_digit(s[4]) >= 0)
    return std::string(1, static_cast<char>(hex_digit(s[3]) * 16 + hex_digit(s[4])));
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 3, "\xE2\x96\x81") == 0) {
      out += ' ';
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Fills sub_ascii / sub_flags. UTF-8 validity mirrors the automaton for a char set holding every
// non-ASCII code point: a prefix dies when no valid code point can start with it.
void summarize_subtrees(TokenTrie& t) {
  const size_t n = t.byte.size();
  t.sub_ascii.assign(2 * n, 0);
  t.sub_flags.assign(n, 0);
  t.sub_height.assign(n, 1);
  std::vector<uint32_t> parent(n, 0), path{0};
  struct Utf8 {
    uint32_t cp = 0;
    uint8_t need = 0, len = 0;
  };
  std::vector<Utf8> dec(n);
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  for (size_t i = 1; i < n; ++i) {
    path.resize(t.depth[i]);
    parent[i] = path.back();
    path.push_back(static_cast<uint32_t>(i));
    const Utf8 d = dec[parent[i]];
    const uint8_t b = t.byte[i];
    Utf8 out;
    bool bad = (t.sub_flags[parent[i]] & TokenTrie::kBadUtf8) != 0 && parent[i] != 0;
    if (b < 0x80) {
      t.sub_ascii[2 * i + b / 64] |= uint64_t{1} << (b % 64);
      bad |= d.need != 0;
    } else {
      t.sub_flags[i] |= TokenTrie::kNonAscii;
      if (d.need == 0) {
        if (b >= 0xC2 && b <= 0xDF)
          out = {b & 0x1Fu, 1, 2};
        else if (b >= 0xE0 && b <= 0xEF)
          out = {b & 0x0Fu, 2, 3};
        else if (b >= 0xF0 && b <= 0xF4)
          out = {b & 0x07u, 3, 4};
        else
          bad = true;
      } else if ((b & 0xC0) == 0x80) {
        out = {(d.cp << 6) | (b & 0x3Fu), static_cast<uint8_t>(d.need - 1), d.len};
      } else {
        bad = true;
      }
      if (!bad && out.need > 0) {
        const uint32_t shift = 6u * out.need;
        const uint32_t lo = std::max(out.cp << shift, kMin[out.len]);
        const uint32_t hi = std::min<uint32_t>((out.cp << shift) | ((1u << shift) - 1), 0x10FFFF);
        bad = lo > hi;
      } else if (!bad && out.len > 0) {
        bad = out.cp < kMin[out.len] || out.cp > 0x10FFFF || (out.cp >= 0xD800 && out.cp <= 0xDFFF);
      }
    }
    if (bad) t.sub_flags[i] |= TokenTrie::kBadUtf8;
    dec[i] = out;
  }
  for (size_t i = n; i-- > 1;) {
    const uint32_t p = parent[i];
    t.sub_ascii[2 * p] |= t.sub_ascii[2 * i];
    t.sub_ascii[2 * p + 1] |= t.sub_ascii[2 * i + 1];
    t.sub_flags[p] |= t.sub_flags[i];
    t.sub_height[p] =
        std::max<uint16_t>(t.sub_height[p], static_cast<uint16_t>(t.sub_height[i] + 1));
  }
}

}  // namespace

TokenVocab vocab_from_tokenizer(const tok::Tokenizer& tokenizer, std::span<const int32_t> eos_ids) {
  TokenVocab v;
  const int32_t n = tokenizer.id_limit();
  v.bytes.resize(static_cast<size_t>(n));
  v.usable.assign(static_cast<size_t>(n), 0);
  v.eos_ids.assign(eos_ids.begin(), eos_ids.end());
  std::vector<uint8_t> added(static_cast<size_t>(n), 0);
  for (const tok::AddedToken& a : tokenizer.added_tokens())
    if (a.id >= 0 && a.id < n) added[static_cast<size_t>(a.id)] = 1;
  const VocabKind kind = detect_kind(tokenizer);
  for (int32_t id = 0; id < n; ++id) {
    const size_t i = static_cast<size_t>(id);
    if (tokenizer.is_special(id)) continue;
    const std::optional<std::string> piece = tokenizer.id_to_token(id);
    if (!piece || piece->empty()) continue;
    std::string bytes;
    if (added[i]) {
      bytes = *piece;
    } else if (kind == VocabKind::kByteLevel) {
      if (!byte_level_bytes(*piece, bytes)) bytes = *piece;
    } else if (kind == VocabKind::kMetaspace) {
      bytes = metaspace_bytes(*piece);
    } else {
      const int32_t one[1] = {id};
      bytes = tokenizer.decode(one);
      if (bytes.find("\xEF\xBF\xBD") != std::string::npos) continue;  // not clean bytes
    }
    if (bytes.empty()) continue;
    v.bytes[i] = std::move(bytes);
    v.usable[i] = 1;
  }
  for (int32_t e : v.eos_ids)
    if (e >= 0 && e < n) v.usable[static_cast<size_t>(e)] = 0;
  return v;
}

TokenTrie build_token_trie(const TokenVocab& vocab) {
  std::vector<int32_t> order;
  for (int32_t id = 0; id < vocab.size(); ++id)
    if (vocab.usable[static_cast<size_t>(id)]) order.push_back(id);
  const auto& b = vocab.bytes;
  std::stable_sort(order.begin(), order.end(), [&](int32_t x, int32_t y) {
    return b[static_cast<size_t>(x)] < b[static_cast<size_t>(y)];
  });
  TokenTrie t;
  t.byte.push_back(0);
  t.depth.push_back(0);
  t.skip.push_back(0);
  std::vector<uint32_t> path{0};  // node per depth along the current token
  std::vector<uint32_t> owner;    // node of each entry in t.ids
  const std::string* prev = nullptr;
  auto close_to = [&](size_t keep) {  // pop path nodes deeper than `keep`
    while (path.size() > keep + 1) {
      t.skip[path.back()] = static_cast<uint32_t>(t.byte.size());
      path.pop_back();
    }
  };
  for (int32_t id : order) {
    const std::string& s = b[static_cast<size_t>(id)];
    WICK_CHECK(s.size() < 65535, ErrorKind::kInvalidArgument, "token {} is {} bytes long", id,
               s.size());
    size_t common = 0;
    if (prev)
      while (common < s.size() && common < prev->size() && s[common] == (*prev)[common]) ++common;
    close_to(common);
    for (size_t d = common; d < s.size(); ++d) {
      path.push_back(static_cast<uint32_t>(t.byte.size()));
      t.byte.push_back(static_cast<uint8_t>(s[d]));
      t.depth.push_back(static_cast<uint16_t>(d + 1));
      t.skip.push_back(0);
    }
    t.ids.push_back(id);
    owner.push_back(path.back());
    prev = &s;
  }
  close_to(0);
  t.skip[0] = static_cast<uint32_t>(t.byte.size());
  // Group ids per node (owner is non-decreasing: tokens were added in preorder).
  t.tok_begin.assign(t.byte.size() + 1, 0);
  for (uint32_t o : owner) ++t.tok_begin[o + 1];
  std::partial_sum(t.tok_begin.begin(), t.tok_begin.end(), t.tok_begin.begin());
  summarize_subtrees(t);
  return t;
}

}  // namespace wick::constrain
