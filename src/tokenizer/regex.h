// A compiled Unicode regular expression (PCRE2, UTF + UCP, JIT when available) used by Split
// pre-tokenizers and Replace normalizers. HF tokenizers compiles these patterns with Oniguruma;
// the syntax they use (classes, \p{..}, (?i:..), lookahead) means the same in PCRE2.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wick::tok {

struct Match {
  size_t begin = 0;  // byte offsets into the searched text
  size_t end = 0;
};

class Regex {
 public:
  // Throws Error(kParse) quoting the pattern and PCRE2's reason when it does not compile.
  explicit Regex(const std::string& pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // All non-overlapping matches, left to right. After an empty match the search resumes one
  // code point later, as Oniguruma's iterator does. text must be valid UTF-8.
  std::vector<Match> find_all(std::string_view text) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Impl;
  std::string pattern_;
  std::unique_ptr<Impl> impl_;
};

// What Split and Replace search for: a literal string or a regex (tokenizer.json's
// {"String": ..} / {"Regex": ..}).
class Pattern {
 public:
  Pattern(const std::string& text, bool is_regex);
  std::vector<Match> find_all(std::string_view text) const;
  // Every match replaced by `content`.
  std::string replace_all(std::string_view text, std::string_view content) const;

 private:
  std::string literal_;
  std::shared_ptr<const Regex> regex_;
};

}  // namespace wick::tok
