// Scanner for tokenizer.json's two big tables (see json_tables.h). It accepts only what the
// nlohmann DOM parser accepts (RFC 8259 strings with escapes and surrogate pairs, well-formed
// UTF-8, integers without fraction or exponent) and gives up on everything else, so the fast
// and the DOM path load the same tokenizer or the DOM path reports the error.
#include "tokenizer/json_tables.h"

#include <cstring>

#include "tokenizer/utf8.h"

namespace wick::tok {
namespace {

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  size_t pos() const { return i_; }
  void advance(size_t n) { i_ += n; }
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }
  bool consume(char c) {
    skip_ws();
    if (peek() != c) return false;
    ++i_;
    return true;
  }

  // A string at i_ (the opening quote): a view into the input when it has no escapes, else
  // into `scratch`. nullopt for anything nlohmann would reject.
  std::optional<std::string_view> string(std::string& scratch) {
    if (peek() != '"') return std::nullopt;
    const size_t begin = ++i_;
    const char* p = s_.data();
    const size_t n = s_.size();
    while (true) {
      while (i_ < n) {  // plain ASCII: the common case
        const auto c = static_cast<uint8_t>(p[i_]);
        if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
        ++i_;
      }
      if (i_ >= n) return std::nullopt;
      const auto c = static_cast<uint8_t>(p[i_]);
      if (c == '"') return s_.substr(begin, i_++ - begin);
      if (c == '\\') return escaped_string(begin, scratch);
      if (c < 0x20) return std::nullopt;
      const size_t len = utf8_sequence_length(s_, i_);
      if (len == 0) return std::nullopt;
      i_ += len;
    }
  }

  // A non-negative integer in [0, max]; nullopt for signs, fractions, exponents, leading
  // zeros or larger values (the DOM path decides what those mean).
  std::optional<int64_t> small_uint(int64_t max) {
    skip_ws();
    const size_t begin = i_;
    int64_t v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      v = v * 10 + (s_[i_++] - '0');
      if (v > max) return std::nullopt;
    }
    if (i_ == begin || (s_[begin] == '0' && i_ - begin > 1)) return std::nullopt;
    const char next = peek();
    if (next == '.' || next == 'e' || next == 'E') return std::nullopt;
    return v;
  }

  // Skips any value without validating it (the DOM parse of the rest does that); strings are
  // followed exactly so that brackets inside them do not count.
  bool skip_value() {
    skip_ws();
    std::string scratch;
    if (peek() == '"') return string(scratch).has_value();
    if (peek() != '{' && peek() != '[') {
      const size_t begin = i_;
      while (!at_end() && std::strchr(",}] \t\r\n", peek()) == nullptr) ++i_;
      return i_ > begin;
    }
    int depth = 0;
    do {
      const char c = peek();
      if (c == '"') {
        if (!string(scratch)) return false;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') --depth;
      ++i_;
    } while (depth > 0 && !at_end());
    return depth == 0;
  }

 private:
  std::optional<std::string_view> escaped_string(size_t begin, std::string& scratch) {
    scratch.assign(s_.substr(begin, i_ - begin));
    while (i_ < s_.size()) {
      const auto c = static_cast<uint8_t>(s_[i_]);
      if (c == '"') {
        ++i_;
        return scratch;
      }
      if (c < 0x20) return std::nullopt;
      if (c >= 0x80) {
        const size_t len = utf8_sequence_length(s_, i_);
        if (len == 0) return std::nullopt;
        scratch.append(s_.substr(i_, len));
        i_ += len;
        continue;
      }
      if (c != '\\') {
        scratch += static_cast<char>(c);
        ++i_;
        continue;
      }
      if (++i_ >= s_.size()) return std::nullopt;
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          scratch += e;
          break;
        case 'b':
          scratch += '\b';
          break;
        case 'f':
          scratch += '\f';
          break;
        case 'n':
          scratch += '\n';
          break;
        case 'r':
          scratch += '\r';
          break;
        case 't':
          scratch += '\t';
          break;
        case 'u': {
          const auto cp = code_point_escape();
          if (!cp) return std::nullopt;
          utf8_append(scratch, *cp);
          break;
        }
        default:
          return std::nullopt;
      }
    }
    return std::nullopt;
  }

  std::optional<char32_t> hex4() {
    if (i_ + 4 > s_.size()) return std::nullopt;
    char32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9')
        v |= static_cast<char32_t>(h - '0');
      else if (h >= 'a' && h <= 'f')
        v |= static_cast<char32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        v |= static_cast<char32_t>(h - 'A' + 10);
      else
        return std::nullopt;
    }
    return v;
  }

  // After "\u": one code point; a high surrogate must be followed by "\u" and a low one.
  std::optional<char32_t> code_point_escape() {
    const auto hi = hex4();
    if (!hi || (*hi >= 0xDC00 && *hi <= 0xDFFF)) return std::nullopt;
    if (*hi < 0xD800 || *hi > 0xDBFF) return hi;
    if (i_ + 2 > s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u') return std::nullopt;
    i_ += 2;
    const auto lo = hex4();
    if (!lo || *lo < 0xDC00 || *lo > 0xDFFF) return std::nullopt;
    return 0x10000 + ((*hi - 0xD800) << 10) + (*lo - 0xDC00);
  }

  std::string_view s_;
  size_t i_ = 0;
};

