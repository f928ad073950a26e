// PCRE2 wrapper for tokenizer patterns. Texts are validated as UTF-8 before they reach here, so
// matching skips PCRE2's own UTF check (PCRE2_NO_UTF_CHECK), which would otherwise rescan the
// whole subject on every call of the find-all loop.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.h"

#include <pcre2.h>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace wick::tok {

struct Regex::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
};

// HF compiles patterns with Oniguruma, whose Unicode \s and \w differ from PCRE2 10.42's UCP
// ones: \s is White_Space (PCRE2 leaves out U+0085 and keeps U+180E) and \w is Alphabetic +
// marks + decimal digits + connector punctuation, plus Latin-1's superscripts and
// fractions (PCRE2: letters and all numbers). Checked over every code point against HF's
// behaviour in tests/tokenizer/components_test.cpp.
// Spell both classes out; inside [...] the members are inserted, outside a bracketed class
// replaces the escape.
constexpr const char* kSpaceMembers =
    "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}";

constexpr const char* kWordMembers =
    "\\p{L}\\p{Nl}\\p{M}\\p{Nd}\\p{Pc}\\x{24B6}-\\x{24E9}\\x{1F130}-\\x{1F149}"
    "\\x{1F150}-\\x{1F169}\\x{1F170}-\\x{1F189}\\x{B2}\\x{B3}\\x{B9}\\x{BC}-\\x{BE}";

static std::string translate_pattern(const std::string& p) {
  std::string out;
  out.reserve(p.size() + 16);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char n = p[i + 1];
      const char* members = n == 's' || n == 'S'   ? kSpaceMembers
                            : n == 'w' || n == 'W' ? kWordMembers
                                                   : nullptr;
      if (members != nullptr && (n == 's' || n == 'w')) {
        out += in_class ? std::string(members) : fmt::format("[{}]", members);
      } else if (members != nullptr && !in_class) {  // \S, \W outside a class
        out += fmt::format("[^{}]", members);
      } else {
        out += c;
        out += n;
      }
      ++i;
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];  // literal ] first in a class
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

Regex::Regex(const std::string& pattern) : pattern_(pattern), impl_(std::make_unique<Impl>()) {
  const std::string translated = translate_pattern(pattern);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                              PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
  if (impl_->code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    fail(ErrorKind::kParse, "regex '{}' does not compile at offset {}: {}", pattern, error_offset,
         reinterpret_cast<const char*>(message));
  }
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() {
  if (impl_ && impl_->code) pcre2_code_free(impl_->code);
}

std::vector<Match> Regex::find_all(std::string_view text) const {
  std::vector<Match> matches;
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  if (md == nullptr) fail(ErrorKind::kOutOfMemory, "regex '{}': no match data", pattern_);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos <= text.size()) {
    const int rc =
        impl_->jit
            ? pcre2_jit_match(impl_->code, subject, text.size(), pos, 0, md, nullptr)
            : pcre2_match(impl_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      pcre2_match_data_free(md);
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof(message));
      fail(ErrorKind::kInvalidArgument, "regex '{}' failed on input at byte {}: {}", pattern_, pos,
           reinterpret_cast<const char*>(message));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    matches.push_back({ov[0], ov[1]});
    if (ov[1] > ov[0]) {
      pos = ov[1];
    } else {  // empty match: step over one code point
      if (ov[1] >= text.size()) break;
      const size_t len = utf8_sequence_length(text, ov[1]);
      pos = ov[1] + (len == 0 ? 1 : len);
    }
  }
  pcre2_match_data_free(md);
  return matches;
}

Pattern::Pattern(const std::string& text, bool is_regex) {
  if (is_regex) {
    regex_ = std::make_shared<const Regex>(text);
  } else {
    literal_ = text;
  }
}

std::vector<Match> Pattern::find_all(std::string_view text) const {
  if (regex_) return regex_->find_all(text);
  std::vector<Match> matches;
  if (literal_.empty()) return matches;  // an empty literal matches nothing useful
  for (size_t pos = text.find(literal_); pos != std::string_view::npos;
       pos = text.find(literal_, pos + literal_.size())) {
    matches.push_back({pos, pos + literal_.size()});
  }
  return matches;
}

std::string Pattern::replace_all(std::string_view text, std::string_view content) const {
  std::string out;
  out.reserve(text.size());
  size_t prev = 0;
  for (const Match& m : find_all(text)) {
    out.append(text.substr(prev, m.begin - prev));
    out.append(content);
    prev = m.end;
  }
  out.append(text.substr(prev));
  return out;
}

}  // namespace wick::tok
