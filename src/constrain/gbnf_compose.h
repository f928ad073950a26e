// Joining separately made GBNF grammars: every rule of one grammar (definitions and references,
// `root` included) is renamed to a prefix + its name, so that several grammars (e.g. one per
// tool's parameters schema) can live in one text beside rules that refer to their roots.
#pragma once

#include <string>
#include <string_view>

namespace wick::constrain {

// `gbnf` must be GBNF text; literals, character classes, repetition counts and comments are
// copied unchanged. The prefix must itself be a valid start of a rule name (a letter first).
std::string gbnf_prefix_rules(std::string_view gbnf, std::string_view prefix);

}  // namespace wick::constrain
