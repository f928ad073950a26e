// Regex -> GBNF expression, by recursive descent over the pattern (see regex.h). In JSON
// string mode every character is emitted as it must appear inside a JSON string: '"' and '\'
// escaped, control characters left out (a subset of the language, never a superset).
#include "constrain/regex.h"

#include <algorithm>

#include "constrain/grammar.h"
#include "core/error.h"
#include "tokenizer/utf8.h"

namespace wick::constrain {

namespace {

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

std::string cp_escape(uint32_t cp) {
  return cp < 0x10000 ? fmt::format("\\u{:04X}", cp) : fmt::format("\\U{:08X}", cp);
}

class RegexToGbnf {
 public:
  RegexToGbnf(std::string_view p, bool json, std::string_view json_char)
      : p_(p), json_(json), json_char_(json_char) {}

  // Returns the expression; sets the anchors seen at the ends.
  std::string run(bool& anchored_start, bool& anchored_end) {
    anchored_start = anchored_end = false;
    if (peek() == '^') {
      anchored_start = true;
      ++i_;
    }
    std::string e = alternation(0);
    if (i_ < p_.size() && p_[i_] == '$') {
      anchored_end = true;
      ++i_;
    }
    if (i_ < p_.size()) error(p_[i_] == ')' ? "unbalanced ')'" : "unexpected character");
    return e;
  }

 private:
  [[noreturn]] void error(std::string_view msg) const {
    fail(ErrorKind::kInvalidArgument, "regex /{}/ at offset {}: {}", p_, i_, msg);
  }
  char peek() const { return i_ < p_.size() ? p_[i_] : '\0'; }
  bool at_end() const { return i_ >= p_.size(); }

  std::string alternation(int depth) {
    if (depth > 100) error("groups nested too deeply");
    std::vector<std::string> alts{sequence(depth)};
    while (peek() == '|') {
      ++i_;
      alts.push_back(sequence(depth));
    }
    if (alts.size() == 1) return alts[0];
    std::string out = "(";
    for (size_t k = 0; k < alts.size(); ++k) out += (k ? " | " : "") + alts[k];
    return out + ")";
  }

  std::string sequence(int depth) {
    std::string out;
    while (!at_end() && peek() != '|' && peek() != ')') {
      if (peek() == '$' && i_ + 1 == p_.size()) break;
      std::string atom_text = atom(depth);
      atom_text = quantified(std::move(atom_text));
      out += (out.empty() ? "" : " ") + atom_text;
    }
    return out.empty() ? "\"\"" : out;
  }

  std::string quantified(std::string atom_text) {
    std::string q;
    const char c = peek();
    if (c == '*' || c == '+' || c == '?') {
      q = std::string(1, c);
      ++i_;
    } else if (c == '{' && i_ + 1 < p_.size() && std::isdigit(static_cast<uint8_t>(p_[i_ + 1]))) {
      const size_t close = p_.find('}', i_);
      if (close == std::string_view::npos) error("unterminated {m,n}");
      const std::string_view body = p_.substr(i_ + 1, close - i_ - 1);
      if (!std::all_of(body.begin(), body.end(),
                       [](char ch) { return std::isdigit(static_cast<uint8_t>(ch)) || ch == ','; }))
        error("bad {m,n}");
      q = fmt::format("{{{}}}", body);
      i_ = close + 1;
    } else {
      return atom_text;
    }
    if (peek() == '?')
      ++i_;  // lazy: same language
    else if (peek() == '+')
      error("possessive quantifiers are not supported");
    return fmt::format("({}){}", atom_text, q);
  }

