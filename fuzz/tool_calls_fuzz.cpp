// libFuzzer target for the tool-call parser (src/serve/tool_calls.cpp). The first byte picks
// the syntax (Hermes, Llama 3, Mistral), constrained or not, parallel or not, and where the
// rest is cut in two; the rest is model output. Fed whole or in two pieces, or byte by byte,
// the parser must give the same content and calls, and every call's arguments must be JSON
// (or, constrained, a prefix the grammar would have continued). Crashes and hangs are bugs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "serve/tool_calls.h"

using namespace wick::serve;

namespace {

ParsedMessage run(const ToolParserOptions& o, std::string_view text, size_t cut, bool bytewise) {
  ToolCallParser p(o);
  std::vector<ToolCallDelta> deltas;
  if (bytewise) {
    for (char c : text) p.feed(std::string_view(&c, 1), deltas);
  } else {
    p.feed(text.substr(0, cut), deltas);
    p.feed(text.substr(cut), deltas);
  }
  p.finish(deltas);
  ParsedMessage m;
  apply_deltas(deltas, m);
  return m;
}

void same(const ParsedMessage& a, const ParsedMessage& b) {
  if (a.content != b.content || a.calls.size() != b.calls.size()) std::abort();
  for (size_t i = 0; i < a.calls.size(); ++i)
    if (a.calls[i].name != b.calls[i].name || a.calls[i].arguments != b.calls[i].arguments)
      std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  ToolParserOptions o;
  o.format = static_cast<ToolFormat>(mode % 3);
  o.constrained = (mode / 3) % 2 == 1;
  o.parallel = (mode / 6) % 2 == 0;
  if ((mode / 12) % 2 == 0) o.names = {"get_weather", "search", "f"};
  const size_t cut = text.empty() ? 0 : (mode * 131u) % (text.size() + 1);
  const ParsedMessage whole = parse_tool_output(text, o);
  same(whole, run(o, text, cut, false));
  same(whole, run(o, text, 0, true));
  if (!o.constrained)  // auto mode reports only complete, valid calls
    for (const ParsedToolCall& c : whole.calls)
      if (nlohmann::json::parse(c.arguments, nullptr, false).is_discarded()) std::abort();
  return 0;
}
