// Regular expressions and fixed choices -> GBNF. The regex subset: literals and escapes,
// classes (ranges, negation, \d \w \s and their negations), '.', groups ((?:...) and named
// ones), alternation, * + ? {m} {m,} {m,n} (lazy forms match the same strings), ^ and $ at the
// ends. Backreferences, lookaround, \b and possessive quantifiers are rejected.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wick::constrain {

// `root ::= ...` matching exactly the strings of the regex (anchored at both ends).
std::string regex_to_gbnf(std::string_view pattern);

// A GBNF expression for the *content* of a JSON string (between the quotes) whose decoded
// value matches `pattern` with JSON Schema semantics (a search: unanchored ends may be padded
// with any characters). `json_char` names the rule for one JSON string character.
std::string regex_json_string_expr(std::string_view pattern, std::string_view json_char);

// `root ::= "a" | "b" | ...`; Error(kInvalidArgument) when the list is empty.
std::string choices_to_gbnf(const std::vector<std::string>& choices);

}  // namespace wick::constrain