  std::string atom(int depth) {
    const char c = peek();
    if (c == '(') {
      ++i_;
      if (peek() == '?') {
        ++i_;
        if (peek() == ':') {
          ++i_;
        } else if (peek() == 'P' || peek() == '<') {
          if (peek() == 'P') ++i_;
          if (peek() != '<' || p_.substr(i_, 2) == "<=" || p_.substr(i_, 2) == "<!")
            error("lookbehind and (?P=name) are not supported");
          const size_t close = p_.find('>', i_);
          if (close == std::string_view::npos) error("unterminated group name");
          i_ = close + 1;
        } else {
          error("lookahead and inline flags are not supported");
        }
      }
      std::string inner = alternation(depth + 1);
      if (peek() != ')') error("missing ')'");
      ++i_;
      return fmt::format("({})", inner);
    }
    if (c == '[') return char_class();
    if (c == '.') {
      ++i_;
      return json_ ? std::string(json_char_) : "[^\\n]";
    }
    if (c == '^' || c == '$') error("anchors are only supported at the ends of the pattern");
    if (c == '*' || c == '+' || c == '?' || c == '{') error("quantifier without an operand");
    if (c == '\\') {
      ++i_;
      Ranges r;
      bool negated = false;
      if (class_escape(r, negated)) return emit_class(r, negated);
      return literal(escaped_char());
    }
    size_t at = i_;
    const uint32_t cp = tok::utf8_next(p_, at);
    i_ = at;
    return literal(cp);
  }

  // After '\': \d \w \s and negations as ranges; false for other escapes (i_ unchanged).
  bool class_escape(Ranges& r, bool& negated) {
    const char e = peek();
    const char lower = static_cast<char>(std::tolower(static_cast<uint8_t>(e)));
    if (lower != 'd' && lower != 'w' && lower != 's') {
      if (e == 'b' || e == 'B') error("word boundaries (\\b) are not supported");
      if (e >= '1' && e <= '9') error("backreferences are not supported");
      return false;
    }
    ++i_;
    negated = e != lower;
    if (lower == 'd') r = {{'0', '9'}};
    if (lower == 'w') r = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
    if (lower == 's') r = {{'\t', '\r'}, {' ', ' '}};
    return true;
  }

  uint32_t hex(int digits) {
    uint32_t v = 0;
    for (int k = 0; k < digits; ++k) {
      const char h = peek();
      if (!std::isxdigit(static_cast<uint8_t>(h))) error("bad hex escape");
      v = v * 16 + static_cast<uint32_t>(
                       std::isdigit(static_cast<uint8_t>(h)) ? h - '0' : (h | 0x20) - 'a' + 10);
      ++i_;
    }
    return v;
  }

  uint32_t escaped_char() {
    if (at_end()) error("trailing backslash");
    const char e = p_[i_++];
    switch (e) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case '0':
        return 0;
      case 'x':
        return hex(2);
      case 'u':
        return hex(4);
      default:
        if (std::isalnum(static_cast<uint8_t>(e))) {
          --i_;
          error(fmt::format("unsupported escape '\\{}'", e));
        }
        return static_cast<uint8_t>(e);
    }
  }

  std::string literal(uint32_t cp) {
    if (!json_) return fmt::format("[{}]", cp_escape(cp));
    if (cp == '"') return "\"\\\\\\\"\"";  // the two characters \"
    if (cp == '\\') return "\"\\\\\\\\\"";
    if (cp < 0x20) {
      if (cp == '\n') return "\"\\\\n\"";
      if (cp == '\t') return "\"\\\\t\"";
      if (cp == '\r') return "\"\\\\r\"";
      return fmt::format("\"\\\\u{:04x}\"", cp);
    }
    return fmt::format("[{}]", cp_escape(cp));
  }

  std::string char_class() {
    ++i_;  // [
    bool negated = false;
    if (peek() == '^') {
      negated = true;
      ++i_;
    }
    Ranges r;
    bool first = true;
    while (true) {
      if (at_end()) error("unterminated character class");
      if (peek() == ']' && !first) break;
      first = false;
      uint32_t lo;
      if (peek() == '\\') {
        ++i_;
        Ranges sub;
        bool sub_negated = false;
        if (class_escape(sub, sub_negated)) {
          if (sub_negated) error("\\D, \\W and \\S inside a class are not supported");
          r.insert(r.end(), sub.begin(), sub.end());
          continue;
        }
        lo = escaped_char();
      } else {
        size_t at = i_;
        lo = tok::utf8_next(p_, at);
        i_ = at;
      }
      uint32_t hi = lo;
      if (peek() == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        ++i_;
        if (peek() == '\\') {
          ++i_;
          hi = escaped_char();
        } else {
          size_t at = i_;
          hi = tok::utf8_next(p_, at);
          i_ = at;
        }
        if (hi < lo) error("character range out of order");
      }
      r.push_back({lo, hi});
    }
    ++i_;  // ]
    return emit_class(r, negated);
  }

