// Jinja2 lexer. Mirrors jinja2's regex rules: the text before a tag is right-stripped by `{%-`,
// left-stripped to the line start by lstrip_blocks (block and comment tags only, and only when
// the tag starts its line); `-%}` eats all following whitespace, `%}` one newline (trim_blocks).
#include "tokenizer/jinja_lexer.h"

#include "core/error.h"
#include "tokenizer/jinja_value.h"

#include <cstring>

namespace wick::jinja {

std::string normalize_source(const std::string& source) {
  std::string out;
  out.reserve(source.size());
  for (size_t k = 0; k < source.size(); ++k) {
    if (source[k] == '\r') {
      out += '\n';
      if (k + 1 < source.size() && source[k + 1] == '\n') ++k;
    } else {
      out += source[k];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string describe_position(const std::string& source, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t k = 0; k < offset && k < source.size(); ++k) {
    if (source[k] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

namespace {

[[noreturn]] void lex_fail(const std::string& src, size_t offset, const std::string& what) {
  fail(ErrorKind::kParse, "chat template syntax error at {}: {}", describe_position(src, offset),
       what);
}

// Length in bytes of the whitespace code point at `pos`, or 0.
size_t space_len(const std::string& s, size_t pos) {
  auto c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80) return is_py_space(c) ? 1 : 0;
  size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (pos + len > s.size()) return 0;
  std::u32string cps = utf8_decode(s.substr(pos, len));
  return cps.size() == 1 && is_py_space(cps[0]) ? len : 0;
}

size_t skip_spaces(const std::string& s, size_t pos) {
  while (pos < s.size()) {
    size_t n = space_len(s, pos);
    if (n == 0) break;
    pos += n;
  }
  return pos;
}

std::string rstrip_py(const std::string& s) {
  std::u32string cps = utf8_decode(s);
  size_t end = cps.size();
  while (end > 0 && is_py_space(cps[end - 1])) --end;
  if (end == cps.size()) return s;
  return utf8_encode(cps.substr(0, end));
}

class Lexer {
 public:
  explicit Lexer(const std::string& src) : src_(src) {}

  std::vector<Token> run() {
    size_t pos = 0;
    while (pos < src_.size()) {
      size_t start = find_tag(pos);
      if (start == std::string::npos) {
        emit_text(src_.substr(pos), pos);
        break;
      }
      char type = src_[start + 1];
      size_t after = start + 2;
      char sign =
          after < src_.size() && (src_[after] == '-' || src_[after] == '+') ? src_[after] : 0;
      if (sign) ++after;
      std::string text = src_.substr(pos, start - pos);
      size_t raw_end = type == '%' ? match_raw_begin(after) : std::string::npos;
      apply_left_strip(text, sign, type != '{');
      emit_text(text, pos);
      if (raw_end != std::string::npos) {
        pos = lex_raw(raw_end);
      } else if (type == '#') {
        pos = lex_comment(start, after);
      } else {
        pos = lex_tag(start, after, type == '{');
      }
    }
    tokens_.push_back({TokenKind::kEof, "", src_.size()});
    return std::move(tokens_);
  }

 private:
  size_t find_tag(size_t pos) const {
    while (true) {
      size_t k = src_.find('{', pos);
      if (k == std::string::npos || k + 1 >= src_.size()) return std::string::npos;
      char c = src_[k + 1];
      if (c == '{' || c == '%' || c == '#') return k;
      pos = k + 1;
    }
  }

  void apply_left_strip(std::string& text, char sign, bool lstrip_allowed) const {
    if (sign == '-') {
      text = rstrip_py(text);
    } else if (sign != '+' && lstrip_allowed) {
      size_t nl = text.rfind('\n');
      size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting_) && l_pos < text.size() &&
          skip_spaces(text, l_pos) == text.size()) {
        text.resize(l_pos);
      }
    }
  }

  void emit_text(const std::string& text, size_t offset) {
    if (!text.empty()) tokens_.push_back({TokenKind::kText, text, offset});
  }

  // After `{%` (and sign): `\s*raw\s*(-%}\s*|%})`; returns the position after it or npos.
  size_t match_raw_begin(size_t pos) const {
    size_t k = skip_spaces(src_, pos);
    if (src_.compare(k, 3, "raw") != 0) return std::string::npos;
    k = skip_spaces(src_, k + 3);
    if (src_.compare(k, 3, "-%}") == 0) return skip_spaces(src_, k + 3);
    if (src_.compare(k, 2, "%}") == 0) return k + 2;
    return std::string::npos;
  }

  size_t lex_raw(size_t body) {
    line_starting_ = body > 0 && src_[body - 1] == '\n';
    size_t k = body;
    while (true) {
      k = src_.find("{%", k);
      if (k == std::string::npos) lex_fail(src_, body, "missing end of raw directive");
      size_t p = k + 2;
      char sign = p < src_.size() && (src_[p] == '-' || src_[p] == '+') ? src_[p] : 0;
      if (sign) ++p;
      p = skip_spaces(src_, p);
      if (src_.compare(p, 6, "endraw") != 0) {
        k += 2;
        continue;
      }
      p = skip_spaces(src_, p + 6);
      size_t end = finish_block_end(p);
      if (end == std::string::npos) {
        k += 2;
        continue;
      }
      std::string text = src_.substr(body, k - body);
      apply_left_strip(text, sign, true);
      emit_text(text, body);
      return end;
    }
  }

  // At `p`: one of `+%}`, `-%}\s*`, `%}\n?`. Returns the position after it or npos.
  size_t finish_block_end(size_t p) {
    if (src_.compare(p, 3, "+%}") == 0) return set_line_start(p + 3);
    if (src_.compare(p, 3, "-%}") == 0) return set_line_start(skip_spaces(src_, p + 3));
    if (src_.compare(p, 2, "%}") == 0) {
      p += 2;
      if (p < src_.size() && src_[p] == '\n') ++p;
      return set_line_start(p);
    }
    return std::string::npos;
  }

  size_t set_line_start(size_t end) {
    line_starting_ = end > 0 && src_[end - 1] == '\n';
    return end;
  }

  size_t lex_comment(size_t start, size_t body) {
    size_t k = src_.find("#}", body);
    if (k == std::string::npos) lex_fail(src_, start, "missing end of comment tag");
    size_t end = k + 2;
    if (k > body && src_[k - 1] == '-') {
      end = skip_spaces(src_, end);
    } else if (k > body && src_[k - 1] == '+') {
      // keep following whitespace
    } else if (end < src_.size() && src_[end] == '\n') {
      ++end;
    }
    return set_line_start(end);
  }

  size_t lex_tag(size_t start, size_t pos, bool is_var) {
    tokens_.push_back({is_var ? TokenKind::kVarBegin : TokenKind::kBlockBegin, "", start});
    std::vector<char> stack;
    while (true) {
      pos = skip_spaces(src_, pos);
      if (pos >= src_.size()) lex_fail(src_, start, "unexpected end of template inside a tag");
      if (stack.empty()) {
        size_t end = is_var ? finish_var_end(pos) : finish_block_end(pos);
        if (end != std::string::npos) {
          tokens_.push_back({is_var ? TokenKind::kVarEnd : TokenKind::kBlockEnd, "", pos});
          return end;
        }
      }
      pos = lex_token(pos, stack);
    }
  }

  size_t finish_var_end(size_t p) {
    if (src_.compare(p, 3, "-}}") == 0) return set_line_start(skip_spaces(src_, p + 3));
    if (src_.compare(p, 2, "}}") == 0) return set_line_start(p + 2);
    return std::string::npos;
  }

  size_t lex_token(size_t pos, std::vector<char>& stack) {
    char c = src_[pos];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t e = pos;
      while (e < src_.size() &&
             (std::isalnum(static_cast<unsigned char>(src_[e])) || src_[e] == '_'))
        ++e;
      tokens_.push_back({TokenKind::kName, src_.substr(pos, e - pos), pos});
      return e;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) return lex_number(pos);
    if (c == '\'' || c == '"') return lex_string(pos);
    static const char* kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
    for (const char* op : kTwo) {
      if (src_.compare(pos, 2, op) == 0) {
        tokens_.push_back({TokenKind::kOp, op, pos});
        return pos + 2;
      }
    }
    if (std::strchr("+-/*%~[](){}<>=.:|,;", c) == nullptr || c == 0)
      lex_fail(src_, pos, std::string("unexpected character '") + c + "'");
    if (c == '(' || c == '[' || c == '{') {
      WICK_CHECK(stack.size() < 256, ErrorKind::kParse,
                 "chat template: brackets nested too deeply");
      stack.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (stack.empty()) lex_fail(src_, pos, std::string("unexpected '") + c + "'");
      if (stack.back() != c)
        lex_fail(src_, pos, std::string("unexpected '") + c + "', expected '" + stack.back() + "'");
      stack.pop_back();
    }
    tokens_.push_back({TokenKind::kOp, std::string(1, c), pos});
    return pos + 1;
  }

  size_t scan_digits(size_t pos) const {
    // (\d+_)*\d+
    size_t e = pos;
    while (e < src_.size()) {
      if (std::isdigit(static_cast<unsigned char>(src_[e]))) {
        ++e;
      } else if (src_[e] == '_' && e + 1 < src_.size() &&
                 std::isdigit(static_cast<unsigned char>(src_[e + 1])) && e > pos) {
        ++e;
      } else {
        break;
      }
    }
    return e;
  }

  size_t lex_number(size_t pos) {
    size_t e = scan_digits(pos);
    bool is_float = false;
    if (e + 1 < src_.size() && src_[e] == '.' &&
        std::isdigit(static_cast<unsigned char>(src_[e + 1]))) {
      e = scan_digits(e + 1);
      is_float = true;
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t k = e + 1;
      if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
      if (k < src_.size() && std::isdigit(static_cast<unsigned char>(src_[k]))) {
        e = scan_digits(k);
        is_float = true;
      }
    }
    std::string text;
    for (size_t k = pos; k < e; ++k)
      if (src_[k] != '_') text += src_[k];
    tokens_.push_back({is_float ? TokenKind::kFloat : TokenKind::kInt, text, pos});
    return e;
  }

  size_t lex_string(size_t pos) {
    char quote = src_[pos];
    std::string out;
    size_t k = pos + 1;
    while (true) {
      if (k >= src_.size()) lex_fail(src_, pos, "unterminated string");
      char c = src_[k];
      if (c == quote) break;
      if (c != '\\') {
        out += c;
        ++k;
        continue;
      }
      if (k + 1 >= src_.size()) lex_fail(src_, pos, "unterminated string");
      k = unescape(k + 1, out);
    }
    tokens_.push_back({TokenKind::kString, out, pos});
    return k + 1;
  }

  // Python unicode-escape of the character after a backslash at `k`; returns the next position.
  size_t unescape(size_t k, std::string& out) const {
    char e = src_[k];
    switch (e) {
      case 'n':
        out += '\n';
        return k + 1;
      case 't':
        out += '\t';
        return k + 1;
      case 'r':
        out += '\r';
        return k + 1;
      case '\\':
        out += '\\';
        return k + 1;
      case '\'':
        out += '\'';
        return k + 1;
      case '"':
        out += '"';
        return k + 1;
      case 'a':
        out += '\a';
        return k + 1;
      case 'b':
        out += '\b';
        return k + 1;
      case 'f':
        out += '\f';
        return k + 1;
      case 'v':
        out += '\v';
        return k + 1;
      case '\n':
        return k + 1;
      case 'x':
      case 'u':
      case 'U': {
        size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (k + n >= src_.size()) lex_fail(src_, k, "truncated \\" + std::string(1, e) + " escape");
        char32_t cp = 0;
        for (size_t m = 1; m <= n; ++m) {
          char h = src_[k + m];
          if (!std::isxdigit(static_cast<unsigned char>(h)))
            lex_fail(src_, k, "truncated \\" + std::string(1, e) + " escape");
          cp = cp * 16 + static_cast<char32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                   ? h - '0'
                                                   : (std::tolower(h) - 'a' + 10));
        }
        if (cp > 0x10ffff) lex_fail(src_, k, "illegal Unicode character in escape");
        utf8_append(out, cp);
        return k + n + 1;
      }
      default:
        if (e >= '0' && e <= '7') {
          char32_t cp = 0;
          size_t m = k;
          while (m < k + 3 && m < src_.size() && src_[m] >= '0' && src_[m] <= '7')
            cp = cp * 8 + static_cast<char32_t>(src_[m++] - '0');
          utf8_append(out, cp);
          return m;
        }
        out += '\\';
        return k;  // unknown escape: keep the backslash, the character follows as-is
    }
  }

  const std::string& src_;
  std::vector<Token> tokens_;
  bool line_starting_ = true;
};

}  // namespace

std::vector<Token> tokenize(const std::string& normalized_source) {
  return Lexer(normalized_source).run();
}

}  // namespace wick::jinja
