// Expression evaluation of the Jinja2 interpreter: operators with Python semantics, sandboxed
// attribute/item access (jinja2's environment.getattr/getitem) and calls.
#include "core/error.h"
#include "tokenizer/jinja_interp.h"

#include <cmath>

namespace wick::jinja {

namespace {

int64_t py_floordiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Python's float divmod (floatobject.c): floor quotient and a modulo with the divisor's sign.
std::pair<double, double> py_divmod(double x, double y) {
  double mod = std::fmod(x, y);
  double div = (x - mod) / y;
  if (mod != 0.0) {
    if ((y < 0) != (mod < 0)) {
      mod += y;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, y);
  }
  double floordiv;
  if (div != 0.0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, x / y);
  }
  return {floordiv, mod};
}

int64_t int_of(const Value& v) {
  return v.kind == Kind::kBool ? (v.b ? 1 : 0) : v.i;
}

// Python's `'%s %d' % args` for the conversions templates use.
std::string percent_format(Interpreter& in, const std::string& fmt, const Value& args) {
  std::vector<Value> items;
  if (args.is_list() && args.list->is_tuple)
    items = args.list->items;
  else
    items.push_back(args);
  size_t next = 0;
  std::string out;
  for (size_t k = 0; k < fmt.size(); ++k) {
    if (fmt[k] != '%') {
      out += fmt[k];
      continue;
    }
    if (++k >= fmt.size()) in.runtime_error("incomplete format");
    char c = fmt[k];
    if (c == '%') {
      out += '%';
      continue;
    }
    if (next >= items.size()) in.runtime_error("not enough arguments for format string");
    const Value& v = items[next++];
    if (c == 's')
      out += to_str(v);
    else if (c == 'r')
      out += repr(v);
    else if ((c == 'd' || c == 'i') && v.is_number())
      out += std::to_string(v.kind == Kind::kFloat ? static_cast<int64_t>(v.f) : int_of(v));
    else
      in.runtime_error(std::string("unsupported format character '") + c + "'");
  }
  if (next < items.size()) in.runtime_error("not all arguments converted during string formatting");
  return out;
}

}  // namespace

Value Interpreter::eval(const Expr& e) {
  step();
  switch (e.kind) {
    case ExprKind::kLiteral:
      return e.value;
    case ExprKind::kName:
      return lookup(e.name);
    case ExprKind::kList:
    case ExprKind::kTuple: {
      Value v = Value::new_list({}, e.kind == ExprKind::kTuple);
      for (const auto& c : e.children) v.list->items.push_back(eval(*c));
      return v;
    }
    case ExprKind::kDict: {
      Value v = Value::new_dict();
      for (size_t k = 0; k + 1 < e.children.size(); k += 2) {
        Value key = eval(*e.children[k]);
        v.dict->set(key, eval(*e.children[k + 1]));
      }
      return v;
    }
    case ExprKind::kGetAttr:
      return getattr(eval(*e.children[0]), e.name);
    case ExprKind::kGetItem: {
      Value obj = eval(*e.children[0]);
      if (e.children[1]->kind == ExprKind::kSlice) return eval_slice(obj, *e.children[1]);
      return getitem(obj, eval(*e.children[1]));
    }
    case ExprKind::kSlice:
      runtime_error("slice outside of a subscript");
    case ExprKind::kCall:
      return eval_call(e);
    case ExprKind::kFilter: {
      Value input = eval(*e.children[0]);
      CallArgs args;
      eval_args(e, 1, args);
      return filter(e.name, input, args);
    }
    case ExprKind::kTest: {
      Value input = eval(*e.children[0]);
      CallArgs args;
      eval_args(e, 1, args);
      return Value::boolean(test(e.name, input, args) != e.negated);
    }
    case ExprKind::kNot:
      return Value::boolean(!truthy(eval(*e.children[0])));
    case ExprKind::kNeg:
    case ExprKind::kPos: {
      Value v = eval(*e.children[0]);
      if (v.is_undefined()) undefined_error(v);
      if (!v.is_number())
        runtime_error(std::string("bad operand type for unary ") +
                      (e.kind == ExprKind::kNeg ? "-" : "+") + ": '" + v.type_name() + "'");
      if (e.kind == ExprKind::kPos) return v.kind == Kind::kBool ? Value::integer(int_of(v)) : v;
      if (v.kind == Kind::kFloat) return Value::number(-v.f);
      if (int_of(v) == INT64_MIN) runtime_error("integer overflow");
      return Value::integer(-int_of(v));
    }
    case ExprKind::kBinary:
      return eval_binary(e.name, eval(*e.children[0]), eval(*e.children[1]));
    case ExprKind::kConcat: {
      std::string s;
      for (const auto& c : e.children) {
        s += to_str(eval(*c));
        check_size(s.size(), "string");
      }
      return Value::string(std::move(s));
    }
    case ExprKind::kCompare:
      return eval_compare(e);
    case ExprKind::kAnd: {
      Value a = eval(*e.children[0]);
      return truthy(a) ? eval(*e.children[1]) : a;
    }
    case ExprKind::kOr: {
      Value a = eval(*e.children[0]);
      return truthy(a) ? a : eval(*e.children[1]);
    }
    case ExprKind::kCondExpr:
      if (truthy(eval(*e.children[1]))) return eval(*e.children[0]);
      if (e.children[2]) return eval(*e.children[2]);
      return Value::undefined(
          "the inline if-expression evaluated to false and no else section "
          "was defined");
  }
  return Value::undefined();
}

