// Normalizer implementations and their construction from tokenizer.json.
#include "tokenizer/normalizer.h"

#include <utf8proc.h>

#include <cstdlib>
#include <vector>

#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"

namespace wick::tok {

bool is_unicode_whitespace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

namespace {

class UnicodeForm : public Normalizer {
 public:
  explicit UnicodeForm(int options) : options_(options) {}
  std::string normalize(std::string_view text, bool& start_moved) const override {
    utf8proc_uint8_t* out = nullptr;
    const utf8proc_ssize_t n =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                     static_cast<utf8proc_ssize_t>(text.size()), &out,
                     static_cast<utf8proc_option_t>(options_ | UTF8PROC_STABLE));
    if (n < 0)
      fail(ErrorKind::kInvalidArgument, "unicode normalization failed: {}", utf8proc_errmsg(n));
    std::string result(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
    std::free(out);
    return result;
  }

 private:
  int options_;
};

// Per-character lowercase, as HF's Lowercase (Rust char::to_lowercase: no final-sigma rule);
// U+0130 is the one character whose lowercase is two characters ("i\u0307").
std::string lowercase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const char32_t cp = utf8_next(text, i);
    if (cp == 0x130) {
      out += "i\xCC\x87";
    } else {
      utf8_append(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
    }
  }
  return out;
}

class Lowercase : public Normalizer {
 public:
  std::string normalize(std::string_view text, bool&) const override { return lowercase(text); }
};

class Replace : public Normalizer {
 public:
  Replace(const JsonPattern& p, std::string content)
      : pattern_(p.text, p.is_regex), content_(std::move(content)) {}
  std::string normalize(std::string_view text, bool& start_moved) const override {
    // Deleting a match at offset 0 moves the start; replacing it keeps it (the replacement
    // inherits the deleted text's position).
    if (content_.empty() && text.size() > 0) {
      const auto matches = pattern_.find_all(text);
      if (!matches.empty() && matches[0].begin == 0 && matches[0].end > 0) start_moved = true;
    }
    return pattern_.replace_all(text, content_);
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string normalize(std::string_view text, bool& start_moved) const override {
    if (text.empty()) return {};
    return prefix_ + std::string(text);
  }

 private:
  std::string prefix_;
};

class Strip : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  std::string normalize(std::string_view text, bool& start_moved) const override {
    size_t begin = 0, end = text.size();
    if (left_) {
      while (begin < end) {
        size_t next = begin;
        if (!is_unicode_whitespace(utf8_next(text, next))) break;
        begin = next;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
        size_t probe = start;
        if (!is_unicode_whitespace(utf8_next(text, probe))) break;
        end = start;
      }
    }
    if (begin > 0) start_moved = true;
    return std::string(text.substr(begin, end - begin));
  }

 private:
  bool left_, right_;
};

// Removes marks: every mark (Mn, Mc, Me) for HF's StripAccents, only nonspacing ones (Mn) for
// BertNormalizer; both run after NFD.
std::string strip_accents(std::string_view text, bool all_marks) {
  const auto last = all_marks ? UTF8PROC_CATEGORY_ME : UTF8PROC_CATEGORY_MN;
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const char32_t cp = utf8_next(text, i);
    const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
    if (cat < UTF8PROC_CATEGORY_MN || cat > last) utf8_append(out, cp);
  }
  return out;
}

class StripAccents : public Normalizer {
 public:
  std::string normalize(std::string_view text, bool& start_moved) const override {
    std::string out = strip_accents(text, true);
    if (!text.empty() && (out.empty() || out[0] != text[0])) start_moved = true;
    return out;
  }
};

bool is_cjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

class BertNormalizer : public Normalizer {
 public:
  BertNormalizer(bool clean, bool chinese, bool strip, bool lower)
      : clean_(clean), chinese_(chinese), strip_(strip), lower_(lower) {}
  std::string normalize(std::string_view text, bool& start_moved) const override {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
      const char32_t cp = utf8_next(text, i);
      if (clean_) {
        const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
        const bool control = cp != '\t' && cp != '\n' && cp != '\r' &&
                             (cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
                              cat == UTF8PROC_CATEGORY_CN || cat == UTF8PROC_CATEGORY_CO);
        if (cp == 0 || cp == 0xFFFD || control) continue;
        if (is_unicode_whitespace(cp)) {
          out += ' ';
          continue;
        }
      }
      if (chinese_ && is_cjk(cp)) {
        out += ' ';
        utf8_append(out, cp);
        out += ' ';
        continue;
      }
      utf8_append(out, cp);
    }
    if (!text.empty() && (out.empty() || out[0] != text[0])) start_moved = true;
    bool ignored = false;
    if (strip_) out = strip_accents(UnicodeForm(UTF8PROC_DECOMPOSE).normalize(out, ignored), false);
    if (lower_) out = lowercase(out);
    return out;
  }

 private:
  bool clean_, chinese_, strip_, lower_;
};

class Sequence : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  std::string normalize(std::string_view text, bool& start_moved) const override {
    std::string s(text);
    for (const auto& step : steps_) s = step->normalize(s, start_moved);
    return s;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const Json& j, std::string_view where) {
  if (j.is_null()) return nullptr;
  const std::string type = json_string(j, "type", where);
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> steps;
    const Json& list = json_array(j, "normalizers", where);
    for (size_t i = 0; i < list.size(); ++i) {
      auto step = make_normalizer(list[i], fmt::format("{}.normalizers[{}]", where, i));
      if (step) steps.push_back(std::move(step));
    }
    return std::make_unique<Sequence>(std::move(steps));
  }
  if (type == "NFC") return std::make_unique<UnicodeForm>(UTF8PROC_COMPOSE);
  if (type == "NFD") return std::make_unique<UnicodeForm>(UTF8PROC_DECOMPOSE);
  if (type == "NFKC") return std::make_unique<UnicodeForm>(UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
  if (type == "NFKD") return std::make_unique<UnicodeForm>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "StripAccents") return std::make_unique<StripAccents>();
  if (type == "Replace")
    return std::make_unique<Replace>(json_pattern(j, where), json_string(j, "content", where));
  if (type == "Prepend") return std::make_unique<Prepend>(json_string(j, "prepend", where));
  if (type == "Strip")
    return std::make_unique<Strip>(json_bool_or(j, "strip_left", false, where),
                                   json_bool_or(j, "strip_right", false, where));
  if (type == "BertNormalizer") {
    const bool lower = json_bool_or(j, "lowercase", true, where);
    return std::make_unique<BertNormalizer>(json_bool_or(j, "clean_text", true, where),
                                            json_bool_or(j, "handle_chinese_chars", true, where),
                                            json_bool_or(j, "strip_accents", lower, where), lower);
  }
  fail(ErrorKind::kUnsupported, "tokenizer.json: {}: normalizer type '{}' is not supported", where,
       type);
}

}  // namespace wick::tok