// {"token": id, ...} into a Vocab (inserted in one batch: see Vocab::add_many).
std::optional<Vocab> scan_vocab(Scanner& in) {
  std::vector<std::pair<std::string_view, int32_t>> tokens;
  std::deque<std::string> unescaped;  // tokens written with escapes
  std::string scratch;
  if (!in.consume('{')) return std::nullopt;
  if (!in.consume('}')) {
    do {
      in.skip_ws();
      auto token = in.string(scratch);
      if (!token || !in.consume(':')) return std::nullopt;
      const auto id = in.small_uint(kMaxTokenId);
      if (!id) return std::nullopt;
      if (token->data() == scratch.data()) token = unescaped.emplace_back(*token);
      tokens.emplace_back(*token, static_cast<int32_t>(*id));
    } while (in.consume(','));
    if (!in.consume('}')) return std::nullopt;
  }
  Vocab vocab;
  vocab.add_many(tokens, "model.vocab");
  return vocab;
}

// ["a b", ...] or [["a", "b"], ...]; strings with escapes are kept in `unescaped`.
std::optional<std::vector<MergeText>> scan_merges(Scanner& in, std::deque<std::string>& unescaped) {
  std::vector<MergeText> merges;
  std::string scratch;
  const auto string = [&]() -> std::optional<std::string_view> {
    in.skip_ws();
    const auto s = in.string(scratch);
    if (!s || s->data() != scratch.data()) return s;
    return unescaped.emplace_back(*s);
  };
  if (!in.consume('[')) return std::nullopt;
  if (in.consume(']')) return merges;
  do {
    in.skip_ws();
    if (in.peek() == '[') {
      in.consume('[');
      const auto a = string();
      if (!a || !in.consume(',')) return std::nullopt;
      const auto b = string();
      if (!b || !in.consume(']')) return std::nullopt;
      merges.push_back({*a, *b});
    } else {
      const auto s = string();
      if (!s) return std::nullopt;
      const auto split = split_merge(*s);
      if (!split) return std::nullopt;
      merges.push_back(*split);
    }
  } while (in.consume(','));
  if (!in.consume(']')) return std::nullopt;
  return merges;
}

// Reads one "key": header; plain keys only (an escaped key could spell "model").
std::optional<std::string_view> key(Scanner& in) {
  std::string scratch;
  in.skip_ws();
  const auto k = in.string(scratch);
  if (!k || k->data() == scratch.data() || !in.consume(':')) return std::nullopt;
  in.skip_ws();
  return k;
}

struct Cut {
  size_t begin = 0, end = 0;
  const char* replacement = "";
};

// The "model" object: cuts its vocab (object form) and merges out.
bool scan_model(Scanner& in, SplicedJson& out, std::vector<Cut>& cuts) {
  if (!in.consume('{')) return false;
  if (in.consume('}')) return true;
  bool seen_vocab = false, seen_merges = false;
  do {
    const auto k = key(in);
    if (!k) return false;
    const size_t begin = in.pos();
    if (*k == "vocab" && in.peek() == '{') {
      if (seen_vocab) return false;
      seen_vocab = true;
      out.tables.vocab = scan_vocab(in);
      if (!out.tables.vocab) return false;
      cuts.push_back({begin, in.pos(), "{}"});
    } else if (*k == "merges" && in.peek() == '[') {
      if (seen_merges) return false;
      seen_merges = true;
      out.tables.merges = scan_merges(in, out.tables.unescaped);
      if (!out.tables.merges) return false;
      cuts.push_back({begin, in.pos(), "[]"});
    } else {
      if ((*k == "vocab" && std::exchange(seen_vocab, true)) ||
          (*k == "merges" && std::exchange(seen_merges, true)) || !in.skip_value())
        return false;
    }
  } while (in.consume(','));
  return in.consume('}');
}

}  // namespace

std::optional<SplicedJson> splice_model_tables(std::string_view json) {
  SplicedJson out;
  std::vector<Cut> cuts;
  Scanner in(json);
  if (json.starts_with("\xEF\xBB\xBF")) in.advance(3);  // nlohmann skips a UTF-8 BOM too
  if (!in.consume('{')) return std::nullopt;
  bool seen_model = false;
  if (!in.consume('}')) {
    do {
      const auto k = key(in);
      if (!k) return std::nullopt;
      if (*k == "model") {
        if (seen_model) return std::nullopt;
        seen_model = true;
        if (!scan_model(in, out, cuts)) return std::nullopt;
      } else if (!in.skip_value()) {
        return std::nullopt;
      }
    } while (in.consume(','));
    if (!in.consume('}')) return std::nullopt;
  }
  size_t kept = json.size();
  for (const Cut& c : cuts) kept -= c.end - c.begin;
  out.rest.reserve(kept + 4);
  size_t from = 0;
  for (const Cut& c : cuts) {
    out.rest.append(json.substr(from, c.begin - from));
    out.rest.append(c.replacement);
    from = c.end;
  }
  out.rest.append(json.substr(from));
  return out;
}

}  // namespace wick::tok
