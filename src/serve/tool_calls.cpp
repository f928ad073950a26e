// The tool-call parser (see tool_calls.h). A small state machine over the undecided text:
// plain text (looking for the format's opening marker, holding back a possible partial one), a
// call being buffered until it is complete ("auto"), or a call whose header / arguments / tail
// are read as the grammar wrote them (constrained modes, arguments streamed piece by piece).
#include "serve/tool_calls.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>

namespace wick::serve {

namespace {

using ojson = nlohmann::ordered_json;

constexpr std::string_view kWs = " \t\r\n";
constexpr std::string_view kHermesOpen = "<tool_call>";
constexpr std::string_view kHermesClose = "</tool_call>";
constexpr std::string_view kPythonTag = "<|python_tag|>";
constexpr std::string_view kMistralOpen = "[TOOL_CALLS]";

bool is_ws(char c) {
  return kWs.find(c) != std::string_view::npos;
}

std::string_view open_marker(ToolFormat f) {
  switch (f) {
    case ToolFormat::kHermes:
      return kHermesOpen;
    case ToolFormat::kLlama3:
      return kPythonTag;
    case ToolFormat::kMistral:
      return kMistralOpen;
  }
  return kHermesOpen;
}

// The length of the longest suffix of `s` that is a proper prefix of `marker`.
size_t partial_marker(std::string_view s, std::string_view marker) {
  for (size_t k = std::min(s.size(), marker.size() - 1); k > 0; --k)
    if (s.substr(s.size() - k) == marker.substr(0, k)) return k;
  return 0;
}

std::string new_call_id() {
  static constexpr char kAlnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id += kAlnum[rng() % (sizeof(kAlnum) - 1)];
  return id;
}

// A call object {"name": ..., "arguments" | "parameters": object or JSON text of one}; false
// when it is not one or names an undeclared function.
bool call_from_json(const ojson& j, const std::vector<std::string>& names, std::string& name,
                    std::string& args) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) return false;
  name = j["name"].get<std::string>();
  if (!names.empty() && std::find(names.begin(), names.end(), name) == names.end()) return false;
  const ojson* a = nullptr;
  if (j.contains("arguments"))
    a = &j["arguments"];
  else if (j.contains("parameters"))
    a = &j["parameters"];
  if (a == nullptr) {
    args = "{}";
    return true;
  }
  if (a->is_string()) {  // some models write the arguments as a JSON string
    const ojson inner = ojson::parse(a->get<std::string>(), nullptr, false);
    if (inner.is_discarded() || !inner.is_object()) return false;
    args = inner.dump();
    return true;
  }
  if (!a->is_object()) return false;
  args = a->dump(-1, ' ', false, ojson::error_handler_t::replace);
  return true;
}

// Llama 3: one or more call objects separated by whitespace or ';'. Mistral: a JSON array of
// them. Each as (name, arguments); empty when the text is not entirely calls.
std::vector<std::pair<std::string, std::string>> call_sequence(std::string_view text, ToolFormat f,
                                                               const std::vector<std::string>& n) {
  std::vector<std::pair<std::string, std::string>> calls;
  std::vector<ojson> objects;
  if (f == ToolFormat::kMistral) {
    const ojson arr = ojson::parse(text, nullptr, false);
    if (arr.is_discarded() || !arr.is_array()) return {};
    objects.assign(arr.begin(), arr.end());
  } else {
    size_t i = 0;
    while (i < text.size()) {
      if (is_ws(text[i]) || text[i] == ';') {
        ++i;
        continue;
      }
      if (text[i] != '{') return {};
      size_t end = i;  // find the end of this object
      int depth = 0;
      bool str = false, esc = false;
      for (; end < text.size(); ++end) {
        const char c = text[end];
        if (str) {
          if (esc)
            esc = false;
          else if (c == '\\')
            esc = true;
          else if (c == '"')
            str = false;
          continue;
        }
        if (c == '"') str = true;
        if (c == '{' || c == '[') ++depth;
        if ((c == '}' || c == ']') && --depth == 0) break;
      }
      if (end >= text.size()) return {};
      const ojson j = ojson::parse(text.substr(i, end + 1 - i), nullptr, false);
      if (j.is_discarded()) return {};
      objects.push_back(j);
      i = end + 1;
    }
  }
  for (const ojson& j : objects) {
    std::string name, args;
    if (!call_from_json(j, n, name, args)) return {};
    calls.emplace_back(std::move(name), std::move(args));
  }
  return calls;
}

}  // namespace

