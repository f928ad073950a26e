// Leftmost-longest matching of added tokens and HF's lstrip / rstrip / single_word rules.
#include "tokenizer/added_tokens.h"

#include <utf8proc.h>

#include "tokenizer/normalizer.h"
#include "tokenizer/utf8.h"

namespace wick::tok {

void AddedTokenMatcher::build(const std::vector<const AddedToken*>& tokens,
                              const std::vector<std::string>& patterns) {
  tokens_ = tokens;
  terminal_.assign(1, -1);
  edges_.clear();
  for (size_t k = 0; k < tokens.size(); ++k) {
    const std::string& p = patterns[k];
    if (p.empty()) continue;
    first_byte_[static_cast<uint8_t>(p[0])] = true;
    int32_t node = 0;
    for (const char c : p) {
      const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(c);
      const auto it = edges_.find(key);
      if (it != edges_.end()) {
        node = it->second;
      } else {
        const auto child = static_cast<int32_t>(terminal_.size());
        terminal_.push_back(-1);
        edges_.emplace(key, child);
        node = child;
      }
    }
    // Two tokens with the same pattern: the later one wins, like a map insert.
    terminal_[node] = static_cast<int32_t>(k);
  }
}

std::vector<AddedTokenMatcher::Hit> AddedTokenMatcher::find_leftmost_longest(
    std::string_view text) const {
  std::vector<Hit> hits;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!first_byte_[static_cast<uint8_t>(text[pos])]) {
      ++pos;
      continue;
    }
    int32_t node = 0, best = -1;
    size_t best_end = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      const auto it =
          edges_.find((static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(text[i]));
      if (it == edges_.end()) break;
      node = it->second;
      if (terminal_[node] >= 0) {
        best = terminal_[node];
        best_end = i + 1;
      }
    }
    if (best < 0) {
      ++pos;
      continue;
    }
    hits.push_back({pos, best_end, tokens_[best]});
    pos = best_end;
  }
  return hits;
}

namespace {

// \w as in Rust's regex crate (UTS #18): alphabetic, marks, decimal digits, connector
// punctuation, joiners. Alphabetic is approximated by letters, letter numbers and circled letters.
bool is_word_char(char32_t cp) {
  if (cp < 0x80) return std::isalnum(static_cast<int>(cp)) || cp == '_';
  if (cp == 0x200C || cp == 0x200D || (cp >= 0x24B6 && cp <= 0x24E9)) return true;
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
         (cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME) ||
         cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_PC;
}

char32_t last_char(std::string_view s) {
  size_t start = s.size() - 1;
  while (start > 0 && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) --start;
  return utf8_next(s, start);
}

char32_t first_char(std::string_view s) {
  size_t i = 0;
  return utf8_next(s, i);
}

// Start of the whitespace run that ends s.
size_t trailing_space_begin(std::string_view s) {
  size_t end = s.size();
  while (end > 0 && is_unicode_whitespace(last_char(s.substr(0, end)))) {
    --end;
    while (end > 0 && (static_cast<uint8_t>(s[end]) & 0xC0) == 0x80) --end;
  }
  return end;
}

// Length of the whitespace run that starts s.
size_t leading_space_length(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t next = i;
    if (!is_unicode_whitespace(utf8_next(s, next))) break;
    i = next;
  }
  return i;
}

}  // namespace

std::vector<Span> AddedTokenMatcher::split(std::string_view text) const {
  std::vector<Span> spans;
  if (empty()) {
    spans.push_back({0, text.size(), -1});
    return spans;
  }
  size_t done = 0;  // text before this is already covered by spans
  for (Hit hit : find_leftmost_longest(text)) {
    const AddedToken& t = *hit.token;
    if (t.single_word) {
      const bool word_before = hit.begin > 0 && is_word_char(last_char(text.substr(0, hit.begin)));
      const bool word_after =
          hit.end < text.size() && is_word_char(first_char(text.substr(hit.end)));
      if (word_before || word_after) continue;
    }
    if (t.lstrip) hit.begin = std::max(trailing_space_begin(text.substr(0, hit.begin)), done);
    if (t.rstrip) hit.end += leading_space_length(text.substr(hit.end));
    if (hit.begin > done) spans.push_back({done, hit.begin, -1});
    spans.push_back({hit.begin, hit.end, t.id});
    done = hit.end;
  }
  if (done < text.size()) spans.push_back({done, text.size(), -1});
  return spans;
}

}  // namespace wick::tok
