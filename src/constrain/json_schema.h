// JSON Schema -> GBNF. Generates only JSON that validates: where a keyword's language can be
// written as a grammar it is (types, properties/required, enum/const, arrays with prefixItems
// and min/max items, anyOf/oneOf, mergeable allOf, $ref with recursion, string length,
// pattern, formats, integer ranges digit by digit); where the grammar is a strict subset that is
// noted (properties in schema order, no extra properties, bounded whitespace and digits); a
// keyword wick cannot enforce is an Error(kInvalidArgument) naming its schema path.
#pragma once

#include <string>
#include <string_view>

namespace wick::constrain {

std::string json_schema_to_gbnf(std::string_view schema_json);
// Any JSON object (OpenAI's response_format json_object).
std::string json_object_gbnf();

}  // namespace wick::constrain
