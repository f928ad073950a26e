// Jinja2 interpreter: statements, expressions, attribute/item access and scoping.
// Python semantics are kept where they show in rendered text: int vs float arithmetic, floor
// division and modulo signs, `and`/`or` returning an operand, negative indices and slices.
#include "tokenizer/jinja_interp.h"

#include "core/error.h"
#include "tokenizer/jinja_lexer.h"

#include <algorithm>

namespace wick::jinja {

namespace {

// Does `body` mention the name (macro bodies: varargs / kwargs / caller)?
bool expr_uses(const Expr* e, const std::string& name) {
  if (e == nullptr) return false;
  if (e->kind == ExprKind::kName && e->name == name) return true;
  for (const auto& c : e->children)
    if (expr_uses(c.get(), name)) return true;
  for (const auto& kv : e->kwargs)
    if (expr_uses(kv.second.get(), name)) return true;
  return false;
}

bool body_uses(const Body& body, const std::string& name) {
  for (const auto& s : body) {
    if (expr_uses(s->expr.get(), name) || expr_uses(s->filter.get(), name)) return true;
    for (const auto& c : s->conds)
      if (expr_uses(c.get(), name)) return true;
    for (const auto& d : s->defaults)
      if (expr_uses(d.get(), name)) return true;
    for (const auto& b : s->bodies)
      if (body_uses(b, name)) return true;
  }
  return false;
}

}  // namespace

Interpreter::Interpreter(std::shared_ptr<const Template> tpl, const RenderLimits& limits)
    : tpl_(std::move(tpl)), limits_(limits) {}

std::string Interpreter::render(const std::vector<std::pair<std::string, Value>>& context) {
  frames_.clear();
  auto root = std::make_shared<Frame>();
  for (auto& [k, v] : builtin_globals()) (*root)[k] = v;
  for (const auto& [k, v] : context) (*root)[k] = v;
  frames_.push_back(root);
  steps_ = 0;
  call_depth_ = 0;
  std::string out;
  exec_body(tpl_->body, out);
  frames_.clear();  // break reference cycles through macros
  return out;
}

void Interpreter::step(int64_t cost) {
  steps_ += cost;
  if (steps_ > limits_.max_steps)
    runtime_error("template exceeded " + std::to_string(limits_.max_steps) +
                  " evaluation steps (infinite or huge loop?)");
}

Value Interpreter::charged(const Value& v) {
  if (v.is_string()) step(static_cast<int64_t>(v.s.size() / 256));
  return v;
}

void Interpreter::check_size(size_t size, const char* what) {
  step(static_cast<int64_t>(size / 256));
  if (size > limits_.max_output_bytes)
    runtime_error(std::string(what) + " exceeds the limit of " +
                  std::to_string(limits_.max_output_bytes) + " bytes/items");
}

void Interpreter::runtime_error(const std::string& what) const {
  fail(ErrorKind::kInvalidArgument, "chat template error at {}: {}",
       describe_position(tpl_->source, current_offset_), what);
}

void Interpreter::undefined_error(const Value& undefined) const {
  runtime_error("UndefinedError: " + (undefined.s.empty() ? "value is undefined" : undefined.s));
}

void Interpreter::append(std::string& out, const std::string& text) {
  step(static_cast<int64_t>(text.size() / 256));
  if (out.size() + text.size() > limits_.max_output_bytes)
    check_size(out.size() + text.size(), "rendered output");
  out += text;
}

// ---- scopes ----

Value Interpreter::lookup(const std::string& name) {
  for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
    auto f = (*it)->find(name);
    if (f != (*it)->end()) return charged(f->second);
  }
  return Value::undefined("'" + name + "' is undefined");
}

void Interpreter::assign(const std::string& name, Value v) {
  (*frames_.back())[name] = std::move(v);
}

void Interpreter::assign_targets(const std::vector<std::string>& targets, const Value& v) {
  if (targets.size() == 1) {
    assign(targets[0], v);
    return;
  }
  std::vector<Value> items = iterate(v);
  if (items.size() != targets.size())
    runtime_error(items.size() > targets.size()
                      ? "too many values to unpack (expected " + std::to_string(targets.size()) +
                            ")"
                      : "not enough values to unpack (expected " + std::to_string(targets.size()) +
                            ", got " + std::to_string(items.size()) + ")");
  for (size_t k = 0; k < targets.size(); ++k) assign(targets[k], items[k]);
}

