// Pre-tokenizer implementations and their construction from tokenizer.json.
#include "tokenizer/pre_tokenizer.h"

#include <utf8proc.h>

#include <algorithm>

#include "tokenizer/normalizer.h"
#include "tokenizer/utf8.h"

namespace wick::tok {

void split_piece(const Piece& piece, const std::vector<Match>& matches, SplitBehavior behavior,
                 bool invert, std::vector<Piece>& out) {
  // Cover the text with alternating (span, is_delimiter) runs.
  struct Run {
    size_t begin, end;
    bool delim;
  };
  std::vector<Run> runs;
  const std::string& s = piece.text;
  size_t prev = 0;
  for (const Match& m : matches) {
    if (m.begin > prev) runs.push_back({prev, m.begin, invert});
    runs.push_back({m.begin, m.end, !invert});
    prev = m.end;
  }
  if (prev < s.size()) runs.push_back({prev, s.size(), invert});

  std::vector<Run> kept;
  bool previous_delim = false;
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const Run& r : runs)
        if (!r.delim) kept.push_back(r);
      break;
    case SplitBehavior::kIsolated:
      kept = runs;
      break;
    case SplitBehavior::kContiguous:
      for (const Run& r : runs) {
        if (!kept.empty() && r.delim == previous_delim) {
          kept.back().end = r.end;
        } else {
          kept.push_back(r);
        }
        previous_delim = r.delim;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Run& r : runs) {
        if (r.delim && !previous_delim && !kept.empty()) {
          kept.back().end = r.end;
        } else {
          kept.push_back(r);
        }
        previous_delim = r.delim;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (size_t k = runs.size(); k-- > 0;) {
        const Run& r = runs[k];
        if (r.delim && !previous_delim && !kept.empty()) {
          kept.back().begin = r.begin;
        } else {
          kept.push_back(r);
        }
        previous_delim = r.delim;
      }
      std::reverse(kept.begin(), kept.end());
      break;
  }
  for (const Run& r : kept) {
    if (r.end > r.begin)
      out.push_back({s.substr(r.begin, r.end - r.begin), piece.at_start && r.begin == 0});
  }
}

namespace {

// Applies a per-piece splitting function to every piece.
template <class F>
void for_each_piece(std::vector<Piece>& pieces, F&& split) {
  std::vector<Piece> out;
  out.reserve(pieces.size() * 2);
  for (const Piece& p : pieces) split(p, out);
  pieces = std::move(out);
}

class PatternSplit : public PreTokenizer {
 public:
  PatternSplit(Pattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for_each_piece(pieces, [&](const Piece& p, std::vector<Piece>& out) {
      split_piece(p, pattern_.find_all(p.text), behavior_, invert_, out);
    });
  }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

// GPT-2's pattern, used by ByteLevel when use_regex is set.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// HF's Whitespace is \w+|[^\w\s]+ in Rust's regex crate, whose \w (UTS #18: alphabetic, marks,
// decimal digits, connector punctuation, joiners) differs from Oniguruma's: spelled out.
#define WICK_RUST_WORD \
  R"(\p{L}\p{Nl}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D}\x{24B6}-\x{24E9}\x{1F130}-\x{1F149}\x{1F150}-\x{1F169}\x{1F170}-\x{1F189})"
constexpr const char* kRustWordsOrSymbols = "[" WICK_RUST_WORD "]+|[^" WICK_RUST_WORD R"(\s]+)";
#undef WICK_RUST_WORD

class ByteLevel : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), gpt2_(kGpt2Pattern, true), use_regex_(use_regex) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    const ByteLevelTable& table = byte_level_table();
    for_each_piece(pieces, [&](const Piece& p, std::vector<Piece>& out) {
      Piece prefixed{add_prefix_space_ && !p.text.starts_with(' ')
                         ? std::string(1, ' ').append(p.text)
                         : p.text,
                     p.at_start};
      const size_t first = out.size();
      if (use_regex_) {
        split_piece(prefixed, gpt2_.find_all(prefixed.text), SplitBehavior::kIsolated, false, out);
      } else if (!prefixed.text.empty()) {
        out.push_back(std::move(prefixed));
      }
      for (size_t k = first; k < out.size(); ++k) {  // map every byte to its stand-in character
        std::string mapped;
        mapped.reserve(out[k].text.size() * 2);
        for (const char c : out[k].text) mapped += table.byte_to_utf8[static_cast<uint8_t>(c)];
        out[k].text = std::move(mapped);
      }
    });
  }

 private:
  bool add_prefix_space_;
  Pattern gpt2_;
  bool use_regex_;
};

