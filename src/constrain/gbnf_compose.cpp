// GBNF rule renaming (see gbnf_compose.h): a small scanner that knows where names can occur.
#include "constrain/gbnf_compose.h"

#include <cctype>

namespace wick::constrain {

namespace {

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

// Copies s[i] up to and including the unescaped `close`; returns the index after it.
size_t copy_until(std::string_view s, size_t i, char close, std::string& out) {
  out += s[i++];
  while (i < s.size()) {
    const char c = s[i++];
    out += c;
    if (c == '\\' && i < s.size()) {
      out += s[i++];
    } else if (c == close) {
      break;
    }
  }
  return i;
}

}  // namespace

std::string gbnf_prefix_rules(std::string_view s, std::string_view prefix) {
  std::string out;
  out.reserve(s.size() * 5 / 4);
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') {
      i = copy_until(s, i, '"', out);
    } else if (c == '[') {
      i = copy_until(s, i, ']', out);
    } else if (c == '{') {
      i = copy_until(s, i, '}', out);
    } else if (c == '#') {
      while (i < s.size() && s[i] != '\n') out += s[i++];
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      const size_t start = i;
      while (i < s.size() && name_char(s[i])) ++i;
      out += prefix;
      out += s.substr(start, i - start);
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

}  // namespace wick::constrain
