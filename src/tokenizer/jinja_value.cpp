// Jinja values: construction, Python truthiness/equality/ordering, str()/repr(), json.dumps,
// conversion from nlohmann JSON and small UTF-8 helpers (strings are indexed by code point).
#include "tokenizer/jinja_value.h"

#include "core/error.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace wick::jinja {

Value Value::undefined(std::string hint) {
  Value v;
  v.s = std::move(hint);
  return v;
}
Value Value::none() {
  Value v;
  v.kind = Kind::kNone;
  return v;
}
Value Value::boolean(bool x) {
  Value v;
  v.kind = Kind::kBool;
  v.b = x;
  return v;
}
Value Value::integer(int64_t x) {
  Value v;
  v.kind = Kind::kInt;
  v.i = x;
  return v;
}
Value Value::number(double x) {
  Value v;
  v.kind = Kind::kFloat;
  v.f = x;
  return v;
}
Value Value::string(std::string x) {
  Value v;
  v.kind = Kind::kString;
  v.s = std::move(x);
  return v;
}
Value Value::new_list(std::vector<Value> items, bool tuple) {
  Value v;
  v.kind = Kind::kList;
  v.list = std::make_shared<ListData>();
  v.list->items = std::move(items);
  v.list->is_tuple = tuple;
  return v;
}
Value Value::new_dict() {
  Value v;
  v.kind = Kind::kDict;
  v.dict = std::make_shared<DictData>();
  return v;
}
Value Value::callable(std::string name, NativeFn fn) {
  Value v;
  v.kind = Kind::kCallable;
  v.fn = std::make_shared<Callable>(Callable{std::move(name), std::move(fn)});
  return v;
}

double Value::as_double() const {
  switch (kind) {
    case Kind::kBool:
      return b ? 1.0 : 0.0;
    case Kind::kInt:
      return static_cast<double>(i);
    case Kind::kFloat:
      return f;
    default:
      return 0.0;
  }
}

const char* Value::type_name() const {
  switch (kind) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return list->is_tuple ? "tuple" : "list";
    case Kind::kDict:
      return dict->tag == DictTag::kNamespace ? "Namespace"
             : dict->tag == DictTag::kLoop    ? "LoopContext"
                                              : "dict";
    case Kind::kCallable:
      return "function";
  }
  return "object";
}

const Value* DictData::find(const Value& key) const {
  for (const auto& [k, v] : items)
    if (equals(k, key)) return &v;
  return nullptr;
}

const Value* DictData::find(const std::string& key) const {
  for (const auto& [k, v] : items)
    if (k.kind == Kind::kString && k.s == key) return &v;
  return nullptr;
}

void DictData::set(const Value& key, Value value) {
  for (auto& [k, v] : items) {
    if (equals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  items.emplace_back(key, std::move(value));
}

Value CallArgs::get(size_t index, const char* name) const {
  if (name != nullptr) {
    for (const auto& [k, v] : keyword)
      if (k == name) return v;
  }
  if (index < positional.size()) return positional[index];
  return Value::undefined();
}

bool CallArgs::has(size_t index, const char* name) const {
  if (name != nullptr) {
    for (const auto& kv : keyword)
      if (kv.first == name) return true;
  }
  return index < positional.size();
}

bool truthy(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return v.b;
    case Kind::kInt:
      return v.i != 0;
    case Kind::kFloat:
      return v.f != 0.0;
    case Kind::kString:
      return !v.s.empty();
    case Kind::kList:
      return !v.list->items.empty();
    case Kind::kDict:
      return v.dict->tag != DictTag::kPlain || !v.dict->items.empty();
    case Kind::kCallable:
      return true;
  }
  return false;
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind != Kind::kFloat && b.kind != Kind::kFloat) {
      int64_t x = a.kind == Kind::kBool ? a.b : a.i;
      int64_t y = b.kind == Kind::kBool ? b.b : b.i;
      return x == y;
    }
    return a.as_double() == b.as_double();
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kUndefined:
    case Kind::kNone:
      return true;
    case Kind::kString:
      return a.s == b.s;
    case Kind::kList: {
      if (a.list == b.list) return true;
      if (a.list->is_tuple != b.list->is_tuple) return false;
      const auto& x = a.list->items;
      const auto& y = b.list->items;
      if (x.size() != y.size()) return false;
      for (size_t k = 0; k < x.size(); ++k)
        if (!equals(x[k], y[k])) return false;
      return true;
    }
    case Kind::kDict: {
      if (a.dict == b.dict) return true;
      if (a.dict->tag != DictTag::kPlain || b.dict->tag != DictTag::kPlain) return false;
      if (a.dict->items.size() != b.dict->items.size()) return false;
      for (const auto& [k, v] : a.dict->items) {
        const Value* other = b.dict->find(k);
        if (other == nullptr || !equals(v, *other)) return false;
      }
      return true;
    }
    case Kind::kCallable:
      return a.fn == b.fn;
    default:
      return false;
  }
}

