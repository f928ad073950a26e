// Grammar IR and the GBNF parser (llama.cpp's grammar syntax). Every front end (JSON Schema,
// regex, choices) emits GBNF text and goes through parse_gbnf, so there is one IR and one set of
// checks. Repetition operators are rewritten into helper rules here; the matcher only ever sees
// rule references and character sets over Unicode code points.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wick::constrain {

// A set of code points: sorted, non-overlapping inclusive ranges, optionally negated.
struct CharSet {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  bool negated = false;
  uint64_t ascii[2] = {0, 0};  // membership of code points 0..127, precomputed by finalize()

  void finalize();  // sorts and merges ranges, fills ascii
  bool contains(uint32_t cp) const;
  // True when some code point in [lo, hi] is in the set (used to prune partial UTF-8).
  bool intersects(uint32_t lo, uint32_t hi) const;
  // True when every code point in [lo, hi] is in the set.
  bool covers(uint32_t lo, uint32_t hi) const;
};

// One element of a sequence: a character set to match, a rule to expand, or the end marker
// that closes every alternative in Grammar::elems.
struct Elem {
  enum Kind : uint8_t { kEnd, kChars, kRule };
  Kind kind = kEnd;
  uint32_t index = 0;  // into Grammar::charsets or Grammar::rules
};

struct Rule {
  std::string name;
  std::vector<uint32_t>
      alts;  // start offsets into Grammar::elems, each alternative kEnd-terminated
  uint32_t line = 0, column = 0;  // where it was defined (or the operator that generated it)
};

struct Grammar {
  std::vector<Rule> rules;
  std::vector<Elem> elems;
  std::vector<CharSet> charsets;
  uint32_t root = 0;
};

// Parses GBNF text: `name ::= alternatives` rules, "literals", [classes] with ranges and ^
// negation, `.`, groups, * + ? {m} {m,} {m,n}, # comments, escapes \xHH \uHHHH \UHHHHHHHH \t \n
// \r \\ and friends. Throws Error(kParse) "grammar:LINE:COL: message" for syntax errors, undefined
// rules, a missing `root`, an empty grammar and left recursion. `source` prefixes messages.
Grammar parse_gbnf(std::string_view text, std::string_view source = "grammar");

// Quotes `s` as a GBNF string literal (escaping quotes, backslashes and control bytes).
std::string gbnf_literal(std::string_view s);

}  // namespace wick::constrain
