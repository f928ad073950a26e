// GBNF text -> Grammar (see grammar.h): a recursive-descent parser that tracks positions for
// line:column errors, rewrites repetitions into helper rules (right recursion, so the matcher's
// stacks stay shallow), then checks that every rule is defined and no rule is left-recursive
// (which would make the matcher expand forever).
#include <algorithm>
#include <map>

#include "constrain/grammar.h"
#include "core/error.h"

namespace wick::constrain {

namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;
constexpr int kMaxRepeat = 1000;         // {m,n} bounds
constexpr size_t kMaxElems = 4'000'000;  // a guard against grammars that explode when expanded
constexpr int kMaxDepth = 200;           // nested groups

using Seq = std::vector<Elem>;
using Alts = std::vector<Seq>;

struct RuleDraft {
  std::string name;
  Alts alts;
  bool defined = false;
  size_t pos = 0;  // definition, or first reference while undefined
};

class Parser {
 public:
  Parser(std::string_view text, std::string_view source) : s_(text), source_(source) {}

  Grammar parse() {
    skip_space(true);
    if (at_end()) error(0, "empty grammar: no rules");
    while (!at_end()) {
      parse_rule();
      skip_space(true);
    }
    return finish();
  }

 private:
  [[noreturn]] void error(size_t pos, std::string_view msg) const {
    const auto [line, col] = line_col(pos);
    fail(ErrorKind::kParse, "{}:{}:{}: {}", source_, line, col, msg);
  }
  std::pair<uint32_t, uint32_t> line_col(size_t pos) const {
    uint32_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else if ((static_cast<uint8_t>(s_[i]) & 0xC0) != 0x80) {
        ++col;
      }
    }
    return {line, col};
  }

