// libFuzzer target for the constrain front ends; the first byte picks what the rest is.
//   0-63:    GBNF text, then "\0" and text that the compiled grammar walks byte by byte;
//   64-127:  a JSON Schema, compiled to GBNF and parsed;
//   128-191: a regex; 192-255: a request body for spec_from_request.
// Any wick::Error is fine; crashes, sanitizer reports, hangs and other exceptions are bugs.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "constrain/constraint.h"
#include "constrain/request.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  using namespace wick::constrain;
  try {
    if (mode < 64) {
      const size_t split = rest.find('\0');
      const Grammar g = parse_gbnf(rest.substr(0, split));
      if (split != std::string_view::npos) (void)grammar_accepts(g, rest.substr(split + 1));
    } else if (mode < 128) {
      (void)spec_to_grammar({SpecKind::kJsonSchema, std::string(rest), {}});
    } else if (mode < 192) {
      const Grammar g = spec_to_grammar({SpecKind::kRegex, std::string(rest), {}});
      (void)grammar_accepts(g, rest);
    } else {
      const nlohmann::json body = nlohmann::json::parse(rest, nullptr, false);
      if (!body.is_discarded())
        if (auto spec = spec_from_request(body)) (void)spec_to_grammar(*spec);
    }
  } catch (const wick::Error&) {
  }
  return 0;
}