const char* tool_format_name(ToolFormat f) {
  switch (f) {
    case ToolFormat::kHermes:
      return "hermes";
    case ToolFormat::kLlama3:
      return "llama3_json";
    case ToolFormat::kMistral:
      return "mistral";
  }
  return "hermes";
}

ToolFormat tool_format_from_template(std::string_view s) {
  auto has = [&](std::string_view x) { return s.find(x) != std::string_view::npos; };
  if (has(kMistralOpen)) return ToolFormat::kMistral;
  if (has(kHermesOpen)) return ToolFormat::kHermes;
  if (has(kPythonTag) || (has("<|start_header_id|>") && has("tools") && has("\"parameters\"")))
    return ToolFormat::kLlama3;
  return ToolFormat::kHermes;
}

ToolCallParser::ToolCallParser(ToolParserOptions opt) : opt_(std::move(opt)) {}

void ToolCallParser::push(ToolCallDelta d, std::vector<ToolCallDelta>& out) {
  if (d.kind != ToolCallDelta::kCallStart && !out.empty() && out.back().kind == d.kind &&
      out.back().index == d.index) {
    out.back().text += d.text;
    return;
  }
  out.push_back(std::move(d));
}

void ToolCallParser::content(std::string_view text, std::vector<ToolCallDelta>& out) {
  if (text.empty()) return;
  const size_t last = text.find_last_not_of(kWs);
  if (last == std::string_view::npos) {
    pending_ws_ += text;
    return;
  }
  push({ToolCallDelta::kContent, 0, pending_ws_ + std::string(text.substr(0, last + 1)), {}}, out);
  pending_ws_ = std::string(text.substr(last + 1));
  seen_text_ = true;
}

void ToolCallParser::start_call(const std::string& name, std::vector<ToolCallDelta>& out) {
  dropping_ = !opt_.parallel && calls_ >= 1;
  if (dropping_) return;
  pending_ws_.clear();  // whitespace next to a call is layout, not content
  push({ToolCallDelta::kCallStart, calls_, name, new_call_id()}, out);
  ++calls_;
}

bool ToolCallParser::emit_call(std::string_view object_text, std::vector<ToolCallDelta>& out) {
  const ojson j = ojson::parse(object_text, nullptr, false);
  std::string name, args;
  if (j.is_discarded() || !call_from_json(j, opt_.names, name, args)) return false;
  start_call(name, out);
  if (!dropping_) push({ToolCallDelta::kArguments, calls_ - 1, args, {}}, out);
  return true;
}

void ToolCallParser::enter_call(std::string prefix) {
  call_prefix_ = std::move(prefix);
  if (!opt_.constrained)
    state_ = State::kBuffered;
  else
    state_ = opt_.format == ToolFormat::kMistral ? State::kStreamTail : State::kStreamHeader;
}

