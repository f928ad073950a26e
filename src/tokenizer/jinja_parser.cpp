// Recursive-descent parser for the Jinja2 subset. The expression grammar follows jinja2's
// parser.py level by level: condexpr > or > and > not > compare > + - > ~ > * / // % > ** >
// unary (+ postfix . [] () and the |filter / is-test chain).
#include "tokenizer/jinja_parser.h"

#include "core/error.h"
#include "tokenizer/jinja_interp.h"
#include "tokenizer/jinja_lexer.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <initializer_list>

namespace wick::jinja {

namespace {

class Parser {
 public:
  Parser(const std::string& src, std::vector<Token> tokens, const ParseLimits& limits)
      : src_(src), toks_(std::move(tokens)), limits_(limits) {}

  Body parse_all() {
    std::string end;
    Body body = parse_body({}, end);
    return body;
  }

 private:
  struct DepthGuard {
    explicit DepthGuard(Parser& p) : parser(p) {
      if (++parser.depth_ > parser.limits_.max_nesting)
        parser.error(parser.cur().offset, "template nested too deeply");
    }
    ~DepthGuard() { --parser.depth_; }
    Parser& parser;
  };

  [[noreturn]] void error(size_t offset, const std::string& what,
                          ErrorKind kind = ErrorKind::kParse) {
    fail(kind, "chat template syntax error at {}: {}", describe_position(src_, offset), what);
  }

  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  void next() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  bool is_op(const char* op) const { return cur().kind == TokenKind::kOp && cur().text == op; }
  bool is_name(const char* name) const {
    return cur().kind == TokenKind::kName && cur().text == name;
  }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    next();
    return true;
  }
  std::string describe(const Token& t) const {
    switch (t.kind) {
      case TokenKind::kText:
        return "template text";
      case TokenKind::kVarBegin:
        return "'{{'";
      case TokenKind::kVarEnd:
        return "end of print statement";
      case TokenKind::kBlockBegin:
        return "'{%'";
      case TokenKind::kBlockEnd:
        return "end of statement block";
      case TokenKind::kEof:
        return "end of template";
      case TokenKind::kString:
        return "string";
      default:
        return "'" + t.text + "'";
    }
  }
  void expect_op(const char* op) {
    if (!skip_op(op))
      error(cur().offset, "expected '" + std::string(op) + "', got " + describe(cur()));
  }
  std::string expect_name() {
    if (cur().kind != TokenKind::kName)
      error(cur().offset, "expected a name, got " + describe(cur()));
    std::string n = cur().text;
    next();
    return n;
  }
  void expect_block_end() {
    if (cur().kind != TokenKind::kBlockEnd)
      error(cur().offset, "expected end of statement block, got " + describe(cur()));
    next();
  }

  ExprPtr node(ExprKind kind, size_t offset) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->offset = offset;
    return e;
  }

  // ---- statements ----