int compare(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind != Kind::kFloat && b.kind != Kind::kFloat) {
      int64_t x = a.kind == Kind::kBool ? a.b : a.i;
      int64_t y = b.kind == Kind::kBool ? b.b : b.i;
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.kind == Kind::kString && b.kind == Kind::kString) {
    // UTF-8 byte order equals code point order.
    int c = a.s.compare(b.s);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.kind == Kind::kList && b.kind == Kind::kList) {
    const auto& x = a.list->items;
    const auto& y = b.list->items;
    for (size_t k = 0; k < x.size() && k < y.size(); ++k) {
      if (equals(x[k], y[k])) continue;
      return compare(x[k], y[k]);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  fail(ErrorKind::kInvalidArgument, "comparison not supported between instances of '{}' and '{}'",
       a.type_name(), b.type_name());
}

std::string float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0.0) return std::signbit(v) ? "-0.0" : "0.0";
  // Shortest round-trip digits, then Python's repr layout: fixed for 1e-4 <= |v| < 1e16.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t epos = sci.find('e');
  int exp = std::stoi(sci.substr(epos + 1));
  std::string digits;
  for (size_t k = 0; k < epos; ++k)
    if (sci[k] != '.') digits += sci[k];
  std::string out = neg ? "-" : "";
  int n = static_cast<int>(digits.size());
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    } else if (exp + 1 >= n) {
      out += digits + std::string(static_cast<size_t>(exp + 1 - n), '0') + ".0";
    } else {
      out += digits.substr(0, exp + 1) + "." + digits.substr(exp + 1);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (n > 1) out += "." + digits.substr(1);
  char ebuf[16];
  std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  return out + ebuf;
}

static std::string repr_string(const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t cp : utf8_decode(s)) {
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      utf8_append(out, cp);
    }
  }
  out += quote;
  return out;
}

static std::string repr_container(const Value& v) {
  std::string out;
  if (v.kind == Kind::kList) {
    const auto& items = v.list->items;
    out = v.list->is_tuple ? "(" : "[";
    for (size_t k = 0; k < items.size(); ++k) {
      if (k) out += ", ";
      out += repr(items[k]);
    }
    if (v.list->is_tuple && items.size() == 1) out += ",";
    out += v.list->is_tuple ? ")" : "]";
    return out;
  }
  out = "{";
  bool first = true;
  for (const auto& [k, val] : v.dict->items) {
    if (!first) out += ", ";
    first = false;
    out += repr(k) + ": " + repr(val);
  }
  return out + "}";
}

std::string repr(const Value& v) {
  switch (v.kind) {
    case Kind::kString:
      return repr_string(v.s);
    case Kind::kUndefined:
      return "Undefined";
    default:
      return to_str(v);
  }
}

std::string to_str(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
      return "";
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return v.b ? "True" : "False";
    case Kind::kInt:
      return std::to_string(v.i);
    case Kind::kFloat:
      return float_repr(v.f);
    case Kind::kString:
      return v.s;
    case Kind::kList:
      return repr_container(v);
    case Kind::kDict:
      if (v.dict->tag == DictTag::kNamespace) {
        Value plain = v;
        plain.dict = std::make_shared<DictData>(*v.dict);
        plain.dict->tag = DictTag::kPlain;
        return "<Namespace " + repr_container(plain) + ">";
      }
      if (v.dict->tag == DictTag::kLoop) {
        const Value* idx = v.dict->find("index");
        const Value* len = v.dict->find("length");
        return "<LoopContext " + (idx ? to_str(*idx) : "") + "/" + (len ? to_str(*len) : "") + ">";
      }
      return repr_container(v);
    case Kind::kCallable:
      return "<function " + v.fn->name + ">";
  }
  return "";
}

static void json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  for (char32_t cp : utf8_decode(s)) {
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default: {
        char buf[16];
        if (cp < 0x20 || (ensure_ascii && cp > 0x7e)) {
          if (cp > 0xffff) {
            char32_t c = cp - 0x10000;
            std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xd800 + (unsigned)(c >> 10),
                          0xdc00 + (unsigned)(c & 0x3ff));
          } else {
            std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(cp));
          }
          out += buf;
        } else {
          utf8_append(out, cp);
        }
      }
    }
  }
  out += '"';
}