  bool at_end() const { return p_ >= s_.size(); }
  char peek(size_t ahead = 0) const { return p_ + ahead < s_.size() ? s_[p_ + ahead] : '\0'; }
  static bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  }

  // Spaces, tabs and comments; newlines too when `newlines` (inside groups, after ::= and |).
  void skip_space(bool newlines) {
    while (!at_end()) {
      const char c = s_[p_];
      if (c == ' ' || c == '\t' || (newlines && (c == '\n' || c == '\r'))) {
        ++p_;
      } else if (c == '#') {
        while (!at_end() && s_[p_] != '\n') ++p_;
      } else {
        break;
      }
    }
  }

  std::string parse_name() {
    const size_t start = p_;
    while (!at_end() && is_name_char(s_[p_])) ++p_;
    if (p_ == start) error(p_, fmt::format("expected a rule name, found '{}'", printable(peek())));
    return std::string(s_.substr(start, p_ - start));
  }
  static std::string printable(char c) {
    if (c == '\0') return "end of input";
    if (c == '\n') return "\\n";
    return std::string(1, c);
  }

  uint32_t rule_index(const std::string& name, size_t pos) {
    auto [it, inserted] = index_.try_emplace(name, static_cast<uint32_t>(rules_.size()));
    if (inserted) rules_.push_back({name, {}, false, pos});
    return it->second;
  }
  uint32_t new_rule(Alts alts, size_t pos, std::string_view hint) {
    const uint32_t id = static_cast<uint32_t>(rules_.size());
    rules_.push_back({fmt::format("{}_{}", hint, id), std::move(alts), true, pos});
    return id;
  }

  void parse_rule() {
    const size_t start = p_;
    std::string name = parse_name();
    skip_space(false);
    if (peek() != ':' || peek(1) != ':' || peek(2) != '=')
      error(p_, fmt::format("expected '::=' after rule name '{}'", name));
    p_ += 3;
    skip_space(true);
    const uint32_t id = rule_index(name, start);
    if (rules_[id].defined) error(start, fmt::format("rule '{}' is defined twice", name));
    rules_[id].alts = parse_alternates(false, 0);
    rules_[id].defined = true;
    rules_[id].pos = start;
    skip_space(false);
    if (!at_end() && peek() != '\n' && peek() != '\r')
      error(p_, fmt::format("unexpected '{}' in rule '{}'", printable(peek()), name));
  }

  Alts parse_alternates(bool nested, int depth) {
    if (depth > kMaxDepth) error(p_, "groups nested too deeply");
    Alts alts;
    alts.push_back(parse_sequence(nested, depth));
    while (true) {
      // An alternative may continue on the next line when that line starts with '|'.
      const size_t before = p_;
      skip_space(true);
      if (peek() != '|') {
        p_ = before;
        break;
      }
      ++p_;
      skip_space(true);
      alts.push_back(parse_sequence(nested, depth));
    }
    return alts;
  }

  Seq parse_sequence(bool nested, int depth) {
    Seq seq;
    while (!at_end()) {
      const size_t item_pos = p_;
      Seq item;
      const char c = peek();
      if (c == '"') {
        item = parse_literal();
      } else if (c == '[') {
        item.push_back(chars(parse_class()));
      } else if (c == '.') {
        ++p_;
        CharSet any;
        any.ranges.push_back({0, kMaxCodePoint});
        item.push_back(chars(std::move(any)));
      } else if (c == '(') {
        ++p_;
        skip_space(true);
        Alts alts = parse_alternates(true, depth + 1);
        if (peek() != ')') error(p_, fmt::format("expected ')' but found '{}'", printable(peek())));
        ++p_;
        item.push_back({Elem::kRule, new_rule(std::move(alts), item_pos, "group")});
      } else if (is_name_char(c)) {
        const std::string name = parse_name();
        const size_t after = p_;
        skip_space(false);
        if (peek() == ':' && peek(1) == ':' && peek(2) == '=')
          error(item_pos, fmt::format("rule '{}' must start on a new line", name));
        p_ = after;
        item.push_back({Elem::kRule, rule_index(name, item_pos)});
      } else {
        break;
      }
      item = parse_postfix(std::move(item), item_pos);
      seq.insert(seq.end(), item.begin(), item.end());
      if (seq.size() > kMaxElems) error(item_pos, "grammar too large");
      skip_space(nested);
    }
    return seq;
  }

  Elem chars(CharSet set) {
    set.finalize();
    charsets_.push_back(std::move(set));
    return {Elem::kChars, static_cast<uint32_t>(charsets_.size() - 1)};
  }

  int parse_int() {
    const size_t start = p_;
    long v = 0;
    while (peek() >= '0' && peek() <= '9') {
      v = v * 10 + (peek() - '0');
      if (v > kMaxRepeat) error(start, fmt::format("repetition count above {}", kMaxRepeat));
      ++p_;
    }
    if (p_ == start) error(p_, "expected a number in {m,n}");
    return static_cast<int>(v);
  }

  // item followed by * + ? {m} {m,} {m,n}: rewritten into helper rules.
  Seq parse_postfix(Seq item, size_t item_pos) {
    const char c = peek();
    int lo = 0, hi = -1;  // hi -1: unbounded
    if (c == '*') {
      ++p_;
    } else if (c == '+') {
      ++p_;
      lo = 1;
    } else if (c == '?') {
      ++p_;
      hi = 1;
    } else if (c == '{') {
      ++p_;
      skip_space(false);
      lo = parse_int();
      skip_space(false);
      hi = lo;
      if (peek() == ',') {
        ++p_;
        skip_space(false);
        hi = peek() == '}' ? -1 : parse_int();
        skip_space(false);
      }
      if (peek() != '}') error(p_, "expected '}' to close the repetition");
      ++p_;
      if (hi >= 0 && hi < lo)
        error(item_pos, fmt::format("repetition {{{},{}}} has max < min", lo, hi));
    } else {
      return item;
    }
    if (peek() == '*' || peek() == '+' || peek() == '?')
      error(p_, "repetition operator applied twice; use a group");
    return repeat(item, lo, hi, item_pos);
  }

  Seq repeat(const Seq& item, int lo, int hi, size_t pos) {
    Seq out;
    for (int i = 0; i < lo; ++i) out.insert(out.end(), item.begin(), item.end());
    if (out.size() > kMaxElems) error(pos, "grammar too large");
    if (hi < 0) {  // R ::= item R | (empty)
      const uint32_t r = new_rule({}, pos, "star");
      Seq loop = item;
      loop.push_back({Elem::kRule, r});
      rules_[r].alts = {loop, {}};
      out.push_back({Elem::kRule, r});
    } else if (hi > lo) {  // O_k ::= item O_{k-1} | (empty), O_1 ::= item | (empty)
      uint32_t prev = new_rule({item, {}}, pos, "opt");
      for (int k = 2; k <= hi - lo; ++k) {
        Seq more = item;
        more.push_back({Elem::kRule, prev});
        prev = new_rule({more, {}}, pos, "opt");
      }
      out.push_back({Elem::kRule, prev});
    }
    return out;
  }

  uint32_t parse_hex(int digits) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      const char c = peek();
      int d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        error(p_, fmt::format("expected {} hex digits", digits));
      v = v * 16 + static_cast<uint32_t>(d);
      ++p_;
    }
    if (v > kMaxCodePoint) error(p_, "code point beyond U+10FFFF");
    return v;
  }

  // One character of a literal or class (escape or UTF-8), as a code point.
  uint32_t parse_char() {
    if (at_end()) error(p_, "unexpected end of input");
    const uint8_t b = static_cast<uint8_t>(s_[p_]);
    if (b == '\\') {
      ++p_;
      const char e = peek();
      ++p_;
      switch (e) {
        case 'x':
          return parse_hex(2);
        case 'u':
          return parse_hex(4);
        case 'U':
          return parse_hex(8);
        case 't':
          return '\t';
        case 'n':
          return '\n';
        case 'r':
          return '\r';
        case 'f':
          return '\f';
        case 'v':
          return '\v';
        case 'b':
          return '\b';
        case '0':
          return 0;
        case '\0':
          error(p_ - 1, "unexpected end of input after '\\'");
        default:
          if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || static_cast<uint8_t>(e) >= 0x80)
            error(p_ - 2, fmt::format("unknown escape '\\{}'", e));
          return static_cast<uint8_t>(e);
      }
    }
    if (b < 0x80) {
      ++p_;
      return b;
    }
    const int len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
    if (len == 0 || b > 0xF4 || p_ + static_cast<size_t>(len) > s_.size())
      error(p_, "invalid UTF-8");
    uint32_t cp = b & (0x7F >> len);
    for (int i = 1; i < len; ++i) {
      const uint8_t cb = static_cast<uint8_t>(s_[p_ + static_cast<size_t>(i)]);
      if ((cb & 0xC0) != 0x80) error(p_, "invalid UTF-8");
      cp = (cp << 6) | (cb & 0x3F);
    }
    p_ += static_cast<size_t>(len);
    return cp;
  }

  Seq parse_literal() {
    const size_t start = p_;
    ++p_;  // opening quote
    Seq seq;
    while (true) {
      if (at_end() || peek() == '\n') error(start, "unterminated string literal");
      if (peek() == '"') break;
      const uint32_t cp = parse_char();
      CharSet one;
      one.ranges.push_back({cp, cp});
      seq.push_back(chars(std::move(one)));
    }
    ++p_;
    return seq;
  }

  CharSet parse_class() {
    const size_t start = p_;
    ++p_;  // [
    CharSet set;
    if (peek() == '^') {
      set.negated = true;
      ++p_;
    }
    while (true) {
      if (at_end()) error(start, "unterminated character class");
      if (peek() == ']') break;
      const uint32_t lo = parse_char();
      uint32_t hi = lo;
      if (peek() == '-' && peek(1) != ']' && p_ + 1 < s_.size()) {
        const size_t dash = p_;
        ++p_;
        hi = parse_char();
        if (hi < lo) error(dash, "character range is out of order");
      }
      set.ranges.push_back({lo, hi});
    }
    ++p_;
    return set;
  }

  Grammar finish();

  std::string_view s_;
  std::string_view source_;
  size_t p_ = 0;
  std::vector<RuleDraft> rules_;
  std::map<std::string, uint32_t> index_;
  std::vector<CharSet> charsets_;
};