bool ToolCallParser::step_text(std::vector<ToolCallDelta>& out) {
  if (buf_.empty()) return false;
  if (opt_.format != ToolFormat::kHermes && !seen_text_) {
    // Llama 3 and Mistral calls may come without their (special-token) marker: the output
    // then starts with the call's JSON.
    const size_t i = buf_.find_first_not_of(kWs);
    if (i == std::string::npos) {
      content(buf_, out);
      buf_.clear();
      return false;
    }
    const std::string_view rest = std::string_view(buf_).substr(i);
    const std::string_view marker = open_marker(opt_.format);
    if (rest.size() < marker.size() && marker.substr(0, rest.size()) == rest)
      return false;  // maybe the marker: wait
    if (rest.substr(0, marker.size()) != marker &&
        buf_[i] == (opt_.format == ToolFormat::kLlama3 ? '{' : '[')) {
      content(std::string_view(buf_).substr(0, i), out);  // held like any whitespace
      buf_.erase(0, i);
      enter_call("");
      return true;
    }
  }
  const std::string_view marker = open_marker(opt_.format);
  if (const size_t pos = buf_.find(marker); pos != std::string::npos) {
    content(std::string_view(buf_).substr(0, pos), out);
    buf_.erase(0, pos + marker.size());
    enter_call(std::string(marker));
    return true;
  }
  const size_t keep = partial_marker(buf_, marker);
  content(std::string_view(buf_).substr(0, buf_.size() - keep), out);
  buf_.erase(0, buf_.size() - keep);
  return false;
}

bool ToolCallParser::step_buffered(std::vector<ToolCallDelta>& out) {
  if (opt_.format != ToolFormat::kHermes) return false;  // decided when the output ends
  const size_t pos = buf_.find(kHermesClose);
  if (pos == std::string::npos) return false;
  const std::string raw = call_prefix_ + buf_.substr(0, pos + kHermesClose.size());
  const std::string body = buf_.substr(0, pos);
  buf_.erase(0, pos + kHermesClose.size());
  state_ = State::kText;
  if (!emit_call(body, out)) content(raw, out);  // a malformed call stays content
  return true;
}

// Reads `{"name": "F", "arguments": ` (or "parameters") at the start of the buffer.
bool ToolCallParser::step_header(std::vector<ToolCallDelta>& out) {
  size_t i = 0;
  const size_t n = buf_.size();
  auto ws = [&] {
    while (i < n && is_ws(buf_[i])) ++i;
  };
  // 1: matched (and consumed), 0: the buffer ends inside it, -1: something else is there.
  auto lit = [&](std::string_view s) {
    for (size_t k = 0; k < s.size(); ++k) {
      if (i + k >= n) return 0;
      if (buf_[i + k] != s[k]) return -1;
    }
    i += s.size();
    return 1;
  };
  auto fail = [&] {
    state_ = State::kBuffered;  // not the grammar's layout: decide on the complete call
    return true;
  };
  std::string name;
  for (std::string_view piece : {"{", "\"name\"", ":", "\""}) {
    ws();
    const int r = lit(piece);
    if (r < 0) return fail();
    if (r == 0) return false;
  }
  while (i < n && buf_[i] != '"') {
    if (buf_[i] == '\\') return fail();
    name += buf_[i++];
  }
  if (i >= n) return false;
  ++i;
  for (std::string_view piece : {",", "\""}) {
    ws();
    const int r = lit(piece);
    if (r < 0) return fail();
    if (r == 0) return false;
  }
  int r = lit("arguments\"");
  if (r < 0) r = lit("parameters\"");
  if (r < 0) return fail();
  if (r == 0) return false;
  ws();
  r = lit(":");
  if (r < 0) return fail();
  if (r == 0) return false;
  if (!opt_.names.empty() &&
      std::find(opt_.names.begin(), opt_.names.end(), name) == opt_.names.end())
    return fail();
  buf_.erase(0, i);
  start_call(name, out);
  state_ = State::kStreamArgs;
  depth_ = 0;
  in_string_ = escape_ = value_started_ = false;
  return true;
}

bool ToolCallParser::step_args(std::vector<ToolCallDelta>& out) {
  std::string piece;
  size_t i = 0;
  bool done = false;
  for (; i < buf_.size() && !done; ++i) {
    const char c = buf_[i];
    if (!value_started_ && is_ws(c)) continue;
    value_started_ = true;
    piece += c;
    if (in_string_) {
      if (escape_)
        escape_ = false;
      else if (c == '\\')
        escape_ = true;
      else if (c == '"')
        in_string_ = false;
    } else if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      --depth_;
    }
    done = !in_string_ && depth_ <= 0;
  }
  buf_.erase(0, i);
  if (!piece.empty() && !dropping_) push({ToolCallDelta::kArguments, calls_ - 1, piece, {}}, out);
  if (done) state_ = State::kStreamTail;
  return done;
}