enum class PrependScheme { kAlways, kFirst, kNever };

class Metaspace : public PreTokenizer {
 public:
  Metaspace(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split), space_(" ", false) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    const Pattern replacement_pattern(replacement_, false);
    for_each_piece(pieces, [&](const Piece& p, std::vector<Piece>& out) {
      Piece q{space_.replace_all(p.text, replacement_), p.at_start};
      const bool prepend =
          scheme_ == PrependScheme::kAlways || (scheme_ == PrependScheme::kFirst && p.at_start);
      if (prepend && !q.text.starts_with(replacement_)) q.text = replacement_ + q.text;
      if (split_) {
        split_piece(q, replacement_pattern.find_all(q.text), SplitBehavior::kMergedWithNext, false,
                    out);
      } else if (!q.text.empty()) {
        out.push_back(std::move(q));
      }
    });
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
  Pattern space_;
};

// Splits on characters chosen by a predicate (whitespace, punctuation, digits).
template <class IsDelim>
void split_on_chars(const Piece& p, IsDelim&& is_delim, SplitBehavior behavior,
                    std::vector<Piece>& out, bool individual) {
  std::vector<Match> matches;
  size_t i = 0;
  while (i < p.text.size()) {
    const size_t begin = i;
    const char32_t cp = utf8_next(p.text, i);
    if (!is_delim(cp)) continue;
    if (!individual && !matches.empty() && matches.back().end == begin) {
      matches.back().end = i;
    } else {
      matches.push_back({begin, i});
    }
  }
  split_piece(p, matches, behavior, false, out);
}

bool is_punctuation(char32_t cp) {
  if (cp < 0x80)
    return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
           (cp >= 123 && cp <= 126);
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

class CharSplit : public PreTokenizer {
 public:
  enum class Kind { kWhitespace, kPunctuation, kDigits, kBert, kDelimiter };
  CharSplit(Kind kind, SplitBehavior behavior, bool individual, char32_t delimiter = 0)
      : kind_(kind), behavior_(behavior), individual_(individual), delimiter_(delimiter) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    const auto space = [](char32_t c) { return is_unicode_whitespace(c); };
    const auto digit = [](char32_t c) {
      return utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_ND;
    };
    const auto delim = [this](char32_t c) { return c == delimiter_; };
    for_each_piece(pieces, [&](const Piece& p, std::vector<Piece>& out) {
      switch (kind_) {
        case Kind::kWhitespace:
          split_on_chars(p, space, SplitBehavior::kRemoved, out, false);
          break;
        case Kind::kPunctuation:
          split_on_chars(p, is_punctuation, behavior_, out, true);
          break;
        case Kind::kDigits:
          split_on_chars(p, digit, SplitBehavior::kIsolated, out, individual_);
          break;
        case Kind::kDelimiter:
          split_on_chars(p, delim, SplitBehavior::kRemoved, out, true);
          break;
        case Kind::kBert: {
          std::vector<Piece> words;
          split_on_chars(p, space, SplitBehavior::kRemoved, words, false);
          for (const Piece& w : words)
            split_on_chars(w, is_punctuation, SplitBehavior::kIsolated, out, true);
          break;
        }
      }
    });
  }

 private:
  Kind kind_;
  SplitBehavior behavior_;
  bool individual_;
  char32_t delimiter_;
};

class Sequence : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for (const auto& step : steps_) step->pre_tokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