  // Parses until `{% <one of end_names>`; leaves the position after that name.
  Body parse_body(std::initializer_list<const char*> end_names, std::string& end_found) {
    DepthGuard guard(*this);
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.kind == TokenKind::kEof) {
        if (end_names.size() == 0) return body;
        std::string want;
        for (const char* n : end_names)
          want += (want.empty() ? "'" : " or '") + std::string(n) + "'";
        error(t.offset, "unexpected end of template, expected " + want);
      }
      if (t.kind == TokenKind::kText) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kText;
        s->offset = t.offset;
        s->text = t.text;
        body.push_back(std::move(s));
        next();
      } else if (t.kind == TokenKind::kVarBegin) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kOutput;
        s->offset = t.offset;
        next();
        s->expr = parse_tuple(false, true);
        if (cur().kind != TokenKind::kVarEnd)
          error(cur().offset, "expected end of print statement, got " + describe(cur()));
        next();
        body.push_back(std::move(s));
      } else if (t.kind == TokenKind::kBlockBegin) {
        next();
        if (cur().kind == TokenKind::kName) {
          for (const char* n : end_names) {
            if (cur().text == n) {
              end_found = n;
              next();
              return body;
            }
          }
        }
        body.push_back(parse_statement());
      } else {
        error(t.offset, "unexpected " + describe(t));
      }
    }
  }

  StmtPtr parse_statement() {
    const Token& t = cur();
    if (t.kind != TokenKind::kName) error(t.offset, "tag name expected");
    auto s = std::make_unique<Stmt>();
    s->offset = t.offset;
    std::string tag = t.text;
    next();
    if (tag == "if") return parse_if(std::move(s));
    if (tag == "for") return parse_for(std::move(s));
    if (tag == "set") return parse_set(std::move(s));
    if (tag == "macro") return parse_macro(std::move(s));
    if (tag == "call") return parse_call_block(std::move(s));
    if (tag == "filter") return parse_filter_block(std::move(s));
    if (tag == "generation") {
      s->kind = StmtKind::kGeneration;
      expect_block_end();
      std::string end;
      s->bodies.push_back(parse_body({"endgeneration"}, end));
      expect_block_end();
      return s;
    }
    if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) error(s->offset, "'" + tag + "' outside of a loop");
      s->kind = tag == "break" ? StmtKind::kBreak : StmtKind::kContinue;
      expect_block_end();
      return s;
    }
    static const char* kUnsupported[] = {"extends", "include", "import",     "from",  "block",
                                         "with",    "do",      "autoescape", "trans", "pluralize"};
    for (const char* u : kUnsupported)
      if (tag == u) error(s->offset, "unsupported tag '" + tag + "'", ErrorKind::kUnsupported);
    error(s->offset, "unknown tag '" + tag + "'");
  }

  StmtPtr parse_if(StmtPtr s) {
    s->kind = StmtKind::kIf;
    s->conds.push_back(parse_tuple(false, true));
    expect_block_end();
    while (true) {
      std::string end;
      s->bodies.push_back(parse_body({"elif", "else", "endif"}, end));
      if (end == "elif") {
        s->conds.push_back(parse_tuple(false, true));
        expect_block_end();
        continue;
      }
      if (end == "else") {
        expect_block_end();
        s->bodies.push_back(parse_body({"endif"}, end));
      }
      expect_block_end();
      return s;
    }
  }

  void parse_targets(std::vector<std::string>& targets, const char* end_name) {
    bool parens = skip_op("(");
    while (true) {
      targets.push_back(expect_name());
      if (!skip_op(",")) break;
      if (is_name(end_name) || is_op(")") || is_op("=")) break;
    }
    if (parens) expect_op(")");
  }

  StmtPtr parse_for(StmtPtr s) {
    s->kind = StmtKind::kFor;
    parse_targets(s->targets, "in");
    if (!skip_name("in")) error(cur().offset, "expected 'in', got " + describe(cur()));
    s->expr = parse_tuple(false, false, "recursive");
    if (is_name("recursive"))
      error(cur().offset, "recursive loops are not supported", ErrorKind::kUnsupported);
    if (skip_name("if")) s->filter = parse_expression(true);
    expect_block_end();
    ++loop_depth_;
    std::string end;
    s->bodies.push_back(parse_body({"else", "endfor"}, end));
    --loop_depth_;
    if (end == "else") {
      expect_block_end();
      s->bodies.push_back(parse_body({"endfor"}, end));
    }
    expect_block_end();
    return s;
  }

  StmtPtr parse_set(StmtPtr s) {
    s->kind = StmtKind::kSet;
    if (cur().kind == TokenKind::kName && peek().kind == TokenKind::kOp && peek().text == ".") {
      s->targets.push_back(expect_name());
      next();
      s->text = expect_name();  // namespace attribute
    } else {
      parse_targets(s->targets, "");
    }
    if (skip_op("=")) {
      s->expr = parse_tuple(false, true);
      expect_block_end();
      return s;
    }
    if (!s->text.empty() || s->targets.size() != 1)
      error(cur().offset, "expected '=' in set statement");
    s->kind = StmtKind::kSetBlock;
    if (is_op("|")) s->filter = parse_filter_chain(make_input());
    expect_block_end();
    std::string end;
    s->bodies.push_back(parse_body({"endset"}, end));
    expect_block_end();
    return s;
  }

  ExprPtr make_input() {
    auto in = node(ExprKind::kName, cur().offset);
    in->name = kFilterInput;
    return in;
  }

  void parse_params(Stmt& s) {
    expect_op("(");
    while (!is_op(")")) {
      if (!s.params.empty()) expect_op(",");
      if (is_op(")")) break;
      s.params.push_back(expect_name());
      s.defaults.push_back(skip_op("=") ? parse_expression(true) : nullptr);
    }
    expect_op(")");
  }

  StmtPtr parse_macro(StmtPtr s) {
    s->kind = StmtKind::kMacro;
    s->text = expect_name();
    parse_params(*s);
    expect_block_end();
    std::string end;
    int saved = loop_depth_;
    loop_depth_ = 0;
    s->bodies.push_back(parse_body({"endmacro"}, end));
    loop_depth_ = saved;
    if (cur().kind == TokenKind::kName) next();  // {% endmacro name %}
    expect_block_end();
    return s;
  }

  StmtPtr parse_call_block(StmtPtr s) {
    s->kind = StmtKind::kCallBlock;
    if (is_op("(")) parse_params(*s);
    s->expr = parse_expression(true);
    if (s->expr->kind != ExprKind::kCall) error(s->offset, "expected a call in call block");
    expect_block_end();
    std::string end;
    s->bodies.push_back(parse_body({"endcall"}, end));
    expect_block_end();
    return s;
  }

  StmtPtr parse_filter_block(StmtPtr s) {
    s->kind = StmtKind::kFilterBlock;
    s->filter = parse_filter_chain(make_input(), /*leading_pipe=*/false);
    expect_block_end();
    std::string end;
    s->bodies.push_back(parse_body({"endfilter"}, end));
    expect_block_end();
    return s;
  }

  // ---- expressions ----

  bool is_tuple_end(const char* extra_end) const {
    if (cur().kind == TokenKind::kVarEnd || cur().kind == TokenKind::kBlockEnd ||
        cur().kind == TokenKind::kEof)
      return true;
    if (cur().kind == TokenKind::kOp && cur().text == ")") return true;
    return extra_end != nullptr && is_name(extra_end);
  }

  ExprPtr parse_tuple(bool explicit_parens, bool with_condexpr, const char* extra_end = nullptr) {
    size_t offset = cur().offset;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      items.push_back(parse_expression(with_condexpr));
      if (is_op(","))
        is_tuple = true;
      else
        break;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) error(cur().offset, "expected an expression, got " + describe(cur()));
    }
    auto t = node(ExprKind::kTuple, offset);
    t->children = std::move(items);
    return t;
  }

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(*this);
    if (!with_condexpr) return parse_or();
    size_t offset = cur().offset;
    ExprPtr expr = parse_or();
    while (skip_name("if")) {
      auto c = node(ExprKind::kCondExpr, offset);
      ExprPtr cond = parse_or();
      ExprPtr other = skip_name("else") ? parse_expression(true) : nullptr;
      c->children.push_back(std::move(expr));
      c->children.push_back(std::move(cond));
      c->children.push_back(std::move(other));
      expr = std::move(c);
    }
    return expr;
  }

  ExprPtr binary(ExprKind kind, ExprPtr a, ExprPtr b, std::string op = {}) {
    auto e = node(kind, a->offset);
    e->name = std::move(op);
    e->children.push_back(std::move(a));
    e->children.push_back(std::move(b));
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (skip_name("or")) left = binary(ExprKind::kOr, std::move(left), parse_and());
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (skip_name("and")) left = binary(ExprKind::kAnd, std::move(left), parse_not());
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      auto e = node(ExprKind::kNot, cur().offset);
      next();
      e->children.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().kind == TokenKind::kOp &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" ||
           cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        next();
      } else if (is_name("in")) {
        op = "in";
        next();
      } else if (is_name("not") && peek().kind == TokenKind::kName && peek().text == "in") {
        op = "notin";
        next();
        next();
      } else {
        break;
      }
      if (!cmp) {
        cmp = node(ExprKind::kCompare, first->offset);
        cmp->children.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->children.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = cur().text;
      next();
      left = binary(ExprKind::kBinary, std::move(left), parse_concat(), op);
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr first = parse_math2();
    if (!is_op("~")) return first;
    auto e = node(ExprKind::kConcat, first->offset);
    e->children.push_back(std::move(first));
    while (skip_op("~")) e->children.push_back(parse_math2());
    return e;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = cur().text;
      next();
      left = binary(ExprKind::kBinary, std::move(left), parse_pow(), op);
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (skip_op("**"))
      left = binary(ExprKind::kBinary, std::move(left), parse_unary(true), "**");
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      e = node(is_op("-") ? ExprKind::kNeg : ExprKind::kPos, cur().offset);
      next();
      e->children.push_back(parse_unary(false));
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    size_t offset = t.offset;
    if (t.kind == TokenKind::kName) {
      std::string n = t.text;
      next();
      if (n == "true" || n == "True" || n == "false" || n == "False") {
        auto e = node(ExprKind::kLiteral, offset);
        e->value = Value::boolean(n == "true" || n == "True");
        return e;
      }
      if (n == "none" || n == "None") {
        auto e = node(ExprKind::kLiteral, offset);
        e->value = Value::none();
        return e;
      }
      auto e = node(ExprKind::kName, offset);
      e->name = n;
      return e;
    }
    if (t.kind == TokenKind::kString) {
      std::string s;
      while (cur().kind == TokenKind::kString) {
        s += cur().text;
        next();
      }
      auto e = node(ExprKind::kLiteral, offset);
      e->value = Value::string(std::move(s));
      return e;
    }
    if (t.kind == TokenKind::kInt || t.kind == TokenKind::kFloat) {
      auto e = node(ExprKind::kLiteral, offset);
      errno = 0;
      if (t.kind == TokenKind::kInt) {
        long long v = std::strtoll(t.text.c_str(), nullptr, 10);
        if (errno == ERANGE) error(offset, "integer literal too large", ErrorKind::kUnsupported);
        e->value = Value::integer(v);
      } else {
        e->value = Value::number(std::strtod(t.text.c_str(), nullptr));
      }
      next();
      return e;
    }
    if (skip_op("(")) {
      ExprPtr e = parse_tuple(true, true);
      expect_op(")");
      return e;
    }
    if (is_op("[")) return parse_list();
    if (is_op("{")) return parse_dict();
    error(offset, "unexpected " + describe(t));
  }

  ExprPtr parse_list() {
    auto e = node(ExprKind::kList, cur().offset);
    expect_op("[");
    while (!is_op("]")) {
      if (!e->children.empty()) expect_op(",");
      if (is_op("]")) break;
      e->children.push_back(parse_expression(true));
    }
    expect_op("]");
    return e;
  }

  ExprPtr parse_dict() {
    auto e = node(ExprKind::kDict, cur().offset);
    expect_op("{");
    while (!is_op("}")) {
      if (!e->children.empty()) expect_op(",");
      if (is_op("}")) break;
      e->children.push_back(parse_expression(true));
      expect_op(":");
      e->children.push_back(parse_expression(true));
    }
    expect_op("}");
    return e;
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      if (is_op(".")) {
        size_t offset = cur().offset;
        next();
        if (cur().kind == TokenKind::kInt) {
          auto idx = node(ExprKind::kLiteral, cur().offset);
          idx->value = Value::integer(std::strtoll(cur().text.c_str(), nullptr, 10));
          next();
          e = binary(ExprKind::kGetItem, std::move(e), std::move(idx));
          continue;
        }
        auto g = node(ExprKind::kGetAttr, offset);
        g->name = expect_name();
        g->children.push_back(std::move(e));
        e = std::move(g);
      } else if (is_op("[")) {
        next();
        ExprPtr sub = parse_subscript();
        expect_op("]");
        e = binary(ExprKind::kGetItem, std::move(e), std::move(sub));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript() {
    size_t offset = cur().offset;
    ExprPtr start;
    if (!is_op(":")) {
      start = parse_expression(true);
      if (!is_op(":")) {
        if (!is_op(",")) return start;
        auto t = node(ExprKind::kTuple, offset);
        t->children.push_back(std::move(start));
        while (skip_op(",")) {
          if (is_op("]")) break;
          t->children.push_back(parse_expression(true));
        }
        return t;
      }
    }
    auto s = node(ExprKind::kSlice, offset);
    expect_op(":");
    ExprPtr stop, step;
    if (!is_op("]") && !is_op(":")) stop = parse_expression(true);
    if (skip_op(":") && !is_op("]")) step = parse_expression(true);
    s->children.push_back(std::move(start));
    s->children.push_back(std::move(stop));
    s->children.push_back(std::move(step));
    return s;
  }

  // Arguments `(a, b, k=v)` appended to `call` (children/kwargs).
  void parse_args(Expr& call) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**"))
        error(cur().offset, "*args / **kwargs in calls are not supported", ErrorKind::kUnsupported);
      if (cur().kind == TokenKind::kName && peek().kind == TokenKind::kOp && peek().text == "=") {
        std::string key = cur().text;
        next();
        next();
        call.kwargs.emplace_back(key, parse_expression(true));
      } else {
        if (!call.kwargs.empty()) error(cur().offset, "positional argument after keyword argument");
        call.children.push_back(parse_expression(true));
      }
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto c = node(ExprKind::kCall, callee->offset);
    c->children.push_back(std::move(callee));
    parse_args(*c);
    return c;
  }

  std::string parse_dotted_name() {
    std::string n = expect_name();
    while (is_op(".") && peek().kind == TokenKind::kName) {
      next();
      n += "." + expect_name();
    }
    return n;
  }

  ExprPtr parse_filter_chain(ExprPtr e, bool leading_pipe = true) {
    bool first = true;
    while ((first && !leading_pipe) || is_op("|")) {
      if (!(first && !leading_pipe)) next();
      first = false;
      auto f = node(ExprKind::kFilter, cur().offset);
      f->name = parse_dotted_name();
      // jinja2 resolves filter and test names when compiling, even in branches never taken.
      if (!has_builtin_filter(f->name)) error(f->offset, "no filter named '" + f->name + "'");
      f->children.push_back(std::move(e));
      if (is_op("(")) parse_args(*f);
      e = std::move(f);
    }
    return e;
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    while (true) {
      if (is_op("|")) {
        e = parse_filter_chain(std::move(e));
      } else if (is_name("is")) {
        e = parse_test(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_test(ExprPtr e) {
    auto t = node(ExprKind::kTest, cur().offset);
    next();  // is
    if (skip_name("not")) t->negated = true;
    size_t name_offset = cur().offset;
    t->name = parse_dotted_name();
    if (!has_builtin_test(t->name)) error(name_offset, "no test named '" + t->name + "'");
    t->children.push_back(std::move(e));
    const Token& c = cur();
    bool arg_start = c.kind == TokenKind::kName || c.kind == TokenKind::kString ||
                     c.kind == TokenKind::kInt || c.kind == TokenKind::kFloat ||
                     (c.kind == TokenKind::kOp && (c.text == "[" || c.text == "{"));
    if (is_op("(")) {
      parse_args(*t);
    } else if (arg_start && !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) error(c.offset, "you cannot chain multiple tests with is");
      t->children.push_back(parse_postfix(parse_primary()));
    }
    return t;
  }

  const std::string& src_;
  std::vector<Token> toks_;
  ParseLimits limits_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

std::shared_ptr<const Template> parse_template(const std::string& source,
                                               const ParseLimits& limits) {
  auto tpl = std::make_shared<Template>();
  tpl->source = normalize_source(source);
  Parser parser(tpl->source, tokenize(tpl->source), limits);
  tpl->body = parser.parse_all();
  return tpl;
}

}  // namespace wick::jinja
