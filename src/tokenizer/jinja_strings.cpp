// Python str operations for the Jinja engine: case mapping, strip, split, splitlines, replace.
#include "tokenizer/jinja_strings.h"

#include "tokenizer/jinja_value.h"

#include <utf8proc.h>

namespace wick::jinja {

namespace {

char32_t to_upper(char32_t c) {
  return static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c)));
}
char32_t to_lower(char32_t c) {
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
}
char32_t to_title(char32_t c) {
  return static_cast<char32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(c)));
}

bool is_cased(char32_t c) {
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT;
}

bool is_line_break(char32_t c) {
  return c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d || c == 0x1e ||
         c == 0x85 || c == 0x2028 || c == 0x2029;
}

}  // namespace

// Full case mappings (SpecialCasing.txt) where Python's result differs from the simple mapping:
// the ones that occur in ordinary text.
static const char* special_upper(char32_t c) {
  switch (c) {
    case 0xdf:
      return "SS";
    case 0xfb00:
      return "FF";
    case 0xfb01:
      return "FI";
    case 0xfb02:
      return "FL";
    case 0xfb03:
      return "FFI";
    case 0xfb04:
      return "FFL";
    case 0xfb05:
    case 0xfb06:
      return "ST";
    default:
      return nullptr;
  }
}

static const char* special_title(char32_t c) {
  switch (c) {
    case 0xdf:
      return "Ss";
    case 0xfb00:
      return "Ff";
    case 0xfb01:
      return "Fi";
    case 0xfb02:
      return "Fl";
    case 0xfb03:
      return "Ffi";
    case 0xfb04:
      return "Ffl";
    case 0xfb05:
    case 0xfb06:
      return "St";
    default:
      return nullptr;
  }
}

static void append_upper(std::string& out, char32_t c, bool title) {
  const char* special = title ? special_title(c) : special_upper(c);
  if (special)
    out += special;
  else
    utf8_append(out, title ? to_title(c) : to_upper(c));
}

std::string py_upper(const std::string& s) {
  std::string out;
  for (char32_t c : utf8_decode(s)) append_upper(out, c, false);
  return out;
}

std::string py_lower(const std::string& s) {
  std::u32string t = utf8_decode(s);
  for (auto& c : t) c = to_lower(c);
  return utf8_encode(t);
}

std::string py_capitalize(const std::string& s) {
  std::u32string t = utf8_decode(s);
  std::string out;
  for (size_t k = 0; k < t.size(); ++k) {
    if (k == 0)
      append_upper(out, t[k], true);
    else
      utf8_append(out, to_lower(t[k]));
  }
  return out;
}

std::string py_title(const std::string& s) {
  std::string out;
  bool prev_cased = false;
  for (char32_t c : utf8_decode(s)) {
    bool cased = is_cased(c);
    if (cased && !prev_cased)
      append_upper(out, c, true);
    else
      utf8_append(out, cased ? to_lower(c) : c);
    prev_cased = cased;
  }
  return out;
}

std::string py_strip(const std::string& s, const std::string* chars, bool left, bool right) {
  std::u32string t = utf8_decode(s);
  std::u32string set = chars ? utf8_decode(*chars) : std::u32string();
  auto strip_it = [&](char32_t c) {
    return chars ? set.find(c) != std::u32string::npos : is_py_space(c);
  };
  size_t b = 0, e = t.size();
  if (left)
    while (b < e && strip_it(t[b])) ++b;
  if (right)
    while (e > b && strip_it(t[e - 1])) --e;
  return utf8_encode(t.substr(b, e - b));
}

std::vector<std::string> py_split(const std::string& s, const std::string* sep, long maxsplit) {
  std::vector<std::string> out;
  if (sep != nullptr) {
    size_t pos = 0;
    while (maxsplit < 0 || static_cast<long>(out.size()) < maxsplit) {
      size_t k = s.find(*sep, pos);
      if (k == std::string::npos) break;
      out.push_back(s.substr(pos, k - pos));
      pos = k + sep->size();
    }
    out.push_back(s.substr(pos));
    return out;
  }
  std::u32string t = utf8_decode(s);
  size_t k = 0;
  while (k < t.size()) {
    while (k < t.size() && is_py_space(t[k])) ++k;
    if (k >= t.size()) break;
    if (maxsplit >= 0 && static_cast<long>(out.size()) >= maxsplit) {
      size_t e = t.size();
      while (e > k && is_py_space(t[e - 1])) --e;
      out.push_back(utf8_encode(t.substr(k, e - k)));
      break;
    }
    size_t b = k;
    while (k < t.size() && !is_py_space(t[k])) ++k;
    out.push_back(utf8_encode(t.substr(b, k - b)));
  }
  return out;
}

std::vector<std::string> py_splitlines(const std::string& s, bool keepends) {
  std::u32string t = utf8_decode(s);
  std::vector<std::string> out;
  size_t b = 0, k = 0;
  while (k < t.size()) {
    if (!is_line_break(t[k])) {
      ++k;
      continue;
    }
    size_t e = k;
    ++k;
    if (t[e] == '\r' && k < t.size() && t[k] == '\n') ++k;
    out.push_back(utf8_encode(t.substr(b, (keepends ? k : e) - b)));
    b = k;
  }
  if (b < t.size()) out.push_back(utf8_encode(t.substr(b)));
  return out;
}

std::string py_replace(const std::string& s, const std::string& old, const std::string& repl,
                       long count) {
  std::string out;
  if (old.empty()) {
    // Python inserts `repl` between every code point (and at both ends).
    std::u32string t = utf8_decode(s);
    long n = 0;
    for (size_t k = 0; k <= t.size(); ++k) {
      if (count < 0 || n < count) {
        out += repl;
        ++n;
      }
      if (k < t.size()) utf8_append(out, t[k]);
    }
    return out;
  }
  size_t pos = 0;
  long n = 0;
  while (count < 0 || n < count) {
    size_t k = s.find(old, pos);
    if (k == std::string::npos) break;
    out.append(s, pos, k - pos);
    out += repl;
    pos = k + old.size();
    ++n;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

}  // namespace wick::jinja
