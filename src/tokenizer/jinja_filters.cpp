// Jinja2 filters with jinja2 3.1's argument names and defaults, plus transformers' tojson
// (json.dumps with ensure_ascii=False). Filters that return generators in jinja2 (map, select,
// reverse, items) return lists here; they print differently only as raw generator objects.
#include "core/error.h"
#include "tokenizer/jinja_interp.h"
#include "tokenizer/jinja_strings.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace wick::jinja {

namespace {

using FilterFn = Value (*)(Interpreter&, const Value&, CallArgs&);

int64_t arg_int(Interpreter& in, const CallArgs& a, size_t i, const char* name, int64_t dflt) {
  Value v = a.get(i, name);
  if (v.is_undefined()) return dflt;
  if (!v.is_number()) in.runtime_error(std::string("argument '") + name + "' must be a number");
  return v.kind == Kind::kFloat ? static_cast<int64_t>(v.f) : (v.kind == Kind::kBool ? v.b : v.i);
}

bool arg_bool(const CallArgs& a, size_t i, const char* name, bool dflt) {
  Value v = a.get(i, name);
  return v.is_undefined() ? dflt : truthy(v);
}

Value str_value(Interpreter& in, std::string s) {
  in.check_size(s.size(), "string");
  return Value::string(std::move(s));
}

// jinja2's make_attrgetter: "a.b.0" looked up with getitem, part by part.
Value get_path(Interpreter& in, const Value& item, const std::string& path) {
  Value v = item;
  size_t pos = 0;
  while (true) {
    size_t dot = path.find('.', pos);
    std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    v = in.getitem(v, digits ? Value::integer(std::atoll(part.c_str())) : Value::string(part));
    if (dot == std::string::npos) return v;
    pos = dot + 1;
  }
}

// Sort key: lower-cased strings unless case sensitive.
Value sort_key(Interpreter& in, const Value& v, bool case_sensitive, const Value& attribute) {
  Value k =
      attribute.is_undefined() || attribute.is_none() ? v : get_path(in, v, to_str(attribute));
  if (!case_sensitive && k.is_string()) return Value::string(py_lower(k.s));
  return k;
}

Value f_length(Interpreter& in, const Value& v, CallArgs&) {
  switch (v.kind) {
    case Kind::kUndefined:
      return Value::integer(0);
    case Kind::kString:
      return Value::integer(static_cast<int64_t>(utf8_decode(v.s).size()));
    case Kind::kList:
      return Value::integer(static_cast<int64_t>(v.list->items.size()));
    case Kind::kDict:
      return Value::integer(static_cast<int64_t>(v.dict->items.size()));
    default:
      in.runtime_error(std::string("object of type '") + v.type_name() + "' has no len()");
  }
}

Value f_string(Interpreter& in, const Value& v, CallArgs&) {
  return str_value(in, to_str(v));
}

Value f_trim(Interpreter& in, const Value& v, CallArgs& a) {
  Value chars = a.get(0, "chars");
  std::string c = chars.is_string() ? chars.s : std::string();
  return Value::string(py_strip(to_str(v), chars.is_string() ? &c : nullptr, true, true));
}

Value f_upper(Interpreter&, const Value& v, CallArgs&) {
  return Value::string(py_upper(to_str(v)));
}
Value f_lower(Interpreter&, const Value& v, CallArgs&) {
  return Value::string(py_lower(to_str(v)));
}
Value f_capitalize(Interpreter&, const Value& v, CallArgs&) {
  return Value::string(py_capitalize(to_str(v)));
}

Value f_title(Interpreter&, const Value& v, CallArgs&) {
  // jinja2 splits on runs of [-\s({[<] and capitalizes each piece.
  std::u32string t = utf8_decode(to_str(v));
  std::string out, piece;
  auto is_sep = [](char32_t c) {
    return is_py_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
  };
  size_t k = 0;
  while (k < t.size()) {
    size_t b = k;
    bool sep = is_sep(t[k]);
    while (k < t.size() && is_sep(t[k]) == sep) ++k;
    std::string part = utf8_encode(t.substr(b, k - b));
    if (sep) {
      out += part;
    } else {
      std::u32string p = t.substr(b, k - b);
      out += py_upper(utf8_encode(p.substr(0, 1))) + py_lower(utf8_encode(p.substr(1)));
    }
  }
  return Value::string(out);
}

Value f_replace(Interpreter& in, const Value& v, CallArgs& a) {
  Value count = a.get(2, "count");
  long n = count.is_undefined() || count.is_none()
               ? -1
               : static_cast<long>(arg_int(in, a, 2, "count", -1));
  std::string s = to_str(v), old = to_str(a.get(0, "old")), repl = to_str(a.get(1, "new"));
  if (!old.empty() && !repl.empty()) {
    size_t hits = 0;
    for (size_t p = s.find(old); p != std::string::npos; p = s.find(old, p + old.size())) ++hits;
    in.check_size(s.size() + hits * repl.size(), "string");
  }
  return str_value(in, py_replace(s, old, repl, n));
}

Value f_join(Interpreter& in, const Value& v, CallArgs& a) {
  std::string sep = a.has(0, "d") ? to_str(a.get(0, "d")) : std::string();
  Value attribute = a.get(1, "attribute");
  std::string out;
  bool first = true;
  for (const Value& item : in.iterate(v)) {
    if (!first) out += sep;
    first = false;
    out += to_str(attribute.is_undefined() ? item : get_path(in, item, to_str(attribute)));
    in.check_size(out.size(), "string");
  }
  return Value::string(std::move(out));
}

Value f_first(Interpreter& in, const Value& v, CallArgs&) {
  std::vector<Value> items = in.iterate(v);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Value f_last(Interpreter& in, const Value& v, CallArgs&) {
  std::vector<Value> items = in.iterate(v);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Value f_list(Interpreter& in, const Value& v, CallArgs&) {
  return Value::new_list(in.iterate(v));
}

Value f_default(Interpreter&, const Value& v, CallArgs& a) {
  bool boolean = arg_bool(a, 1, "boolean", false);
  if (v.is_undefined() || (boolean && !truthy(v))) {
    Value d = a.get(0, "default_value");
    return d.is_undefined() ? Value::string("") : d;
  }
  return v;
}

Value f_tojson(Interpreter& in, const Value& v, CallArgs& a) {
  // transformers: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
  JsonDumpOptions opt;
  opt.ensure_ascii = arg_bool(a, 0, "ensure_ascii", false);
  Value indent = a.get(1, "indent");
  if (indent.is_string())
    opt.indent_str = indent.s, opt.indent = 0;
  else if (indent.is_number())
    opt.indent = static_cast<int>(std::max<int64_t>(0, arg_int(in, a, 1, "indent", 0)));
  if (opt.indent > 1000) in.runtime_error("tojson: indent too large");
  Value seps = a.get(2, "separators");
  if (seps.is_list() && seps.list->items.size() == 2) {
    opt.custom_separators = true;
    opt.item_sep = to_str(seps.list->items[0]);
    opt.key_sep = to_str(seps.list->items[1]);
  } else if (!seps.is_undefined() && !seps.is_none()) {
    in.runtime_error("tojson: separators must be a pair of strings");
  }
  opt.sort_keys = arg_bool(a, 3, "sort_keys", false);
  if (v.is_undefined()) in.runtime_error("Object of type Undefined is not JSON serializable");
  std::string out;
  try {
    out = json_dumps(v, opt);
  } catch (const Error& e) {
    in.runtime_error(e.what());
  }
  return str_value(in, std::move(out));
}

Value f_int(Interpreter& in, const Value& v, CallArgs& a) {
  int64_t dflt = arg_int(in, a, 0, "default", 0);
  int64_t base = arg_int(in, a, 1, "base", 10);
  if (v.kind == Kind::kInt || v.kind == Kind::kBool)
    return Value::integer(v.kind == Kind::kBool ? v.b : v.i);
  if (v.kind == Kind::kFloat) {
    if (!std::isfinite(v.f) || std::fabs(v.f) > 9.2e18) return Value::integer(dflt);
    return Value::integer(static_cast<int64_t>(v.f));
  }
  if (v.is_string()) {
    std::string s = py_strip(v.s, nullptr, true, true);
    std::string digits;
    for (char c : s)
      if (c != '_') digits += c;
    char* end = nullptr;
    errno = 0;
    long long x =
        std::strtoll(digits.c_str(), &end, static_cast<int>(base >= 2 && base <= 36 ? base : 10));
    if (!digits.empty() && end && *end == '\0' && errno == 0) return Value::integer(x);
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0' && std::isfinite(d) && std::fabs(d) < 9.2e18)
      return Value::integer(static_cast<int64_t>(d));
  }
  return Value::integer(dflt);
}

Value f_float(Interpreter& in, const Value& v, CallArgs& a) {
  Value dflt = a.get(0, "default");
  double d0 = dflt.is_number() ? dflt.as_double() : 0.0;
  if (v.is_number()) return Value::number(v.as_double());
  if (v.is_string()) {
    std::string s = py_strip(v.s, nullptr, true, true);
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0') return Value::number(d);
  }
  return Value::number(d0);
}

Value f_abs(Interpreter& in, const Value& v, CallArgs&) {
  if (v.kind == Kind::kFloat) return Value::number(std::fabs(v.f));
  if (v.kind == Kind::kInt) {
    if (v.i == INT64_MIN) in.runtime_error("integer overflow");
    return Value::integer(v.i < 0 ? -v.i : v.i);
  }
  if (v.kind == Kind::kBool) return Value::integer(v.b);
  in.runtime_error(std::string("bad operand type for abs(): '") + v.type_name() + "'");
}

Value f_round(Interpreter& in, const Value& v, CallArgs& a) {
  int64_t precision = arg_int(in, a, 0, "precision", 0);
  std::string method = a.has(1, "method") ? to_str(a.get(1, "method")) : "common";
  if (!v.is_number())
    in.runtime_error(std::string("type ") + v.type_name() + " doesn't define __round__ method");
  if (method != "common" && method != "ceil" && method != "floor")
    in.runtime_error("method must be common, ceil or floor");
  if (method == "common" && v.kind != Kind::kFloat)
    return Value::integer(v.kind == Kind::kBool ? v.b : v.i);
  double x = v.as_double();
  if (precision < -300 || precision > 300) in.runtime_error("round: precision out of range");
  if (method != "common") {
    double scale = std::pow(10.0, static_cast<double>(precision));
    return Value::number((method == "ceil" ? std::ceil(x * scale) : std::floor(x * scale)) / scale);
  }
  if (!std::isfinite(x) || precision < 0) {
    double scale = std::pow(10.0, static_cast<double>(-precision));
    return Value::number(std::isfinite(x) ? std::nearbyint(x / scale) * scale : x);
  }
  // Python rounds the exact binary value half-to-even; printf does the same.
  char buf[512];
  std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(std::min<int64_t>(precision, 300)), x);
  return Value::number(std::strtod(buf, nullptr));
}

Value f_indent(Interpreter& in, const Value& v, CallArgs& a) {
  Value width = a.get(0, "width");
  std::string ind = width.is_string() ? width.s
                                      : std::string(static_cast<size_t>(std::clamp<int64_t>(
                                                        arg_int(in, a, 0, "width", 4), 0, 1000)),
                                                    ' ');
  bool first = arg_bool(a, 1, "first", false), blank = arg_bool(a, 2, "blank", false);
  std::vector<std::string> lines = py_splitlines(to_str(v) + "\n");
  std::string out;
  for (size_t k = 0; k < lines.size(); ++k) {
    if (k > 0) {
      out += "\n";
      if (blank || !lines[k].empty()) out += ind;
    }
    out += lines[k];
    in.check_size(out.size(), "string");
  }
  if (first) out = ind + out;
  return Value::string(std::move(out));
}

Value f_items(Interpreter& in, const Value& v, CallArgs&) {
  if (v.is_undefined()) return Value::new_list();
  if (!v.is_dict() || v.dict->tag != DictTag::kPlain)
    in.runtime_error("Can only get item pairs from a mapping.");
  Value out = Value::new_list();
  for (const auto& [k, x] : v.dict->items) out.list->items.push_back(Value::new_list({k, x}, true));
  return out;
}

Value f_dictsort(Interpreter& in, const Value& v, CallArgs& a) {
  bool case_sensitive = arg_bool(a, 0, "case_sensitive", false);
  std::string by = a.has(1, "by") ? to_str(a.get(1, "by")) : "key";
  bool reverse = arg_bool(a, 2, "reverse", false);
  Value items = f_items(in, v, a);
  size_t pos = by == "value" ? 1 : 0;
  if (by != "key" && by != "value")
    in.runtime_error("You can only sort by either \"key\" or \"value\"");
  auto& list = items.list->items;
  std::stable_sort(list.begin(), list.end(), [&](const Value& x, const Value& y) {
    int c = compare(sort_key(in, x.list->items[pos], case_sensitive, Value()),
                    sort_key(in, y.list->items[pos], case_sensitive, Value()));
    return reverse ? c > 0 : c < 0;
  });
  return items;
}

// select / reject / selectattr / rejectattr share this.
Value select_impl(Interpreter& in, const Value& v, CallArgs& a, bool with_attr, bool keep_if) {
  size_t first = with_attr ? 1 : 0;
  std::string attr = with_attr ? to_str(a.get(0, nullptr)) : std::string();
  std::string test = a.positional.size() > first ? to_str(a.positional[first]) : std::string();
  CallArgs targs;
  for (size_t k = first + 1; k < a.positional.size(); ++k)
    targs.positional.push_back(a.positional[k]);
  targs.keyword = a.keyword;
  Value out = Value::new_list();
  for (const Value& item : in.iterate(v)) {
    Value x = with_attr ? get_path(in, item, attr) : item;
    bool ok = test.empty() ? truthy(x) : in.test(test, x, targs);
    if (ok == keep_if) out.list->items.push_back(item);
  }
  return out;
}

Value f_select(Interpreter& in, const Value& v, CallArgs& a) {
  return select_impl(in, v, a, false, true);
}
Value f_reject(Interpreter& in, const Value& v, CallArgs& a) {
  return select_impl(in, v, a, false, false);
}
Value f_selectattr(Interpreter& in, const Value& v, CallArgs& a) {
  return select_impl(in, v, a, true, true);
}
Value f_rejectattr(Interpreter& in, const Value& v, CallArgs& a) {
  return select_impl(in, v, a, true, false);
}

Value f_map(Interpreter& in, const Value& v, CallArgs& a) {
  Value out = Value::new_list();
  Value attribute = a.get(SIZE_MAX, "attribute");
  if (!attribute.is_undefined()) {
    Value dflt = a.get(SIZE_MAX, "default");
    for (const Value& item : in.iterate(v)) {
      Value x = get_path(in, item, to_str(attribute));
      out.list->items.push_back(x.is_undefined() && !dflt.is_undefined() ? dflt : x);
    }
    return out;
  }
  if (a.positional.empty()) in.runtime_error("map requires a filter argument");
  std::string name = to_str(a.positional[0]);
  CallArgs fargs;
  fargs.positional.assign(a.positional.begin() + 1, a.positional.end());
  fargs.keyword = a.keyword;
  for (const Value& item : in.iterate(v)) {
    CallArgs copy = fargs;
    out.list->items.push_back(in.filter(name, item, copy));
  }
  return out;
}

Value f_unique(Interpreter& in, const Value& v, CallArgs& a) {
  bool case_sensitive = arg_bool(a, 0, "case_sensitive", false);
  Value attribute = a.get(1, "attribute");
  Value out = Value::new_list();
  std::vector<Value> seen;
  for (const Value& item : in.iterate(v)) {
    Value key = sort_key(in, item, case_sensitive, attribute);
    bool dup = false;
    for (const Value& s : seen) dup = dup || equals(s, key);
    if (dup) continue;
    in.step();
    seen.push_back(key);
    out.list->items.push_back(item);
  }
  return out;
}

Value f_reverse(Interpreter& in, const Value& v, CallArgs&) {
  if (v.is_string()) {
    std::u32string t = utf8_decode(v.s);
    std::reverse(t.begin(), t.end());
    return Value::string(utf8_encode(t));
  }
  std::vector<Value> items = in.iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::new_list(std::move(items));
}

Value f_sort(Interpreter& in, const Value& v, CallArgs& a) {
  bool reverse = arg_bool(a, 0, "reverse", false);
  bool case_sensitive = arg_bool(a, 1, "case_sensitive", false);
  Value attribute = a.get(2, "attribute");
  std::vector<Value> items = in.iterate(v);
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& item : items)
    keyed.emplace_back(sort_key(in, item, case_sensitive, attribute), item);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    int c = compare(x.first, y.first);
    return reverse ? c > 0 : c < 0;
  });
  Value out = Value::new_list();
  for (auto& kv : keyed) out.list->items.push_back(std::move(kv.second));
  return out;
}