static void json_dump_into(std::string& out, const Value& v, const JsonDumpOptions& opt,
                           int depth) {
  WICK_CHECK(depth < 256, ErrorKind::kInvalidArgument, "tojson: value nested too deeply");
  auto newline = [&](int level) {
    if (opt.indent_str.empty() && opt.indent < 0) return;
    out += '\n';
    for (int k = 0; k < level; ++k) out += opt.indent_str;
  };
  switch (v.kind) {
    case Kind::kNone:
      out += "null";
      return;
    case Kind::kBool:
      out += v.b ? "true" : "false";
      return;
    case Kind::kInt:
      out += std::to_string(v.i);
      return;
    case Kind::kFloat:
      if (std::isnan(v.f))
        out += "NaN";
      else if (std::isinf(v.f))
        out += v.f > 0 ? "Infinity" : "-Infinity";
      else
        out += float_repr(v.f);
      return;
    case Kind::kString:
      json_string(out, v.s, opt.ensure_ascii);
      return;
    case Kind::kList: {
      if (v.list->items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t k = 0; k < v.list->items.size(); ++k) {
        if (k) out += opt.item_sep;
        newline(depth + 1);
        json_dump_into(out, v.list->items[k], opt, depth + 1);
      }
      newline(depth);
      out += ']';
      return;
    }
    case Kind::kDict: {
      if (v.dict->items.empty()) {
        out += "{}";
        return;
      }
      std::vector<const std::pair<Value, Value>*> entries;
      for (const auto& kv : v.dict->items) entries.push_back(&kv);
      if (opt.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(),
                         [](auto* x, auto* y) { return compare(x->first, y->first) < 0; });
      }
      out += '{';
      for (size_t k = 0; k < entries.size(); ++k) {
        if (k) out += opt.item_sep;
        newline(depth + 1);
        const Value& key = entries[k]->first;
        if (key.kind == Kind::kString)
          json_string(out, key.s, opt.ensure_ascii);
        else if (key.kind == Kind::kNone)
          out += "\"null\"";
        else if (key.kind == Kind::kBool)
          out += key.b ? "\"true\"" : "\"false\"";
        else if (key.kind == Kind::kInt || key.kind == Kind::kFloat)
          out += '"' + to_str(key) + '"';
        else
          fail(ErrorKind::kInvalidArgument, "tojson: keys must be str, int, float, bool or None");
        out += opt.key_sep;
        json_dump_into(out, entries[k]->second, opt, depth + 1);
      }
      newline(depth);
      out += '}';
      return;
    }
    default:
      fail(ErrorKind::kInvalidArgument, "tojson: object of type {} is not JSON serializable",
           v.type_name());
  }
}

std::string json_dumps(const Value& v, const JsonDumpOptions& opt) {
  JsonDumpOptions o = opt;
  if (o.indent >= 0 && o.indent_str.empty()) o.indent_str = std::string(o.indent, ' ');
  bool pretty = o.indent >= 0 || !o.indent_str.empty();
  if (!o.custom_separators) {
    o.item_sep = pretty ? "," : ", ";
    o.key_sep = ": ";
  }
  std::string out;
  json_dump_into(out, v, o, 0);
  return out;
}

template <class J>
static Value from_json_impl(const J& j, int depth) {
  WICK_CHECK(depth < 512, ErrorKind::kInvalidArgument, "chat template input nested too deeply");
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return Value::none();
    case nlohmann::json::value_t::boolean:
      return Value::boolean(j.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value::integer(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      auto u = j.template get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::number(static_cast<double>(u));
      return Value::integer(static_cast<int64_t>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value::number(j.template get<double>());
    case nlohmann::json::value_t::string:
      return Value::string(j.template get<std::string>());
    case nlohmann::json::value_t::array: {
      Value v = Value::new_list();
      for (const auto& e : j) v.list->items.push_back(from_json_impl(e, depth + 1));
      return v;
    }
    case nlohmann::json::value_t::object: {
      Value v = Value::new_dict();
      for (auto it = j.begin(); it != j.end(); ++it)
        v.dict->items.emplace_back(Value::string(it.key()), from_json_impl(it.value(), depth + 1));
      return v;
    }
    default:
      return Value::undefined();
  }
}

Value from_json(const nlohmann::ordered_json& j) {
  return from_json_impl(j, 0);
}
Value from_json(const nlohmann::json& j) {
  return from_json_impl(j, 0);
}

std::u32string utf8_decode(const std::string& s) {
  // Invalid bytes decode to U+FFFD one byte at a time, so any input is accepted.
  std::u32string out;
  out.reserve(s.size());
  size_t k = 0;
  while (k < s.size()) {
    auto c = static_cast<unsigned char>(s[k]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    bool ok = len > 0 && k + len <= s.size();
    for (int m = 1; ok && m < len; ++m) {
      auto cc = static_cast<unsigned char>(s[k + m]);
      if ((cc & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (!ok) {
      out += U'\uFFFD';
      ++k;
      continue;
    }
    out += cp;
    k += len;
  }
  return out;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

std::string utf8_encode(const std::u32string& s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t cp : s) utf8_append(out, cp);
  return out;
}

bool is_py_space(char32_t cp) {
  // str.isspace(): the characters Python's str.strip()/split() and the \s regex remove.
  return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

}  // namespace wick::jinja
