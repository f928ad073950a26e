// Values of the Jinja2 subset used by chat templates, with Python semantics.
// Lists and dicts are shared (reference semantics, like Python objects); dicts keep insertion
// order. Printing follows Python's str()/repr() so rendered text matches transformers byte for
// byte: 1.0, True, None, ['a', 'b'], {'k': 1}.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace wick::jinja {

class Interpreter;
struct Value;
struct CallArgs;

using NativeFn = std::function<Value(Interpreter&, CallArgs&)>;

struct ListData {
  std::vector<Value> items;
  bool is_tuple = false;  // only changes printing: (1, 2)
};

struct DictData;

struct Callable {
  std::string name;
  NativeFn fn;
};

enum class Kind : uint8_t {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,
  kDict,
  kCallable
};

struct Value {
  Kind kind = Kind::kUndefined;
  bool b = false;
  int64_t i = 0;
  double f = 0.0;
  std::string s;  // string payload; for undefined: the hint used in error messages
  std::shared_ptr<ListData> list;
  std::shared_ptr<DictData> dict;
  std::shared_ptr<Callable> fn;

  static Value undefined(std::string hint = {});
  static Value none();
  static Value boolean(bool v);
  static Value integer(int64_t v);
  static Value number(double v);
  static Value string(std::string v);
  static Value new_list(std::vector<Value> items = {}, bool tuple = false);
  static Value new_dict();
  static Value callable(std::string name, NativeFn fn);

  bool is_undefined() const { return kind == Kind::kUndefined; }
  bool is_none() const { return kind == Kind::kNone; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_list() const { return kind == Kind::kList; }
  bool is_dict() const { return kind == Kind::kDict; }
  bool is_number() const {
    return kind == Kind::kInt || kind == Kind::kFloat || kind == Kind::kBool;
  }
  double as_double() const;
  const char* type_name() const;  // Python type name: 'str', 'int', 'dict', ...
};

enum class DictTag : uint8_t { kPlain, kNamespace, kLoop };

struct DictData {
  std::vector<std::pair<Value, Value>> items;
  DictTag tag = DictTag::kPlain;

  const Value* find(const Value& key) const;
  const Value* find(const std::string& key) const;
  void set(const Value& key, Value value);
  void set(const std::string& key, Value value) { set(Value::string(key), std::move(value)); }
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;

  // Python-style binding: positional index or keyword name; Undefined when absent.
  Value get(size_t index, const char* name) const;
  bool has(size_t index, const char* name) const;
};

// Python truthiness and equality (1 == 1.0 == True; undefined == undefined).
bool truthy(const Value& v);
bool equals(const Value& a, const Value& b);
// Python ordering for <, >, sort; throws wick::Error for unorderable types.
int compare(const Value& a, const Value& b);

// Python str() and repr().
std::string to_str(const Value& v);
std::string repr(const Value& v);
std::string float_repr(double v);

struct JsonDumpOptions {
  int indent = -1;  // < 0: single line
  std::string indent_str;
  bool custom_separators = false;  // else json.dumps defaults: ", " (or "," with indent), ": "
  std::string item_sep;
  std::string key_sep = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};
// json.dumps as transformers' tojson filter calls it.
std::string json_dumps(const Value& v, const JsonDumpOptions& opt);

Value from_json(const nlohmann::ordered_json& j);
Value from_json(const nlohmann::json& j);

// UTF-8 helpers: Python strings index by code point.
std::u32string utf8_decode(const std::string& s);
std::string utf8_encode(const std::u32string& s);
void utf8_append(std::string& out, char32_t cp);
bool is_py_space(char32_t cp);

}  // namespace wick::jinja