// ---- statements ----

Interpreter::Flow Interpreter::exec_body(const Body& body, std::string& out) {
  for (const auto& s : body) {
    Flow f = exec(*s, out);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

Interpreter::Flow Interpreter::exec(const Stmt& s, std::string& out) {
  step();
  current_offset_ = s.offset;
  switch (s.kind) {
    case StmtKind::kText:
      append(out, s.text);
      break;
    case StmtKind::kOutput: {
      Value v = eval(*s.expr);
      current_offset_ = s.offset;
      append(out, to_str(v));
      break;
    }
    case StmtKind::kIf:
      for (size_t k = 0; k < s.conds.size(); ++k)
        if (truthy(eval(*s.conds[k]))) return exec_body(s.bodies[k], out);
      if (s.bodies.size() > s.conds.size()) return exec_body(s.bodies.back(), out);
      break;
    case StmtKind::kFor:
      exec_for(s, out);
      break;
    case StmtKind::kSet:
      exec_set(s);
      break;
    case StmtKind::kSetBlock: {
      std::string body;
      exec_body(s.bodies[0], body);
      Value v = Value::string(std::move(body));
      if (s.filter) {
        frames_.push_back(std::make_shared<Frame>());
        assign(kFilterInput, v);
        v = eval(*s.filter);
        frames_.pop_back();
      }
      assign(s.targets[0], v);
      break;
    }
    case StmtKind::kMacro:
      exec_macro(s);
      break;
    case StmtKind::kCallBlock:
      exec_call_block(s, out);
      break;
    case StmtKind::kFilterBlock: {
      std::string body;
      exec_body(s.bodies[0], body);
      frames_.push_back(std::make_shared<Frame>());
      assign(kFilterInput, Value::string(std::move(body)));
      Value v = eval(*s.filter);
      frames_.pop_back();
      append(out, to_str(v));
      break;
    }
    case StmtKind::kBreak:
      return Flow::kBreak;
    case StmtKind::kContinue:
      return Flow::kContinue;
    case StmtKind::kGeneration:
      return exec_body(s.bodies[0], out);
  }
  return Flow::kNormal;
}

void Interpreter::exec_for(const Stmt& s, std::string& out) {
  Value iterable = eval(*s.expr);
  std::vector<Value> items = iterate(iterable);
  if (s.filter) {
    std::vector<Value> kept;
    for (const Value& item : items) {
      frames_.push_back(std::make_shared<Frame>());
      assign_targets(s.targets, item);
      bool keep = truthy(eval(*s.filter));
      frames_.pop_back();
      if (keep) kept.push_back(item);
    }
    items = std::move(kept);
  }
  const int64_t n = static_cast<int64_t>(items.size());
  for (int64_t k = 0; k < n; ++k) {
    step(4);  // building the loop context; an empty body still costs
    auto frame = std::make_shared<Frame>();
    Value loop = Value::new_dict();
    loop.dict->tag = DictTag::kLoop;
    auto field = [&loop](const char* name, Value v) {
      loop.dict->items.emplace_back(Value::string(name), std::move(v));
    };
    field("index", Value::integer(k + 1));
    field("index0", Value::integer(k));
    field("revindex", Value::integer(n - k));
    field("revindex0", Value::integer(n - k - 1));
    field("first", Value::boolean(k == 0));
    field("last", Value::boolean(k == n - 1));
    field("length", Value::integer(n));
    field("depth", Value::integer(1));
    field("depth0", Value::integer(0));
    field("previtem", k > 0 ? items[k - 1] : Value::undefined("there is no previous item"));
    field("nextitem", k + 1 < n ? items[k + 1] : Value::undefined("there is no next item"));
    field("cycle", Value::callable("cycle", [k](Interpreter& in, CallArgs& a) {
            if (a.positional.empty()) in.runtime_error("no items for cycling given");
            return a.positional[static_cast<size_t>(k) % a.positional.size()];
          }));
    (*frame)["loop"] = loop;
    frames_.push_back(frame);
    assign_targets(s.targets, items[k]);
    Flow f = exec_body(s.bodies[0], out);
    frames_.pop_back();
    if (f == Flow::kBreak) break;
  }
  if (n == 0 && s.bodies.size() > 1) {
    frames_.push_back(std::make_shared<Frame>());
    exec_body(s.bodies[1], out);
    frames_.pop_back();
  }
}

void Interpreter::exec_set(const Stmt& s) {
  Value v = eval(*s.expr);
  if (s.text.empty()) {
    assign_targets(s.targets, v);
    return;
  }
  Value ns = lookup(s.targets[0]);
  if (!ns.is_dict() || ns.dict->tag != DictTag::kNamespace)
    runtime_error("cannot assign attribute on non-namespace object");
  ns.dict->set(s.text, std::move(v));
}

Value Interpreter::make_macro(const Stmt& s, const char* name) {
  const Stmt* def = &s;
  bool takes_varargs = body_uses(s.bodies[0], "varargs");
  bool takes_kwargs = body_uses(s.bodies[0], "kwargs");
  bool is_caller = std::string(name) == "caller";
  // A caller() body runs in the scopes around its call block; weak references so that a
  // caller stored in a namespace cannot keep its own scope alive (no reference cycles).
  std::vector<std::weak_ptr<Frame>> scope;
  if (is_caller) scope.assign(frames_.begin(), frames_.end());
  return Value::callable(name, [def, takes_varargs, takes_kwargs, scope, is_caller,
                                macro_name = std::string(name)](Interpreter& in, CallArgs& args) {
    if (in.call_depth_ >= in.limits_.max_call_depth)
      in.runtime_error("maximum macro recursion depth (" +
                       std::to_string(in.limits_.max_call_depth) + ") exceeded");
    const auto& params = def->params;
    if (args.positional.size() > params.size() && !takes_varargs)
      in.runtime_error("macro '" + macro_name + "' takes not more than " +
                       std::to_string(params.size()) + " argument(s)");
    auto frame = std::make_shared<Frame>();
    Value kwargs = Value::new_dict();
    for (const auto& [k, v] : args.keyword) {
      bool known = false;
      for (const auto& p : params) known = known || p == k;
      if (known || k == "caller") {
        (*frame)[k] = v;
      } else if (takes_kwargs) {
        kwargs.dict->set(k, v);
      } else {
        in.runtime_error("macro '" + macro_name + "' takes no keyword argument '" + k + "'");
      }
    }
    std::vector<std::shared_ptr<Frame>> frames;
    if (is_caller) {
      for (const auto& w : scope) {
        auto f = w.lock();
        if (!f) in.runtime_error("caller() used outside of its call block");
        frames.push_back(std::move(f));
      }
    } else {
      frames.push_back(in.frames_.front());  // macros see the template's top level
    }
    frames.push_back(frame);
    std::swap(frames, in.frames_);  // `frames` now holds the caller's scopes
    struct Restore {
      Interpreter& in;
      std::vector<std::shared_ptr<Frame>>& saved;
      size_t offset;
      ~Restore() {
        std::swap(in.frames_, saved);
        in.current_offset_ = offset;
        --in.call_depth_;
      }
    } restore{in, frames, in.current_offset_};
    ++in.call_depth_;
    for (size_t k = 0; k < params.size(); ++k) {
      if (k < args.positional.size())
        (*frame)[params[k]] = args.positional[k];
      else if (frame->count(params[k]))
        continue;
      else if (def->defaults[k])
        (*frame)[params[k]] = in.eval(*def->defaults[k]);
      else
        (*frame)[params[k]] = Value::undefined("parameter '" + params[k] + "' was not provided");
    }
    std::vector<Value> extra(
        args.positional.begin() + std::min(args.positional.size(), params.size()),
        args.positional.end());
    (*frame)["varargs"] = Value::new_list(std::move(extra), true);
    (*frame)["kwargs"] = kwargs;
    std::string out;
    in.exec_body(def->bodies[0], out);
    return Value::string(std::move(out));
  });
}

void Interpreter::exec_macro(const Stmt& s) {
  assign(s.text, make_macro(s, s.text.c_str()));
}

void Interpreter::exec_call_block(const Stmt& s, std::string& out) {
  // jinja2 hands the call block's body to the macro as the implicit `caller` argument.
  const Expr& call_expr = *s.expr;
  Value fn = eval(*call_expr.children[0]);
  CallArgs args;
  eval_args(call_expr, 1, args);
  args.keyword.emplace_back("caller", make_macro(s, "caller"));
  append(out, to_str(call(fn, args)));
}

}  // namespace wick::jinja
