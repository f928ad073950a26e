// GBNF parser and matcher: sentences of small grammars (arithmetic, JSON, lists, a C-like
// language) are accepted and near misses rejected, byte by byte through the automaton; invalid
// grammars fail with the line:column of the problem.
#include <gtest/gtest.h>

#include "constrain/constraint.h"
#include "constrain/grammar.h"
#include "core/error.h"

namespace wick::constrain {
namespace {

bool accepts(std::string_view grammar, std::string_view text) {
  return grammar_accepts(parse_gbnf(grammar), text);
}

std::string parse_error(std::string_view grammar) {
  try {
    parse_gbnf(grammar);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kParse);
    return e.what();
  }
  return "no error";
}

const char* kArithmetic = R"~(
# integer arithmetic with precedence
root   ::= expr
expr   ::= term (("+" | "-") term)*
term   ::= factor (("*" | "/") factor)*
factor ::= number | "(" expr ")" | "-" factor
number ::= [0-9]+
)~";

TEST(Gbnf, Arithmetic) {
  for (const char* ok : {"1", "1+2", "3*(4-5)/6", "-(1+2)*-3", "((((7))))", "12345"})
    EXPECT_TRUE(accepts(kArithmetic, ok)) << ok;
  for (const char* bad : {"", "1+", "(1", "1)", "1 + 2", "a", "1++2", "()"})
    EXPECT_FALSE(accepts(kArithmetic, bad)) << bad;
}

const char* kJson = R"~(
root   ::= value
value  ::= object | array | string | number | ("true" | "false" | "null")
object ::=
  "{" ws (
    string ws ":" ws value ws
    ("," ws string ws ":" ws value ws)*
  )? "}"
array  ::= "[" ws (value ws ("," ws value ws)*)? "]"
string ::= "\"" ([^"\\\x00-\x1f] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}))* "\""
number ::= "-"? ([0-9] | [1-9] [0-9]*) ("." [0-9]+)? ([eE] [-+]? [0-9]+)?
ws     ::= [ \t\n]*
)~";

TEST(Gbnf, Json) {
  for (const char* ok : {"{}", "[]", "{\"a\": [1, 2.5, -3e10, true, null]}", "\"h\\u00e9\\n\"",
                         "[{\"x\":{\"y\":[]}}]", "\"caf\xC3\xA9 \xF0\x9F\x98\x80\""})
    EXPECT_TRUE(accepts(kJson, ok)) << ok;
  for (const char* bad :
       {"{", "{\"a\"}", "[1,]", "01x", "\"\\x\"", "{'a': 1}", "tru", "\"a\nb\"", "\"\xC3\""})
    EXPECT_FALSE(accepts(kJson, bad)) << bad;
}

TEST(Gbnf, ListsAndRepetitions) {
  const char* list = R"~(root ::= "- " item ("\n- " item){1,3}
item ::= [a-z]{2,4} | [0-9]{3})~";
  EXPECT_TRUE(accepts(list, "- ab\n- 123"));
  EXPECT_TRUE(accepts(list, "- ab\n- abcd\n- 000\n- xyz"));
  EXPECT_FALSE(accepts(list, "- ab"));                          // at least two items
  EXPECT_FALSE(accepts(list, "- ab\n- ab\n- ab\n- ab\n- ab"));  // at most four
  EXPECT_FALSE(accepts(list, "- a\n- ab"));                     // item too short
  EXPECT_FALSE(accepts(list, "- abcde\n- ab"));
  EXPECT_TRUE(accepts(R"~(root ::= "x"{3})~", "xxx"));
  EXPECT_FALSE(accepts(R"~(root ::= "x"{3})~", "xx"));
  EXPECT_TRUE(accepts(R"~(root ::= "x"{2,})~", "xxxxxxx"));
  EXPECT_FALSE(accepts(R"~(root ::= "x"{2,})~", "x"));
  EXPECT_TRUE(accepts(R"~(root ::= "a"? "b")~", "b"));
  EXPECT_TRUE(accepts(R"~(root ::= ("ab" | "c")+)~", "abcab"));
}

TEST(Gbnf, CharClassesAndEscapes) {
  EXPECT_TRUE(accepts(R"~(root ::= [^a-c]+)~", "xyz\xE2\x82\xAC"));
  EXPECT_FALSE(accepts(R"~(root ::= [^a-c]+)~", "xbz"));
  EXPECT_TRUE(accepts(R"~(root ::= [\u00e0-\u00ff] "\x41" "\t" [\U0001F600-\U0001F64F])~",
                      "\xC3\xA9"
                      "A\t\xF0\x9F\x98\x83"));
  EXPECT_FALSE(accepts(R"~(root ::= [\u00e0-\u00ff])~", "\xC3\x80"));  // U+00C0
  EXPECT_TRUE(accepts(R"~(root ::= "\"q\\" [\]\-] .)~", "\"q\\]\xE4\xB8\xAD"));
  EXPECT_TRUE(accepts(R"~(root ::= [a-zA-Z_] [a-zA-Z0-9_-]*)~", "snake_case-1"));
}