SplitBehavior parse_behavior(const Json& j, std::string_view where, SplitBehavior fallback) {
  const std::string name = json_string_or(j, "behavior", "", where);
  if (name.empty()) return fallback;
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  fail(ErrorKind::kParse, "tokenizer.json: {}.behavior '{}' is unknown", where, name);
}

std::unique_ptr<PreTokenizer> make_metaspace(const Json& j, std::string_view where) {
  const std::string replacement = json_string_or(j, "replacement", "\xE2\x96\x81", where);
  if (replacement.empty() || utf8_sequence_length(replacement, 0) != replacement.size())
    fail(ErrorKind::kParse, "tokenizer.json: {}.replacement must be one character", where);
  PrependScheme scheme = json_bool_or(j, "add_prefix_space", true, where) ? PrependScheme::kAlways
                                                                          : PrependScheme::kNever;
  const std::string name = json_string_or(j, "prepend_scheme", "", where);
  if (name == "always")
    scheme = PrependScheme::kAlways;
  else if (name == "first")
    scheme = PrependScheme::kFirst;
  else if (name == "never")
    scheme = PrependScheme::kNever;
  else if (!name.empty())
    fail(ErrorKind::kParse, "tokenizer.json: {}.prepend_scheme '{}' is unknown", where, name);
  return std::make_unique<Metaspace>(replacement, scheme, json_bool_or(j, "split", true, where));
}

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& j, std::string_view where) {
  if (j.is_null()) return nullptr;
  const std::string type = json_string(j, "type", where);
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    const Json& list = json_array(j, "pretokenizers", where);
    for (size_t i = 0; i < list.size(); ++i) {
      auto step = make_pre_tokenizer(list[i], fmt::format("{}.pretokenizers[{}]", where, i));
      if (step) steps.push_back(std::move(step));
    }
    return std::make_unique<Sequence>(std::move(steps));
  }
  if (type == "Split") {
    const JsonPattern p = json_pattern(j, where);
    return std::make_unique<PatternSplit>(Pattern(p.text, p.is_regex),
                                          parse_behavior(j, where, SplitBehavior::kIsolated),
                                          json_bool_or(j, "invert", false, where));
  }
  if (type == "ByteLevel")
    return std::make_unique<ByteLevel>(json_bool_or(j, "add_prefix_space", true, where),
                                       json_bool_or(j, "use_regex", true, where));
  if (type == "Metaspace") return make_metaspace(j, where);
  if (type == "Whitespace")
    return std::make_unique<PatternSplit>(Pattern(kRustWordsOrSymbols, true),
                                          SplitBehavior::kRemoved, true);
  using Kind = CharSplit::Kind;
  if (type == "WhitespaceSplit")
    return std::make_unique<CharSplit>(Kind::kWhitespace, SplitBehavior::kRemoved, false);
  if (type == "Punctuation")
    return std::make_unique<CharSplit>(Kind::kPunctuation,
                                       parse_behavior(j, where, SplitBehavior::kIsolated), true);
  if (type == "Digits")
    return std::make_unique<CharSplit>(Kind::kDigits, SplitBehavior::kIsolated,
                                       json_bool_or(j, "individual_digits", false, where));
  if (type == "BertPreTokenizer")
    return std::make_unique<CharSplit>(Kind::kBert, SplitBehavior::kRemoved, false);
  if (type == "CharDelimiterSplit") {
    const std::string d = json_string(j, "delimiter", where);
    if (d.empty() || utf8_sequence_length(d, 0) != d.size())
      fail(ErrorKind::kParse, "tokenizer.json: {}.delimiter must be one character", where);
    size_t i = 0;
    return std::make_unique<CharSplit>(Kind::kDelimiter, SplitBehavior::kRemoved, true,
                                       utf8_next(d, i));
  }
  fail(ErrorKind::kUnsupported, "tokenizer.json: {}: pre_tokenizer type '{}' is not supported",
       where, type);
}

}  // namespace wick::tok