Value f_batch(Interpreter& in, const Value& v, CallArgs& a) {
  int64_t n = arg_int(in, a, 0, "linecount", 1);
  if (n <= 0) in.runtime_error("batch: linecount must be positive");
  Value fill = a.get(1, "fill_with");
  Value out = Value::new_list();
  Value cur = Value::new_list();
  for (const Value& item : in.iterate(v)) {
    cur.list->items.push_back(item);
    if (static_cast<int64_t>(cur.list->items.size()) == n) {
      out.list->items.push_back(cur);
      cur = Value::new_list();
    }
  }
  if (!cur.list->items.empty()) {
    if (!fill.is_undefined() && !fill.is_none())
      while (static_cast<int64_t>(cur.list->items.size()) < n) cur.list->items.push_back(fill);
    out.list->items.push_back(cur);
  }
  return out;
}

Value f_safe(Interpreter&, const Value& v, CallArgs&) {
  return v;
}

Value f_escape(Interpreter& in, const Value& v, CallArgs&) {
  std::string out;
  for (char c : to_str(v)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return str_value(in, std::move(out));
}

Value f_sum(Interpreter& in, const Value& v, CallArgs& a) {
  Value attribute = a.get(0, "attribute");
  Value total = a.has(1, "start") ? a.get(1, "start") : Value::integer(0);
  for (const Value& item : in.iterate(v)) {
    Value x = attribute.is_undefined() ? item : get_path(in, item, to_str(attribute));
    total = in.eval_binary("+", total, x);
  }
  return total;
}

Value min_max(Interpreter& in, const Value& v, CallArgs& a, bool want_max) {
  bool case_sensitive = arg_bool(a, 0, "case_sensitive", false);
  Value attribute = a.get(1, "attribute");
  std::vector<Value> items = in.iterate(v);
  if (items.empty())
    return Value::undefined(std::string("No aggregated item, sequence was empty."));
  size_t best = 0;
  for (size_t k = 1; k < items.size(); ++k) {
    int c = compare(sort_key(in, items[k], case_sensitive, attribute),
                    sort_key(in, items[best], case_sensitive, attribute));
    if (want_max ? c > 0 : c < 0) best = k;
  }
  return items[best];
}

Value f_min(Interpreter& in, const Value& v, CallArgs& a) {
  return min_max(in, v, a, false);
}
Value f_max(Interpreter& in, const Value& v, CallArgs& a) {
  return min_max(in, v, a, true);
}

Value f_wordcount(Interpreter&, const Value& v, CallArgs&) {
  return Value::integer(static_cast<int64_t>(py_split(to_str(v), nullptr, -1).size()));
}

Value f_center(Interpreter& in, const Value& v, CallArgs& a) {
  std::string s = to_str(v);
  int64_t width = std::min<int64_t>(arg_int(in, a, 0, "width", 80), 100000);
  int64_t len = static_cast<int64_t>(utf8_decode(s).size());
  if (width <= len) return Value::string(s);
  int64_t pad = width - len;
  int64_t left = pad / 2 + (pad & width & 1);  // CPython's str.center split
  return Value::string(std::string(static_cast<size_t>(left), ' ') + s +
                       std::string(static_cast<size_t>(pad - left), ' '));
}

Value f_attr(Interpreter& in, const Value& v, CallArgs& a) {
  // Python getattr only: a dict's keys are not attributes.
  std::string name = to_str(a.get(0, "name"));
  if (v.is_dict() && v.dict->tag == DictTag::kPlain) return builtin_method(in, v, name);
  return in.getattr(v, name);
}

const std::map<std::string, FilterFn>& filter_table() {
  static const std::map<std::string, FilterFn> table = {
      {"abs", f_abs},
      {"attr", f_attr},
      {"batch", f_batch},
      {"capitalize", f_capitalize},
      {"center", f_center},
      {"count", f_length},
      {"d", f_default},
      {"default", f_default},
      {"dictsort", f_dictsort},
      {"e", f_escape},
      {"escape", f_escape},
      {"first", f_first},
      {"float", f_float},
      {"forceescape", f_escape},
      {"indent", f_indent},
      {"int", f_int},
      {"items", f_items},
      {"join", f_join},
      {"last", f_last},
      {"length", f_length},
      {"list", f_list},
      {"lower", f_lower},
      {"map", f_map},
      {"max", f_max},
      {"min", f_min},
      {"reject", f_reject},
      {"rejectattr", f_rejectattr},
      {"replace", f_replace},
      {"reverse", f_reverse},
      {"round", f_round},
      {"safe", f_safe},
      {"select", f_select},
      {"selectattr", f_selectattr},
      {"sort", f_sort},
      {"string", f_string},
      {"sum", f_sum},
      {"title", f_title},
      {"tojson", f_tojson},
      {"trim", f_trim},
      {"unique", f_unique},
      {"upper", f_upper},
      {"wordcount", f_wordcount},
  };
  return table;
}

}  // namespace

bool has_builtin_filter(const std::string& name) {
  return filter_table().count(name) > 0;
}

Value builtin_filter(Interpreter& in, const std::string& name, const Value& input, CallArgs& args) {
  auto it = filter_table().find(name);
  if (it == filter_table().end()) in.runtime_error("no filter named '" + name + "'");
  return it->second(in, input, args);
}

}  // namespace wick::jinja