bool ToolCallParser::step_tail() {
  if (opt_.format == ToolFormat::kHermes) {
    const size_t pos = buf_.find(kHermesClose);
    if (pos == std::string::npos) return false;
    buf_.erase(0, pos + kHermesClose.size());
    state_ = State::kText;
    return true;
  }
  size_t i = 0;
  for (; i < buf_.size(); ++i) {
    const char c = buf_[i];
    if (c == '{') {
      state_ = State::kStreamHeader;
      break;
    }
    if (!is_ws(c) && std::string_view(",;[]}").find(c) == std::string_view::npos) {
      state_ = State::kText;
      seen_text_ = true;  // no marker-less call can start here
      break;
    }
  }
  buf_.erase(0, i);
  return state_ != State::kStreamTail;
}

bool ToolCallParser::step(std::vector<ToolCallDelta>& out) {
  switch (state_) {
    case State::kText:
      return step_text(out);
    case State::kBuffered:
      return step_buffered(out);
    case State::kStreamHeader:
      return step_header(out);
    case State::kStreamArgs:
      return step_args(out);
    case State::kStreamTail:
      return step_tail();
    case State::kDone:
      return false;
  }
  return false;
}

void ToolCallParser::feed(std::string_view text, std::vector<ToolCallDelta>& out) {
  if (state_ == State::kDone) return;
  buf_ += text;
  while (step(out)) {
  }
}

void ToolCallParser::finish(std::vector<ToolCallDelta>& out) {
  if (state_ == State::kDone) return;
  while (step(out)) {
  }
  switch (state_) {
    case State::kText:
      content(buf_, out);
      break;
    case State::kBuffered:
      if (opt_.format == ToolFormat::kHermes) {  // no closing tag: the call may still be whole
        if (!emit_call(buf_, out)) content(call_prefix_ + buf_, out);
        break;
      }
      if (auto seq = call_sequence(buf_, opt_.format, opt_.names); !seq.empty()) {
        for (auto& [name, args] : seq) {
          start_call(name, out);
          if (!dropping_) push({ToolCallDelta::kArguments, calls_ - 1, args, {}}, out);
        }
      } else {
        content(call_prefix_ + buf_, out);
      }
      break;
    case State::kStreamHeader:  // cut off before the name was complete
      content(buf_, out);
      break;
    default:  // a streamed call (complete or cut off) is already out
      break;
  }
  if (calls_ == 0 && !pending_ws_.empty()) push({ToolCallDelta::kContent, 0, pending_ws_, {}}, out);
  pending_ws_.clear();
  buf_.clear();
  state_ = State::kDone;
}

void apply_deltas(const std::vector<ToolCallDelta>& deltas, ParsedMessage& msg) {
  for (const ToolCallDelta& d : deltas) {
    if (d.kind == ToolCallDelta::kContent) {
      msg.content += d.text;
    } else if (d.kind == ToolCallDelta::kCallStart) {
      msg.calls.push_back({d.id, d.text, ""});
    } else if (d.index >= 0 && static_cast<size_t>(d.index) < msg.calls.size()) {
      msg.calls[static_cast<size_t>(d.index)].arguments += d.text;
    }
  }
}

ParsedMessage parse_tool_output(std::string_view text, const ToolParserOptions& opt) {
  ToolCallParser p(opt);
  std::vector<ToolCallDelta> deltas;
  p.feed(text, deltas);
  p.finish(deltas);
  ParsedMessage msg;
  apply_deltas(deltas, msg);
  return msg;
}

}  // namespace wick::serve
