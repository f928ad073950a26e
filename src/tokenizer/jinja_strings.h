// Python str operations shared by the Jinja filters and string methods (code point based,
// Unicode case mapping via utf8proc's simple mappings).
#pragma once

#include <string>
#include <vector>

namespace wick::jinja {

std::string py_upper(const std::string& s);
std::string py_lower(const std::string& s);
std::string py_capitalize(const std::string& s);
std::string py_title(const std::string& s);  // str.title()
// str.strip/lstrip/rstrip; chars == nullptr strips whitespace.
std::string py_strip(const std::string& s, const std::string* chars, bool left, bool right);
// str.split(sep, maxsplit); sep == nullptr splits on whitespace runs.
std::vector<std::string> py_split(const std::string& s, const std::string* sep, long maxsplit);
std::vector<std::string> py_splitlines(const std::string& s, bool keepends = false);
std::string py_replace(const std::string& s, const std::string& old, const std::string& repl,
                       long count);

}  // namespace wick::jinja
