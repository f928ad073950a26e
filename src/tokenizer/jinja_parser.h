// Parser of the Jinja2 subset: tokens to a Template tree, with jinja2's operator precedence.
// Unsupported tags (extends, include, import, block, ...) fail with kUnsupported at parse time.
#pragma once

#include "tokenizer/jinja_ast.h"

#include <memory>
#include <string>

namespace wick::jinja {

struct ParseLimits {
  int max_nesting = 200;  // nested statements + expressions
};

std::shared_ptr<const Template> parse_template(const std::string& source,
                                               const ParseLimits& limits = {});

}  // namespace wick::jinja
