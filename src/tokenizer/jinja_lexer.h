// Jinja2 lexer with transformers' settings: trim_blocks, lstrip_blocks, `-`/`+` whitespace
// control, raw blocks, comments. Template text comes out as kText tokens with whitespace already
// applied; tags come out as begin/end tokens around expression tokens.
#pragma once

#include <string>
#include <vector>

namespace wick::jinja {

enum class TokenKind {
  kText,
  kVarBegin,
  kVarEnd,
  kBlockBegin,
  kBlockEnd,
  kName,
  kString,  // text holds the unescaped value
  kInt,
  kFloat,
  kOp,
  kEof,
};

struct Token {
  TokenKind kind;
  std::string text;
  size_t offset;  // byte offset in the normalized source, for line:column in errors
};

// Newlines normalized to \n and one trailing newline removed, as jinja2 does before lexing.
std::string normalize_source(const std::string& source);

// Throws wick::Error (kParse) with line:column on malformed input.
std::vector<Token> tokenize(const std::string& normalized_source);

// "line L, column C" for a byte offset.
std::string describe_position(const std::string& source, size_t offset);

}  // namespace wick::jinja