const char* kCLike = R"~(
root    ::= ws (func ws)+
func    ::= type " " ident "(" params? ")" ws block
type    ::= "int" | "void" | "char" "*"?
params  ::= type " " ident ("," ws type " " ident)*
block   ::= "{" ws (stmt ws)* "}"
stmt    ::= "return" (" " expr)? ";" | type " " ident ws "=" ws expr ";" | ident ws "=" ws expr ";"
          | "if" ws "(" expr ")" ws block (ws "else" ws block)? | "while" ws "(" expr ")" ws block
expr    ::= operand (ws [-+*/<>] ws operand)*
operand ::= ident | [0-9]+ | ident "(" (expr ("," ws expr)*)? ")" | "(" expr ")"
ident   ::= [a-z_] [a-z0-9_]*
ws      ::= [ \t\n]*
)~";

TEST(Gbnf, CLikeSyntax) {
  EXPECT_TRUE(accepts(kCLike, "int main() { return 0; }"));
  EXPECT_TRUE(accepts(kCLike,
                      "int add(int a, int b) {\n  return a + b;\n}\n"
                      "void loop(char* s) { int i = 0; while (i < 10) { i = add(i, 1); } }"));
  EXPECT_TRUE(accepts(kCLike, "int f(int x) { if (x > 1) { return x; } else { return 0; } }"));
  EXPECT_FALSE(accepts(kCLike, "int main() { return 0 }"));  // missing ;
  EXPECT_FALSE(accepts(kCLike, "int main() { return 0; "));  // unclosed block
  EXPECT_FALSE(accepts(kCLike, "float main() { }"));         // unknown type
  EXPECT_FALSE(accepts(kCLike, "int 9x() { }"));             // bad identifier
}

TEST(Gbnf, ErrorsCarryLineAndColumn) {
  EXPECT_NE(parse_error("root ::= \"a\" undefined-rule\n")
                .find("grammar:1:14: undefined rule 'undefined-rule'"),
            std::string::npos);
  EXPECT_NE(parse_error("a ::= \"x\"\n").find("1:1: no 'root' rule"), std::string::npos);
  EXPECT_NE(parse_error("  \n # only a comment\n").find("1:1: empty grammar"), std::string::npos);
  EXPECT_NE(parse_error("root ::= \"abc\n").find("1:10: unterminated string literal"),
            std::string::npos);
  EXPECT_NE(parse_error("root ::= [a-z\n").find("1:10: unterminated character class"),
            std::string::npos);
  EXPECT_NE(
      parse_error("root ::= x\nx ::= x \"a\" | \"b\"\n").find("2:1: left recursion in rule 'x'"),
      std::string::npos);
  EXPECT_NE(parse_error("root ::= (\"a\"?)*\n").find("1:10: left recursion"), std::string::npos);
  EXPECT_NE(
      parse_error("root ::= \"a\"\nroot ::= \"b\"\n").find("2:1: rule 'root' is defined twice"),
      std::string::npos);
  EXPECT_NE(parse_error("root ::= \"a\" )\n").find("1:14: unexpected ')'"), std::string::npos);
  EXPECT_NE(parse_error("root ::= \"\\q\"\n").find("1:11: unknown escape"), std::string::npos);
  EXPECT_NE(parse_error("root ::= [z-a]\n").find("1:12: character range is out of order"),
            std::string::npos);
  EXPECT_NE(parse_error("root ::= \"a\"{3,1}\n").find("max < min"), std::string::npos);
  EXPECT_NE(parse_error("root = \"a\"\n").find("1:6: expected '::='"), std::string::npos);
  EXPECT_NE(parse_error("root ::= (\"a\"\n").find("2:1: expected ')'"), std::string::npos);
}

TEST(Gbnf, MatcherStreamsBytesAndResets) {
  // A byte-level matcher without a tokenizer: one token per byte value.
  TokenVocab v;
  for (int b = 0; b < 256; ++b) v.bytes.push_back(std::string(1, static_cast<char>(b)));
  v.usable.assign(256, 1);
  v.bytes.push_back("<eos>");
  v.usable.push_back(0);
  v.eos_ids = {256};
  auto c = std::make_shared<const Constraint>(parse_gbnf(R"~(root ::= "ab" | "ac" "d"?)~"), v);
  Matcher m(c);
  std::vector<uint64_t> bits(c->mask_words());
  auto allowed = [&] {
    m.allowed_tokens(bits);
    std::string s;
    for (int i = 0; i < 257; ++i)
      if ((bits[i / 64] >> (i % 64)) & 1)
        s += i == 256 ? std::string("$") : std::string(1, static_cast<char>(i));
    return s;
  };
  EXPECT_EQ(allowed(), "a");
  EXPECT_FALSE(m.accept_token('b'));
  EXPECT_TRUE(m.accept_token('a'));
  EXPECT_EQ(allowed(), "bc");
  EXPECT_TRUE(m.accept_token('c'));
  EXPECT_TRUE(m.is_accepting());
  EXPECT_EQ(allowed(), "d$");
  EXPECT_TRUE(m.accept_token(256));
  EXPECT_TRUE(m.is_finished());
  EXPECT_EQ(allowed(), "");
  m.reset();
  EXPECT_EQ(allowed(), "a");
  EXPECT_FALSE(m.accept_token(256));  // EOS only where the grammar accepts
}

}  // namespace
}  // namespace wick::constrain