  std::string emit_class(Ranges r, bool negated) {
    std::string extra;
    if (json_) {
      auto has = [&](uint32_t cp) {
        return std::any_of(r.begin(), r.end(),
                           [&](auto& x) { return cp >= x.first && cp <= x.second; });
      };
      if (negated) {
        r.push_back({0, 0x1F});
        r.push_back({'"', '"'});
        r.push_back({'\\', '\\'});
      } else {
        if (has('"')) extra += " | \"\\\\\\\"\"";
        if (has('\\')) extra += " | \"\\\\\\\\\"";
        Ranges cut;  // remove controls, quote and backslash
        for (auto [lo, hi] : r) {
          std::vector<std::pair<uint32_t, uint32_t>> pieces{{std::max<uint32_t>(lo, 0x20), hi}};
          for (uint32_t bad : {uint32_t{'"'}, uint32_t{'\\'}}) {
            std::vector<std::pair<uint32_t, uint32_t>> next;
            for (auto [a, b] : pieces) {
              if (a > b) continue;
              if (bad < a || bad > b) {
                next.push_back({a, b});
                continue;
              }
              if (bad > a) next.push_back({a, bad - 1});
              if (bad < b) next.push_back({bad + 1, b});
            }
            pieces = std::move(next);
          }
          for (auto pc : pieces)
            if (pc.first <= pc.second) cut.push_back(pc);
        }
        r = std::move(cut);
      }
    }
    std::string out = negated ? "[^" : "[";
    for (auto [lo, hi] : r) out += lo == hi ? cp_escape(lo) : cp_escape(lo) + "-" + cp_escape(hi);
    out += "]";
    if (!negated && r.empty()) out.clear();
    if (out.empty() && extra.empty()) error("character class matches nothing");
    if (out.empty()) return fmt::format("({})", extra.substr(3));
    return extra.empty() ? out : fmt::format("({}{})", out, extra);
  }

  std::string_view p_;
  bool json_;
  std::string_view json_char_;
  size_t i_ = 0;
};

}  // namespace

std::string regex_to_gbnf(std::string_view pattern) {
  bool start = false, end = false;
  const std::string e = RegexToGbnf(pattern, false, {}).run(start, end);
  return fmt::format("root ::= {}\n", e);
}

std::string regex_json_string_expr(std::string_view pattern, std::string_view json_char) {
  bool start = false, end = false;
  const std::string e = RegexToGbnf(pattern, true, json_char).run(start, end);
  std::string out;
  if (!start) out += fmt::format("{}* ", json_char);
  out += e;
  if (!end) out += fmt::format(" {}*", json_char);
  return out;
}

std::string choices_to_gbnf(const std::vector<std::string>& choices) {
  WICK_CHECK(!choices.empty(), ErrorKind::kInvalidArgument, "choice: the list of choices is empty");
  std::string out = "root ::= ";
  for (size_t k = 0; k < choices.size(); ++k) {
    WICK_CHECK(!choices[k].empty(), ErrorKind::kInvalidArgument, "choice[{}] is empty", k);
    WICK_CHECK(tok::utf8_invalid_offset(choices[k]) == std::string::npos,
               ErrorKind::kInvalidArgument, "choice[{}] is not valid UTF-8", k);
    out += (k ? " | " : "") + gbnf_literal(choices[k]);
  }
  return out + "\n";
}

}  // namespace wick::constrain