Grammar Parser::finish() {
  for (const RuleDraft& r : rules_)
    if (!r.defined) error(r.pos, fmt::format("undefined rule '{}'", r.name));
  const auto root = index_.find("root");
  if (root == index_.end()) error(0, "no 'root' rule");
  Grammar g;
  g.root = root->second;
  g.charsets = std::move(charsets_);
  for (RuleDraft& r : rules_) {
    Rule rule;
    rule.name = r.name;
    std::tie(rule.line, rule.column) = line_col(r.pos);
    for (const Seq& alt : r.alts) {
      rule.alts.push_back(static_cast<uint32_t>(g.elems.size()));
      g.elems.insert(g.elems.end(), alt.begin(), alt.end());
      g.elems.push_back({Elem::kEnd, 0});
    }
    g.rules.push_back(std::move(rule));
  }
  // Nullable rules (fixpoint), then the left-corner graph: A -> B when B can start A.
  std::vector<char> nullable(g.rules.size(), 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < g.rules.size(); ++r) {
      if (nullable[r]) continue;
      for (uint32_t a : g.rules[r].alts) {
        uint32_t i = a;
        while (g.elems[i].kind == Elem::kRule && nullable[g.elems[i].index]) ++i;
        if (g.elems[i].kind == Elem::kEnd) {
          nullable[r] = 1;
          changed = true;
          break;
        }
      }
    }
  }
  std::vector<std::vector<uint32_t>> corner(g.rules.size());
  for (size_t r = 0; r < g.rules.size(); ++r)
    for (uint32_t a : g.rules[r].alts)
      for (uint32_t i = a; g.elems[i].kind == Elem::kRule; ++i) {
        corner[r].push_back(g.elems[i].index);
        if (!nullable[g.elems[i].index]) break;
      }
  // Iterative DFS with colours; a back edge is a left-recursive cycle.
  std::vector<uint8_t> colour(g.rules.size(), 0);
  for (uint32_t start = 0; start < g.rules.size(); ++start) {
    if (colour[start]) continue;
    std::vector<std::pair<uint32_t, size_t>> stack{{start, 0}};
    colour[start] = 1;
    while (!stack.empty()) {
      auto& [r, next] = stack.back();
      if (next == corner[r].size()) {
        colour[r] = 2;
        stack.pop_back();
        continue;
      }
      const uint32_t to = corner[r][next++];
      if (colour[to] == 1) {
        const RuleDraft& d = rules_[to];
        const bool generated = index_.find(d.name) == index_.end() || index_.at(d.name) != to;
        error(d.pos, generated ? fmt::format("left recursion: the repeated item can match "
                                             "the empty string")
                               : fmt::format("left recursion in rule '{}'", d.name));
      }
      if (colour[to] == 0) {
        colour[to] = 1;
        stack.push_back({to, 0});
      }
    }
  }
  return g;
}

}  // namespace

