// Tree-walking interpreter of the Jinja2 subset with jinja2's scoping (a fresh scope per loop
// iteration, macros see the template's top level) and the ImmutableSandboxedEnvironment rules
// (no mutation of lists/dicts except namespace attributes). Untrusted templates are bounded in
// steps, call depth and output size; exceeding a bound throws wick::Error.
#pragma once

#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_value.h"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace wick::jinja {

struct RenderLimits {
  size_t max_output_bytes = size_t{8} << 20;  // also the cap on any one string or list
  // Statements and expression nodes evaluated, plus bulk work: 4 per loop iteration, one per
  // 16 items iterated or built and per 256 bytes of string made or copied. A real chat template
  // needs a few hundred per message.
  int64_t max_steps = 2'000'000;
  int max_call_depth = 100;  // nested macro / caller calls
};

class Interpreter {
 public:
  Interpreter(std::shared_ptr<const Template> tpl, const RenderLimits& limits);

  // Renders with `context` (name -> value) on top of the built-in globals.
  std::string render(const std::vector<std::pair<std::string, Value>>& context);

  // Used by the built-in filters, tests and methods.
  Value call(const Value& fn, CallArgs& args);
  Value filter(const std::string& name, const Value& input, CallArgs& args);
  bool test(const std::string& name, const Value& input, CallArgs& args);
  Value getattr(const Value& obj, const std::string& name);
  Value getitem(const Value& obj, const Value& key);
  std::vector<Value> iterate(const Value& v);
  // Binary operator with Python semantics: + - * / // % **.
  Value eval_binary(const std::string& op, const Value& a, const Value& b);
  void step(int64_t cost = 1);
  // Copies a value out of a container or scope, charging for the bytes of a string.
  Value charged(const Value& v);
  // Throws when a produced string or list would exceed the output cap.
  // Also charges steps for the bytes made.
  void check_size(size_t size, const char* what);
  [[noreturn]] void runtime_error(const std::string& what) const;
  // Throws the UndefinedError jinja2 raises when an undefined value is used.
  [[noreturn]] void undefined_error(const Value& undefined) const;

 private:
  using Frame = std::unordered_map<std::string, Value>;
  enum class Flow { kNormal, kBreak, kContinue };

  Flow exec_body(const Body& body, std::string& out);
  Flow exec(const Stmt& s, std::string& out);
  void exec_for(const Stmt& s, std::string& out);
  void exec_set(const Stmt& s);
  void exec_macro(const Stmt& s);
  void exec_call_block(const Stmt& s, std::string& out);
  void append(std::string& out, const std::string& text);

  Value eval(const Expr& e);
  Value eval_call(const Expr& e);
  Value eval_compare(const Expr& e);
  Value eval_slice(const Value& obj, const Expr& slice);
  void eval_args(const Expr& e, size_t first_child, CallArgs& args);

  Value lookup(const std::string& name);
  void assign(const std::string& name, Value v);
  void assign_targets(const std::vector<std::string>& targets, const Value& v);
  Value make_macro(const Stmt& s, const char* name);

  std::shared_ptr<const Template> tpl_;
  RenderLimits limits_;
  std::vector<std::shared_ptr<Frame>> frames_;
  int64_t steps_ = 0;
  int call_depth_ = 0;
  size_t current_offset_ = 0;  // of the statement being run, for error positions
};

// Built-ins (jinja_builtins.cpp).
Value builtin_filter(Interpreter& in, const std::string& name, const Value& input, CallArgs& args);
bool has_builtin_filter(const std::string& name);
bool has_builtin_test(const std::string& name);
bool builtin_test(Interpreter& in, const std::string& name, const Value& input, CallArgs& args);
// A bound method such as 'abc'.upper, or Undefined when obj has no such method.
Value builtin_method(Interpreter& in, const Value& obj, const std::string& name);
std::vector<std::pair<std::string, Value>> builtin_globals();

}  // namespace wick::jinja
