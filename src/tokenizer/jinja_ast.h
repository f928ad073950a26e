// Syntax tree of the Jinja2 subset. One generic node per family keeps the parser and the
// interpreter short: an expression's meaning is its kind, `name` and `children`.
#pragma once

#include "tokenizer/jinja_value.h"

#include <memory>
#include <string>
#include <vector>

namespace wick::jinja {

enum class ExprKind {
  kLiteral,  // value
  kName,     // name
  kList,     // children
  kTuple,    // children
  kDict,     // children: key, value, key, value...
  kGetAttr,  // children[0].name
  kGetItem,  // children[0][children[1]]
  kSlice,    // children: start, stop, step (null when absent)
  kCall,     // children[0](children[1..], kwargs)
  kFilter,   // name(children[0], children[1..], kwargs)
  kTest,     // children[0] is name(children[1..]); `negated` for `is not`
  kNot,      // not children[0]
  kNeg,      // -children[0]
  kPos,      // +children[0]
  kBinary,   // children[0] name children[1]: + - * / // % **
  kConcat,   // children joined by ~
  kCompare,  // children[0] ops[0] children[1] ops[1] children[2] ...
  kAnd,
  kOr,
  kCondExpr,  // children: then, condition, else (null when absent)
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind;
  size_t offset = 0;
  Value value;
  std::string name;
  bool negated = false;
  std::vector<ExprPtr> children;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
};

enum class StmtKind {
  kText,         // text
  kOutput,       // {{ expr }}
  kIf,           // conds[i] -> bodies[i]; bodies.back() is else when one more body
  kFor,          // targets in expr [if cond]; bodies[0] body, bodies[1] else
  kSet,          // targets = expr, or ns.attr = expr (attr set)
  kSetBlock,     // targets[0] = rendered bodies[0], piped through filter (may be null)
  kMacro,        // name(params = defaults) bodies[0]
  kCallBlock,    // expr called with `caller` = macro(params) bodies[0]
  kFilterBlock,  // filter applied to rendered bodies[0]
  kBreak,
  kContinue,
  kGeneration,  // transformers' {% generation %}: renders bodies[0] unchanged
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  StmtKind kind;
  size_t offset = 0;
  std::string text;  // kText; kMacro name; kSet namespace attribute
  std::vector<std::string> targets;
  ExprPtr expr;    // value, iterable, call or filter chain
  ExprPtr filter;  // kFor condition; kSetBlock filter chain
  std::vector<ExprPtr> conds;
  std::vector<Body> bodies;
  std::vector<std::string> params;  // macro / call-block parameters
  std::vector<ExprPtr> defaults;    // one per param, null when none
};

// The body-value placeholder inside a filter chain of {% filter %} / {% set x | f %}.
inline constexpr const char* kFilterInput = "\x01input";

struct Template {
  std::string source;  // normalized, for error positions
  Body body;
};

}  // namespace wick::jinja