void CharSet::finalize() {
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uint32_t, uint32_t>> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second + 1)
      merged.back().second = std::max(merged.back().second, r.second);
    else
      merged.push_back(r);
  }
  ranges = std::move(merged);
  ascii[0] = ascii[1] = 0;
  for (uint32_t c = 0; c < 128; ++c) {
    bool in = false;
    for (const auto& r : ranges) in |= c >= r.first && c <= r.second;
    if (in != negated) ascii[c / 64] |= uint64_t{1} << (c % 64);
  }
}

bool CharSet::contains(uint32_t cp) const {
  if (cp < 128) return (ascii[cp / 64] >> (cp % 64)) & 1;
  bool in = false;
  for (const auto& r : ranges) {
    if (cp < r.first) break;
    if (cp <= r.second) {
      in = true;
      break;
    }
  }
  return in != negated;
}

bool CharSet::intersects(uint32_t lo, uint32_t hi) const {
  if (!negated) {
    for (const auto& r : ranges)
      if (r.first <= hi && r.second >= lo) return true;
    return false;
  }
  // Negated: some point of [lo, hi] is outside every range.
  uint32_t next = lo;
  for (const auto& r : ranges) {
    if (r.second < next) continue;
    if (r.first > next) return true;
    if (r.second >= hi) return false;
    next = r.second + 1;
  }
  return next <= hi;
}

bool CharSet::covers(uint32_t lo, uint32_t hi) const {
  if (negated) {
    for (const auto& r : ranges)
      if (r.first <= hi && r.second >= lo) return false;
    return true;
  }
  for (const auto& r : ranges)
    if (r.first <= lo && r.second >= hi) return true;
  return false;
}

Grammar parse_gbnf(std::string_view text, std::string_view source) {
  return Parser(text, source).parse();
}

std::string gbnf_literal(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const uint8_t c = static_cast<uint8_t>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02X}", c);
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

}  // namespace wick::constrain