void Interpreter::eval_args(const Expr& e, size_t first_child, CallArgs& args) {
  for (size_t k = first_child; k < e.children.size(); ++k)
    args.positional.push_back(eval(*e.children[k]));
  for (const auto& [name, x] : e.kwargs) args.keyword.emplace_back(name, eval(*x));
}

Value Interpreter::eval_call(const Expr& e) {
  Value fn = eval(*e.children[0]);
  CallArgs args;
  eval_args(e, 1, args);
  return call(fn, args);
}

Value Interpreter::call(const Value& fn, CallArgs& args) {
  if (fn.is_undefined()) undefined_error(fn);
  if (fn.kind != Kind::kCallable)
    runtime_error(std::string("'") + fn.type_name() + "' object is not callable");
  return fn.fn->fn(*this, args);
}

Value Interpreter::eval_binary(const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined()) undefined_error(a);
  if (b.is_undefined()) undefined_error(b);
  auto type_error = [&]() -> Value {
    runtime_error("unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" +
                  b.type_name() + "'");
  };
  if (a.is_number() && b.is_number()) {
    bool ints = a.kind != Kind::kFloat && b.kind != Kind::kFloat;
    double x = a.as_double(), y = b.as_double();
    int64_t i = int_of(a), j = int_of(b), r = 0;
    if (op == "+") {
      if (!ints) return Value::number(x + y);
      if (__builtin_add_overflow(i, j, &r)) runtime_error("integer overflow");
      return Value::integer(r);
    }
    if (op == "-") {
      if (!ints) return Value::number(x - y);
      if (__builtin_sub_overflow(i, j, &r)) runtime_error("integer overflow");
      return Value::integer(r);
    }
    if (op == "*") {
      if (!ints) return Value::number(x * y);
      if (__builtin_mul_overflow(i, j, &r)) runtime_error("integer overflow");
      return Value::integer(r);
    }
    if (op == "/") {
      if (y == 0.0) runtime_error("ZeroDivisionError: division by zero");
      return Value::number(x / y);
    }
    if (op == "//" || op == "%") {
      if (y == 0.0) runtime_error("ZeroDivisionError: integer division or modulo by zero");
      if (ints) {
        if (i == INT64_MIN && j == -1) runtime_error("integer overflow");
        int64_t q = py_floordiv(i, j);
        return Value::integer(op == "//" ? q : i - q * j);
      }
      auto [q, m] = py_divmod(x, y);
      return Value::number(op == "//" ? q : m);
    }
    if (op == "**") {
      if (ints && j >= 0) {
        int64_t result = 1, base = i;
        for (int64_t e = j; e > 0; --e) {
          step();
          if (__builtin_mul_overflow(result, base, &result)) runtime_error("integer overflow");
          if (result == 0 || result == 1) break;
        }
        return Value::integer(result);
      }
      if (x == 0.0 && y < 0)
        runtime_error("ZeroDivisionError: 0.0 cannot be raised to a negative power");
      return Value::number(std::pow(x, y));
    }
    return type_error();
  }
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      check_size(a.s.size() + b.s.size(), "string");
      return Value::string(a.s + b.s);
    }
    if (a.is_list() && b.is_list() && a.list->is_tuple == b.list->is_tuple) {
      check_size(a.list->items.size() + b.list->items.size(), "list");
      std::vector<Value> items = a.list->items;
      items.insert(items.end(), b.list->items.begin(), b.list->items.end());
      return Value::new_list(std::move(items), a.list->is_tuple);
    }
    if (a.is_string() || b.is_string())
      runtime_error(std::string("can only concatenate str (not \"") +
                    (a.is_string() ? b : a).type_name() + "\") to str");
    return type_error();
  }
  if (op == "*") {
    const Value& seq = a.is_number() ? b : a;
    const Value& count = a.is_number() ? a : b;
    if (!count.is_number() || count.kind == Kind::kFloat || !(seq.is_string() || seq.is_list()))
      return type_error();
    int64_t n = std::max<int64_t>(0, int_of(count));
    size_t unit = seq.is_string() ? seq.s.size() : seq.list->items.size();
    if (unit > 0 && static_cast<uint64_t>(n) > limits_.max_output_bytes / unit + 1)
      check_size(limits_.max_output_bytes + 1, seq.is_string() ? "string" : "list");
    check_size(unit * static_cast<size_t>(n), seq.is_string() ? "string" : "list");
    if (seq.is_string()) {
      std::string s;
      for (int64_t k = 0; k < n; ++k) s += seq.s;
      return Value::string(std::move(s));
    }
    std::vector<Value> items;
    for (int64_t k = 0; k < n; ++k)
      items.insert(items.end(), seq.list->items.begin(), seq.list->items.end());
    return Value::new_list(std::move(items), seq.list->is_tuple);
  }
  if (op == "%" && a.is_string()) return Value::string(percent_format(*this, a.s, b));
  return type_error();
}

