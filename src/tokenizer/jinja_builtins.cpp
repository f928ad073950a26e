// Jinja2 tests (`is defined`, ...), the Python methods templates call on str/dict/list values,
// and the globals transformers installs: range, namespace, dict, raise_exception, strftime_now.
// Mutating methods (list.append, dict.pop, ...) are refused as ImmutableSandboxedEnvironment does.
#include "core/error.h"
#include "tokenizer/jinja_interp.h"
#include "tokenizer/jinja_strings.h"

#include <ctime>
#include <map>

namespace wick::jinja {

namespace {

using TestFn = bool (*)(Interpreter&, const Value&, CallArgs&);

const Value& arg0(Interpreter& in, const CallArgs& a, const char* test) {
  if (a.positional.empty()) in.runtime_error(std::string("test '") + test + "' needs an argument");
  return a.positional[0];
}

bool is_int(const Value& v) {
  return v.kind == Kind::kInt;
}

int cmp_arg(Interpreter& in, const Value& v, CallArgs& a, const char* name) {
  const Value& other = arg0(in, a, name);
  if (v.is_undefined()) in.undefined_error(v);
  try {
    return compare(v, other);
  } catch (const Error& e) {
    in.runtime_error(e.what());
  }
}

const std::map<std::string, TestFn>& test_table() {
  static const std::map<std::string, TestFn> table = {
      {"defined", [](Interpreter&, const Value& v, CallArgs&) { return !v.is_undefined(); }},
      {"undefined", [](Interpreter&, const Value& v, CallArgs&) { return v.is_undefined(); }},
      {"none", [](Interpreter&, const Value& v, CallArgs&) { return v.is_none(); }},
      {"boolean", [](Interpreter&, const Value& v, CallArgs&) { return v.kind == Kind::kBool; }},
      {"true",
       [](Interpreter&, const Value& v, CallArgs&) { return v.kind == Kind::kBool && v.b; }},
      {"false",
       [](Interpreter&, const Value& v, CallArgs&) { return v.kind == Kind::kBool && !v.b; }},
      {"integer", [](Interpreter&, const Value& v, CallArgs&) { return is_int(v); }},
      {"float", [](Interpreter&, const Value& v, CallArgs&) { return v.kind == Kind::kFloat; }},
      {"number", [](Interpreter&, const Value& v, CallArgs&) { return v.is_number(); }},
      {"string", [](Interpreter&, const Value& v, CallArgs&) { return v.is_string(); }},
      {"mapping", [](Interpreter&, const Value& v,
                     CallArgs&) { return v.is_dict() && v.dict->tag == DictTag::kPlain; }},
      {"iterable",
       [](Interpreter&, const Value& v, CallArgs&) {
         return v.is_undefined() || v.is_string() || v.is_list() ||
                (v.is_dict() && v.dict->tag == DictTag::kPlain);
       }},
      {"sequence",
       [](Interpreter&, const Value& v, CallArgs&) {
         return v.is_undefined() || v.is_string() || v.is_list() ||
                (v.is_dict() && v.dict->tag == DictTag::kPlain);
       }},
      {"callable",
       [](Interpreter&, const Value& v, CallArgs&) { return v.kind == Kind::kCallable; }},
      {"escaped", [](Interpreter&, const Value&, CallArgs&) { return false; }},
      {"sameas",
       [](Interpreter& in, const Value& v, CallArgs& a) {
         const Value& o = arg0(in, a, "sameas");
         if (v.kind != o.kind) return false;
         if (v.is_list()) return v.list == o.list;
         if (v.is_dict()) return v.dict == o.dict;
         if (v.kind == Kind::kCallable) return v.fn == o.fn;
         return equals(v, o);
       }},
      {"eq",
       [](Interpreter& in, const Value& v, CallArgs& a) { return equals(v, arg0(in, a, "eq")); }},
      {"ne",
       [](Interpreter& in, const Value& v, CallArgs& a) { return !equals(v, arg0(in, a, "ne")); }},
      {"lt",
       [](Interpreter& in, const Value& v, CallArgs& a) { return cmp_arg(in, v, a, "lt") < 0; }},
      {"le",
       [](Interpreter& in, const Value& v, CallArgs& a) { return cmp_arg(in, v, a, "le") <= 0; }},
      {"gt",
       [](Interpreter& in, const Value& v, CallArgs& a) { return cmp_arg(in, v, a, "gt") > 0; }},
      {"ge",
       [](Interpreter& in, const Value& v, CallArgs& a) { return cmp_arg(in, v, a, "ge") >= 0; }},
      {"in",
       [](Interpreter& in, const Value& v, CallArgs& a) {
         const Value& c = arg0(in, a, "in");
         if (c.is_string()) return v.is_string() && c.s.find(v.s) != std::string::npos;
         for (const Value& x : in.iterate(c))
           if (equals(x, v)) return true;
         return false;
       }},
      {"even",
       [](Interpreter& in, const Value& v, CallArgs&) {
         if (!v.is_number()) in.runtime_error("test 'even' needs a number");
         return v.kind == Kind::kFloat ? std::fmod(v.f, 2.0) == 0.0
                                       : (v.kind == Kind::kBool ? !v.b : v.i % 2 == 0);
       }},
      {"odd",
       [](Interpreter& in, const Value& v, CallArgs&) {
         if (!v.is_number()) in.runtime_error("test 'odd' needs a number");
         return v.kind == Kind::kFloat ? std::fmod(v.f, 2.0) != 0.0
                                       : (v.kind == Kind::kBool ? v.b : v.i % 2 != 0);
       }},
      {"divisibleby",
       [](Interpreter& in, const Value& v, CallArgs& a) {
         const Value& d = arg0(in, a, "divisibleby");
         if (!v.is_number() || !d.is_number()) in.runtime_error("test 'divisibleby' needs numbers");
         if (d.as_double() == 0.0)
           in.runtime_error("ZeroDivisionError: integer division or modulo by zero");
         if (v.kind != Kind::kFloat && d.kind != Kind::kFloat) {
           int64_t x = v.kind == Kind::kBool ? v.b : v.i, y = d.kind == Kind::kBool ? d.b : d.i;
           return y == -1 || x % y == 0;
         }
         return std::fmod(v.as_double(), d.as_double()) == 0.0;
       }},
      {"lower", [](Interpreter&, const Value& v,
                   CallArgs&) { return v.is_string() && py_lower(v.s) == v.s; }},
      {"upper", [](Interpreter&, const Value& v,
                   CallArgs&) { return v.is_string() && py_upper(v.s) == v.s; }},
      {"filter", [](Interpreter&, const Value& v,
                    CallArgs&) { return v.is_string() && has_builtin_filter(v.s); }},
      {"test", [](Interpreter&, const Value& v,
                  CallArgs&) { return v.is_string() && has_builtin_test(v.s); }},
  };
  return table;
}

const char* test_alias(const std::string& name) {
  static const std::map<std::string, const char*> aliases = {
      {"==", "eq"}, {"equalto", "eq"}, {"!=", "ne"},          {"<", "lt"}, {"lessthan", "lt"},
      {"<=", "le"}, {">", "gt"},       {"greaterthan", "gt"}, {">=", "ge"}};
  auto it = aliases.find(name);
  return it == aliases.end() ? nullptr : it->second;
}

// ---- methods ----

std::string str_arg(Interpreter& in, const CallArgs& a, size_t i, const char* method) {
  Value v = a.get(i, nullptr);
  if (!v.is_string()) in.runtime_error(std::string(method) + "() argument must be str");
  return v.s;
}

Value str_method(Interpreter& in, const std::string& s, const std::string& name, CallArgs& a);

bool prefix_match(Interpreter& in, const std::string& s, const Value& p, bool ends) {
  if (p.is_list() && p.list->is_tuple) {
    for (const Value& x : p.list->items)
      if (prefix_match(in, s, x, ends)) return true;
    return false;
  }
  if (!p.is_string())
    in.runtime_error("startswith/endswith first arg must be str or a tuple of str");
  if (p.s.size() > s.size()) return false;
  return ends ? s.compare(s.size() - p.s.size(), p.s.size(), p.s) == 0
              : s.compare(0, p.s.size(), p.s) == 0;
}

// str.format: {} {0} {name} with optional !r/!s; format specs are not supported.
std::string str_format(Interpreter& in, const std::string& fmt, CallArgs& a) {
  std::string out;
  size_t auto_index = 0;
  for (size_t k = 0; k < fmt.size(); ++k) {
    char c = fmt[k];
    if (c == '}') {
      if (k + 1 < fmt.size() && fmt[k + 1] == '}') ++k;
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (k + 1 < fmt.size() && fmt[k + 1] == '{') {
      out += '{';
      ++k;
      continue;
    }
    size_t e = fmt.find('}', k);
    if (e == std::string::npos) in.runtime_error("Single '{' encountered in format string");
    std::string field = fmt.substr(k + 1, e - k - 1);
    k = e;
    char conv = 0;
    if (size_t bang = field.find('!'); bang != std::string::npos) {
      conv = bang + 1 < field.size() ? field[bang + 1] : 0;
      field.resize(bang);
    }
    if (field.find(':') != std::string::npos)
      in.runtime_error("str.format specs are not supported");
    Value v;
    if (field.empty())
      v = a.get(auto_index++, nullptr);
    else if (std::all_of(field.begin(), field.end(), ::isdigit))
      v = a.get(std::stoul(field), nullptr);
    else
      v = a.get(SIZE_MAX, field.c_str());
    if (v.is_undefined() && !a.has(SIZE_MAX, field.c_str()))
      in.runtime_error("str.format: no argument for field '{" + field + "}'");
    out += conv == 'r' ? repr(v) : to_str(v);
    in.check_size(out.size(), "string");
  }
  return out;
}

int64_t find_cp(const std::string& s, const std::string& sub, bool reverse) {
  size_t pos = reverse ? s.rfind(sub) : s.find(sub);
  if (pos == std::string::npos) return -1;
  return static_cast<int64_t>(utf8_decode(s.substr(0, pos)).size());
}

Value str_method(Interpreter& in, const std::string& s, const std::string& name, CallArgs& a) {
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    Value chars = a.get(0, nullptr);
    std::string c = chars.is_string() ? chars.s : std::string();
    return Value::string(
        py_strip(s, chars.is_string() ? &c : nullptr, name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    Value sep = a.get(0, "sep");
    Value maxv = a.get(1, "maxsplit");
    long maxsplit = maxv.is_number() ? static_cast<long>(maxv.as_double()) : -1;
    std::string sp = sep.is_string() ? sep.s : std::string();
    if (sep.is_string() && sp.empty()) in.runtime_error("ValueError: empty separator");
    if (name == "rsplit" && maxsplit >= 0)
      in.runtime_error("rsplit with maxsplit is not supported");
    Value out = Value::new_list();
    for (auto& part : py_split(s, sep.is_string() ? &sp : nullptr, maxsplit))
      out.list->items.push_back(Value::string(part));
    return out;
  }
  if (name == "splitlines") {
    Value out = Value::new_list();
    for (auto& line : py_splitlines(s, truthy(a.get(0, "keepends"))))
      out.list->items.push_back(Value::string(line));
    return out;
  }
  if (name == "startswith" || name == "endswith")
    return Value::boolean(prefix_match(in, s, a.get(0, nullptr), name == "endswith"));
  if (name == "upper") return Value::string(py_upper(s));
  if (name == "lower") return Value::string(py_lower(s));
  if (name == "title") return Value::string(py_title(s));
  if (name == "capitalize") return Value::string(py_capitalize(s));
  if (name == "replace") {
    Value count = a.get(2, "count");
    std::string old = str_arg(in, a, 0, "replace"), repl = str_arg(in, a, 1, "replace");
    size_t hits = 0;
    if (!old.empty())
      for (size_t p = s.find(old); p != std::string::npos; p = s.find(old, p + old.size())) ++hits;
    in.check_size(s.size() + hits * repl.size(), "string");
    return Value::string(
        py_replace(s, old, repl, count.is_number() ? static_cast<long>(count.as_double()) : -1));
  }
  if (name == "format") return Value::string(str_format(in, s, a));
  if (name == "join") {
    std::string out;
    bool first = true;
    for (const Value& x : in.iterate(a.get(0, nullptr))) {
      if (!x.is_string())
        in.runtime_error(std::string("sequence item: expected str instance, ") + x.type_name() +
                         " found");
      if (!first) out += s;
      first = false;
      out += x.s;
      in.check_size(out.size(), "string");
    }
    return Value::string(out);
  }
  if (name == "find" || name == "rfind")
    return Value::integer(find_cp(s, str_arg(in, a, 0, name.c_str()), name == "rfind"));
  if (name == "index" || name == "rindex") {
    int64_t k = find_cp(s, str_arg(in, a, 0, name.c_str()), name == "rindex");
    if (k < 0) in.runtime_error("ValueError: substring not found");
    return Value::integer(k);
  }
  if (name == "count") {
    std::string sub = str_arg(in, a, 0, "count");
    if (sub.empty()) return Value::integer(static_cast<int64_t>(utf8_decode(s).size()) + 1);
    int64_t n = 0;
    for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
    return Value::integer(n);
  }
  std::u32string t = utf8_decode(s);
  auto all = [&](auto pred) { return !t.empty() && std::all_of(t.begin(), t.end(), pred); };
  if (name == "isspace") return Value::boolean(all([](char32_t c) { return is_py_space(c); }));
  if (name == "isdigit")
    return Value::boolean(all([](char32_t c) { return c >= '0' && c <= '9'; }));
  if (name == "isalpha")
    return Value::boolean(
        all([](char32_t c) { return c < 128 && std::isalpha(static_cast<int>(c)); }));
  if (name == "isalnum")
    return Value::boolean(
        all([](char32_t c) { return c < 128 && std::isalnum(static_cast<int>(c)); }));
  if (name == "islower") return Value::boolean(py_lower(s) == s && py_upper(s) != s);
  if (name == "isupper") return Value::boolean(py_upper(s) == s && py_lower(s) != s);
  in.runtime_error("str." + name + " is not supported");
}

bool is_str_method(const std::string& n) {
  static const char* kNames[] = {
      "strip",    "lstrip",  "rstrip",  "split",   "rsplit",     "splitlines", "startswith",
      "endswith", "upper",   "lower",   "title",   "capitalize", "replace",    "format",
      "join",     "find",    "rfind",   "index",   "rindex",     "count",      "isspace",
      "isdigit",  "isalpha", "isalnum", "islower", "isupper"};
  for (const char* k : kNames)
    if (n == k) return true;
  return false;
}

Value dict_method(Interpreter& in, const Value& d, const std::string& name, CallArgs& a) {
  Value out = Value::new_list();
  if (name == "items") {
    for (const auto& [k, v] : d.dict->items)
      out.list->items.push_back(Value::new_list({k, v}, true));
  } else if (name == "keys") {
    for (const auto& kv : d.dict->items) out.list->items.push_back(kv.first);
  } else if (name == "values") {
    for (const auto& kv : d.dict->items) out.list->items.push_back(kv.second);
  } else {  // get
    const Value* v = d.dict->find(a.get(0, nullptr));
    if (v) return *v;
    Value dflt = a.get(1, nullptr);
    return dflt.is_undefined() ? Value::none() : dflt;
  }
  return out;
}

Value list_method(Interpreter& in, const Value& l, const std::string& name, CallArgs& a) {
  const Value x = a.get(0, nullptr);
  int64_t n = 0;
  for (size_t k = 0; k < l.list->items.size(); ++k) {
    if (!equals(l.list->items[k], x)) continue;
    if (name == "index") return Value::integer(static_cast<int64_t>(k));
    ++n;
  }
  if (name == "index") in.runtime_error("ValueError: " + repr(x) + " is not in list");
  return Value::integer(n);
}

}  // namespace

bool has_builtin_test(const std::string& name) {
  return test_table().count(name) > 0 || test_alias(name) != nullptr;
}

bool builtin_test(Interpreter& in, const std::string& name, const Value& input, CallArgs& args) {
  const char* alias = test_alias(name);
  auto it = test_table().find(alias ? alias : name);
  if (it == test_table().end()) in.runtime_error("no test named '" + name + "'");
  return it->second(in, input, args);
}

Value builtin_method(Interpreter& in, const Value& obj, const std::string& name) {
  auto unsafe = [&]() -> Value {
    in.runtime_error("SecurityError: access to attribute '" + name + "' of '" + obj.type_name() +
                     "' object is unsafe.");
  };
  if (obj.is_string() && is_str_method(name)) {
    std::string s = obj.s;
    return Value::callable("str." + name, [s, name](Interpreter& i, CallArgs& a) {
      return str_method(i, s, name, a);
    });
  }
  if (obj.is_dict() && obj.dict->tag == DictTag::kPlain) {
    if (name == "items" || name == "keys" || name == "values" || name == "get") {
      return Value::callable("dict." + name, [obj, name](Interpreter& i, CallArgs& a) {
        return dict_method(i, obj, name, a);
      });
    }
    if (name == "pop" || name == "popitem" || name == "setdefault" || name == "update" ||
        name == "clear")
      return unsafe();
  }
  if (obj.is_list() && !obj.list->is_tuple) {
    if (name == "append" || name == "extend" || name == "insert" || name == "pop" ||
        name == "remove" || name == "reverse" || name == "sort" || name == "clear")
      return unsafe();
  }
  if (obj.is_list() && (name == "index" || name == "count")) {
    return Value::callable("list." + name, [obj, name](Interpreter& i, CallArgs& a) {
      return list_method(i, obj, name, a);
    });
  }
  return Value::undefined();
}

std::vector<std::pair<std::string, Value>> builtin_globals() {
  std::vector<std::pair<std::string, Value>> g;
  g.emplace_back(
      "range", Value::callable("range", [](Interpreter& in, CallArgs& a) {
        std::vector<int64_t> b;
        for (const Value& v : a.positional) {
          if (!(v.kind == Kind::kInt || v.kind == Kind::kBool))
            in.runtime_error(std::string("'") + v.type_name() +
                             "' object cannot be interpreted as an integer");
          b.push_back(v.kind == Kind::kBool ? v.b : v.i);
        }
        if (b.empty() || b.size() > 3) in.runtime_error("range expected 1 to 3 arguments");
        int64_t start = b.size() == 1 ? 0 : b[0], stop = b.size() == 1 ? b[0] : b[1];
        int64_t st = b.size() == 3 ? b[2] : 1;
        if (st == 0) in.runtime_error("range() arg 3 must not be zero");
        // jinja2's sandbox caps ranges at MAX_RANGE = 100000 items.
        uint64_t count = 0;
        if (st > 0 && stop > start)
          count = (static_cast<uint64_t>(stop) - static_cast<uint64_t>(start) - 1) /
                      static_cast<uint64_t>(st) +
                  1;
        if (st < 0 && start > stop)
          count = (static_cast<uint64_t>(start) - static_cast<uint64_t>(stop) - 1) /
                      (0 - static_cast<uint64_t>(st)) +
                  1;
        if (count > 100000)
          in.runtime_error(
              "OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE "
              "(100000).");
        in.step(static_cast<int64_t>(count / 16));
        Value out = Value::new_list();
        for (uint64_t k = 0; k < count; ++k)
          out.list->items.push_back(Value::integer(start + static_cast<int64_t>(k) * st));
        return out;
      }));
  g.emplace_back("namespace", Value::callable("namespace", [](Interpreter& in, CallArgs& a) {
                   Value ns = Value::new_dict();
                   ns.dict->tag = DictTag::kNamespace;
                   for (const Value& p : a.positional) {
                     if (!p.is_dict())
                       in.runtime_error("namespace() positional argument must be a dict");
                     for (const auto& [k, v] : p.dict->items) ns.dict->set(k, v);
                   }
                   for (const auto& [k, v] : a.keyword) ns.dict->set(k, v);
                   return ns;
                 }));
  g.emplace_back("dict", Value::callable("dict", [](Interpreter& in, CallArgs& a) {
                   Value d = Value::new_dict();
                   for (const Value& p : a.positional) {
                     if (!p.is_dict())
                       in.runtime_error("dict() positional argument must be a dict");
                     for (const auto& [k, v] : p.dict->items) d.dict->set(k, v);
                   }
                   for (const auto& [k, v] : a.keyword) d.dict->set(k, v);
                   return d;
                 }));
  g.emplace_back("raise_exception",
                 Value::callable("raise_exception", [](Interpreter& in, CallArgs& a) -> Value {
                   in.runtime_error("TemplateError: " + to_str(a.get(0, "message")));
                 }));
  g.emplace_back("strftime_now", Value::callable("strftime_now", [](Interpreter& in, CallArgs& a) {
                   std::string fmt = to_str(a.get(0, "format"));
                   if (fmt.size() > 256) in.runtime_error("strftime_now: format too long");
                   std::time_t now = std::time(nullptr);
                   std::tm tm{};
                   localtime_r(&now, &tm);
                   char buf[1024];
                   size_t n = fmt.empty() ? 0 : std::strftime(buf, sizeof(buf), fmt.c_str(), &tm);
                   return Value::string(std::string(buf, n));
                 }));
  return g;
}

}  // namespace wick::jinja