static bool contains(Interpreter& in, const Value& container, const Value& item) {
  switch (container.kind) {
    case Kind::kString:
      if (!item.is_string())
        in.runtime_error(std::string("'in <string>' requires string as left operand, not ") +
                         item.type_name());
      return container.s.find(item.s) != std::string::npos;
    case Kind::kList:
      for (const Value& v : container.list->items)
        if (equals(v, item)) return true;
      return false;
    case Kind::kDict:
      if (container.dict->tag != DictTag::kPlain)
        in.runtime_error(std::string("argument of type '") + container.type_name() +
                         "' is not iterable");
      return container.dict->find(item) != nullptr;
    case Kind::kUndefined:
      return false;
    default:
      in.runtime_error(std::string("argument of type '") + container.type_name() +
                       "' is not iterable");
  }
}

Value Interpreter::eval_compare(const Expr& e) {
  Value left = eval(*e.children[0]);
  for (size_t k = 0; k < e.ops.size(); ++k) {
    Value right = eval(*e.children[k + 1]);
    const std::string& op = e.ops[k];
    bool r;
    if (op == "==")
      r = equals(left, right);
    else if (op == "!=")
      r = !equals(left, right);
    else if (op == "in")
      r = contains(*this, right, left);
    else if (op == "notin")
      r = !contains(*this, right, left);
    else {
      if (left.is_undefined()) undefined_error(left);
      if (right.is_undefined()) undefined_error(right);
      int c;
      try {
        c = compare(left, right);
      } catch (const Error&) {
        runtime_error("'" + op + "' not supported between instances of '" + left.type_name() +
                      "' and '" + right.type_name() + "'");
      }
      r = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
    }
    if (!r) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

Value Interpreter::eval_slice(const Value& obj, const Expr& slice) {
  if (obj.is_undefined()) undefined_error(obj);
  auto bound = [&](const ExprPtr& p) -> Value { return p ? eval(*p) : Value::none(); };
  Value start = bound(slice.children[0]), stop = bound(slice.children[1]),
        stepv = bound(slice.children[2]);
  for (const Value* v : {&start, &stop, &stepv})
    if (!v->is_none() && !(v->is_number() && v->kind != Kind::kFloat))
      runtime_error("slice indices must be integers or None");
  int64_t st = stepv.is_none() ? 1 : int_of(stepv);
  if (st == 0) runtime_error("slice step cannot be zero");
  std::u32string text;
  const std::vector<Value>* items = nullptr;
  int64_t n;
  if (obj.is_string()) {
    text = utf8_decode(obj.s);
    n = static_cast<int64_t>(text.size());
  } else if (obj.is_list()) {
    items = &obj.list->items;
    n = static_cast<int64_t>(items->size());
  } else {
    runtime_error(std::string("'") + obj.type_name() + "' object is not subscriptable");
  }
  // Python's PySlice_AdjustIndices.
  auto adjust = [&](const Value& v, int64_t dflt) {
    if (v.is_none()) return dflt;
    int64_t x = int_of(v);
    if (x < 0) {
      x += n;
      if (x < 0) x = st < 0 ? -1 : 0;
    } else if (x >= n) {
      x = st < 0 ? n - 1 : n;
    }
    return x;
  };
  int64_t lo = adjust(start, st < 0 ? n - 1 : 0);
  int64_t hi = adjust(stop, st < 0 ? -1 : n);
  std::u32string out_text;
  std::vector<Value> out_items;
  for (int64_t k = lo; st > 0 ? k < hi : k > hi; k += st) {
    if (items)
      out_items.push_back((*items)[static_cast<size_t>(k)]);
    else
      out_text += text[static_cast<size_t>(k)];
  }
  if (items) return Value::new_list(std::move(out_items), obj.list->is_tuple);
  return Value::string(utf8_encode(out_text));
}

Value Interpreter::getattr(const Value& obj, const std::string& name) {
  switch (obj.kind) {
    case Kind::kUndefined:
      undefined_error(obj);
    case Kind::kDict: {
      if (obj.dict->tag != DictTag::kPlain) {
        if (const Value* v = obj.dict->find(name)) return charged(*v);
        return Value::undefined(
            fmt::format("'{} object' has no attribute '{}'", obj.type_name(), name));
      }
      Value m = builtin_method(*this, obj, name);
      if (!m.is_undefined()) return m;
      if (const Value* v = obj.dict->find(name)) return charged(*v);
      return Value::undefined(fmt::format("'dict object' has no attribute '{}'", name));
    }
    case Kind::kNone:
      return Value::undefined(fmt::format("'None' has no attribute '{}'", name));
    default: {
      Value m = builtin_method(*this, obj, name);
      if (!m.is_undefined()) return m;
      return Value::undefined(
          fmt::format("'{} object' has no attribute '{}'", obj.type_name(), name));
    }
  }
}

Value Interpreter::getitem(const Value& obj, const Value& key) {
  if (obj.is_undefined()) undefined_error(obj);
  if (obj.is_dict()) {
    if (obj.dict->tag == DictTag::kPlain) {
      if (const Value* v = obj.dict->find(key)) return charged(*v);
    }
    if (key.is_string()) return getattr(obj, key.s);
    return Value::undefined(fmt::format("'dict object' has no attribute {}", repr(key)));
  }
  if ((obj.is_list() || obj.is_string()) && key.is_number() && key.kind != Kind::kFloat) {
    int64_t idx = int_of(key);
    if (obj.is_list()) {
      int64_t n = static_cast<int64_t>(obj.list->items.size());
      if (idx < 0) idx += n;
      if (idx >= 0 && idx < n) return charged(obj.list->items[static_cast<size_t>(idx)]);
    } else {
      std::u32string t = utf8_decode(obj.s);
      int64_t n = static_cast<int64_t>(t.size());
      if (idx < 0) idx += n;
      if (idx >= 0 && idx < n)
        return Value::string(utf8_encode(t.substr(static_cast<size_t>(idx), 1)));
    }
    return Value::undefined(
        fmt::format("'{} object' has no element {}", obj.type_name(), int_of(key)));
  }
  if (key.is_string()) return getattr(obj, key.s);
  return Value::undefined(fmt::format("'{} object' has no element {}", obj.type_name(), repr(key)));
}

std::vector<Value> Interpreter::iterate(const Value& v) {
  if (v.is_list()) step(static_cast<int64_t>(v.list->items.size() / 16));
  if (v.is_string()) step(static_cast<int64_t>(v.s.size() / 16));
  if (v.is_dict()) step(static_cast<int64_t>(v.dict->items.size() / 16));
  switch (v.kind) {
    case Kind::kUndefined:
      return {};
    case Kind::kList:
      return v.list->items;
    case Kind::kDict: {
      if (v.dict->tag != DictTag::kPlain)
        runtime_error(std::string("'") + v.type_name() + "' object is not iterable");
      std::vector<Value> keys;
      for (const auto& kv : v.dict->items) keys.push_back(kv.first);
      return keys;
    }
    case Kind::kString: {
      std::vector<Value> chars;
      for (char32_t cp : utf8_decode(v.s)) {
        std::string s;
        utf8_append(s, cp);
        chars.push_back(Value::string(std::move(s)));
      }
      return chars;
    }
    default:
      runtime_error(std::string("'") + v.type_name() + "' object is not iterable");
  }
}

Value Interpreter::filter(const std::string& name, const Value& input, CallArgs& args) {
  return builtin_filter(*this, name, input, args);
}

bool Interpreter::test(const std::string& name, const Value& input, CallArgs& args) {
  return builtin_test(*this, name, input, args);
}

}  // namespace wick::jinja
