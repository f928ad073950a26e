// OpenAI request parsing and response building (see openai_api.h).
#include "serve/openai_api.h"

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <mutex>
#include <random>

#include "constrain/constraint.h"
#include "constrain/request.h"
#include "core/error.h"
#include "generate/sampling_json.h"
#include "serve/tool_calls.h"
#include "serve/tool_request.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace wick::serve {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

ApiError::ApiError(int status_, std::string message, std::string param_, std::string code_)
    : std::runtime_error(std::move(message)),
      status(status_),
      type(status_ >= 500 ? "server_error" : "invalid_request_error"),
      param(std::move(param_)),
      code(std::move(code_)) {
  if (status == 401) type = "authentication_error";
  if (status == 404 && code.empty()) code = "not_found";
}

json error_json(const ApiError& e) {
  json err = {{"message", e.what()}, {"type", e.type}, {"param", nullptr}, {"code", nullptr}};
  if (!e.param.empty()) err["param"] = e.param;
  if (!e.code.empty()) err["code"] = e.code;
  return {{"error", err}};
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

[[noreturn]] void bad_field(const std::string& name, const std::string& expected) {
  throw ApiError(400, fmt::format("field \"{}\": expected {}", name, expected), name,
                 "invalid_value");
}

// The field, or null when absent or null.
template <class J>
const J* field(const J& body, const std::string& name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

bool bool_field(const json& body, const std::string& name, bool def) {
  const json* v = field(body, name);
  if (!v) return def;
  if (!v->is_boolean()) bad_field(name, "a boolean");
  return v->get<bool>();
}

int64_t int_field(const json& body, const std::string& name, int64_t def, int64_t lo, int64_t hi) {
  const json* v = field(body, name);
  if (!v) return def;
  const std::string expected = fmt::format("an integer in [{}, {}]", lo, hi);
  if (v->is_number_unsigned()) {
    const auto u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(hi) || (lo > 0 && u < static_cast<uint64_t>(lo)))
      bad_field(name, expected);
    return static_cast<int64_t>(u);
  }
  if (!v->is_number_integer()) bad_field(name, expected);
  const auto x = v->get<int64_t>();
  if (x < lo || x > hi) bad_field(name, expected);
  return x;
}

// Every sampler field of the request (OpenAI, llama.cpp, vLLM and Ollama names), checked by
// gen::sampling_from_json; its errors name the field, which becomes the error's param.
void parse_sampling(const json& body, gen::SamplingParams& p) {
  p.seed = std::random_device{}();  // unless the request names one
  try {
    gen::sampling_from_json(body, p);
  } catch (const Error& e) {
    std::string param;
    const std::string msg = e.what();
    if (auto at = msg.find("field \""); at != std::string::npos) {
      const size_t begin = at + 7;
      param = msg.substr(begin, msg.find('"', begin) - begin);
    }
    throw ApiError(400, msg, param, "invalid_value");
  }
}

// Constrained decoding: OpenAI response_format, llama.cpp grammar / json_schema, vLLM
// structured_outputs and guided_* compile (once per distinct spec, cached) into a Constraint;
// each choice gets its own Matcher over it. A spec that does not parse or cannot be enforced is
// a 400 before anything runs.
class GrammarConstraint : public TokenConstraint {
 public:
  explicit GrammarConstraint(std::shared_ptr<const constrain::Constraint> c)
      : matcher_(std::move(c)) {}
  void allowed(std::vector<uint64_t>& bits) override {
    bits.resize(matcher_.constraint().mask_words());
    matcher_.allowed_tokens(bits);
  }
  void accept(int32_t id) override { matcher_.accept_token(id); }

 private:
  constrain::Matcher matcher_;
};

const char* constraint_field(const ojson& body) {
  for (const char* name : {"response_format", "grammar", "json_schema", "structured_outputs",
                           "guided_json", "guided_regex", "guided_choice", "guided_grammar"})
    if (field(body, name)) return name;
  return "";
}

std::shared_ptr<const constrain::Constraint> compile_cached(const constrain::Spec& spec,
                                                            const ServedModel& m) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const constrain::Constraint>> cache;
  std::string key = fmt::format("{}\n{}", constrain::spec_kind_name(spec.kind), spec.source);
  for (const std::string& c : spec.choices) key += "\n" + c;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  auto compiled = constrain::compile(spec, *m.tokenizer, m.eos_ids);
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() >= 64) cache.clear();  // bounded: distinct specs are rare in practice
  cache.emplace(key, compiled);
  return compiled;
}

// body: ordered, so that a schema's properties keep the client's order in the output.
void parse_constraint(const ojson& body, RequestSpec& spec, const ServedModel& m,
                      const ToolsRequest* tools) {
  std::optional<constrain::Spec> cs;
  std::shared_ptr<const constrain::Constraint> compiled;
  std::string name = constraint_field(body);
  try {
    cs = constrain::spec_from_request(body);
    if (tools && tools->constrained()) {  // tool_choice required / a named function
      if (cs)
        throw ApiError(400,
                       fmt::format("tool_choice and {}: a request may carry only one output "
                                   "constraint",
                                   name),
                       "tool_choice", "invalid_value");
      cs = constrain::Spec{constrain::SpecKind::kGrammar, tool_call_gbnf(*tools), {}};
      name = "tools";
    }
    if (!cs) return;
    if (m.tokenizer == nullptr)
      throw ApiError(400, "constrained output needs the model's tokenizer, which it lacks", name,
                     "unsupported");
    compiled = compile_cached(*cs, m);
  } catch (const Error& e) {
    throw ApiError(400, e.what(), name, "invalid_value");
  }
  spec.constraint = [compiled] { return std::make_unique<GrammarConstraint>(compiled); };
}

std::vector<std::string> parse_stop(const json& body) {
  const json* v = field(body, "stop");
  if (!v) return {};
  if (v->is_string()) return {v->get<std::string>()};
  if (!v->is_array() || v->size() > 16) bad_field("stop", "a string or up to 16 strings");
  std::vector<std::string> out;
  for (const json& s : *v) {
    if (!s.is_string() || s.get<std::string>().empty())
      bad_field("stop", "a string or up to 16 non-empty strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

std::vector<int32_t> ids_from_json(const json& a, const std::string& name, int64_t vocab) {
  std::vector<int32_t> ids;
  for (const json& t : a) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= vocab)
      bad_field(name, fmt::format("token ids in [0, {})", vocab));
    ids.push_back(static_cast<int32_t>(t.get<int64_t>()));
  }
  return ids;
}

const tok::Tokenizer& need_tokenizer(const ServedModel& m, const char* what) {
  if (!m.tokenizer) throw ApiError(400, fmt::format("{}: the model has no tokenizer", what));
  return *m.tokenizer;
}

// An assistant turn's tool_calls and a tool turn's tool_call_id, as OpenAI defines them.
void check_tool_turn(const ojson& msg, const std::string& name) {
  if (const ojson* calls = field(msg, "tool_calls")) {
    if (!calls->is_array()) bad_field(name + ".tool_calls", "an array of tool calls");
    for (size_t k = 0; k < calls->size(); ++k) {
      const ojson& tc = (*calls)[k];
      const std::string at = fmt::format("{}.tool_calls[{}]", name, k);
      const ojson* fn = tc.is_object() ? field(tc, "function") : nullptr;
      if (!fn || !fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string())
        bad_field(at,
                  "an object {\"id\", \"type\": \"function\", \"function\": {\"name\", "
                  "\"arguments\"}}");
      if (const ojson* a = field(*fn, "arguments"); a && !a->is_string() && !a->is_object())
        bad_field(at + ".function.arguments", "a JSON string");
    }
  }
  if (const ojson* id = field(msg, "tool_call_id"); id && !id->is_string())
    bad_field(name + ".tool_call_id", "a string");
}

std::vector<int32_t> chat_prompt(const ojson& body, const ServedModel& m,
                                 const ToolsRequest& tools) {
  const ojson* msgs = field(body, "messages");
  if (!msgs || !msgs->is_array() || msgs->empty())
    bad_field("messages", "a non-empty array of messages");
  for (size_t i = 0; i < msgs->size(); ++i) {
    const ojson& msg = (*msgs)[i];
    const std::string name = fmt::format("messages[{}]", i);
    if (!msg.is_object()) bad_field(name, "an object");
    if (!msg.contains("role") || !msg["role"].is_string()) bad_field(name + ".role", "a string");
    if (msg.contains("content") && !msg["content"].is_null() && !msg["content"].is_string() &&
        !msg["content"].is_array())
      bad_field(name + ".content", "a string or an array of content parts");
    check_tool_turn(msg, name);
  }
  if (!m.chat_template)
    throw ApiError(400, "the model has no chat template; use /v1/completions", "messages");
  std::string text;
  try {
    text = m.chat_template->render(messages_for_template(*msgs, tools, m.chat_template->source()),
                                   true, tools.tools);
  } catch (const Error& e) {
    throw ApiError(400, fmt::format("messages: the chat template failed: {}", e.what()),
                   "messages");
  }
  return need_tokenizer(m, "messages").encode(text, false);
}

std::vector<int32_t> completion_prompt(const json& body, const ServedModel& m) {
  const json* p = field(body, "prompt");
  const char* expected = "a string, an array of token ids, or an array holding one of them";
  if (!p) bad_field("prompt", expected);
  if (p->is_array() && p->size() == 1 && ((*p)[0].is_string() || (*p)[0].is_array()))
    p = &(*p)[0];  // a batch of one prompt
  if (p->is_string()) return need_tokenizer(m, "prompt").encode(p->get<std::string>(), true);
  if (p->is_array()) return ids_from_json(*p, "prompt", m.vocab_size);
  bad_field("prompt", expected);
}

}  // namespace

void check_model(const json& body, const ServedModel& m) {
  const json* model = field(body, "model");
  if (!model) return;
  if (!model->is_string()) bad_field("model", "a string");
  if (model->get<std::string>() != m.name)
    throw ApiError(404,
                   fmt::format("model \"{}\" does not exist; this server serves \"{}\"",
                               model->get<std::string>(), m.name),
                   "model", "model_not_found");
}

CompletionRequest parse_completion(const json& body, bool chat, const ServedModel& m) {
  return parse_completion(ojson(body), chat, m);
}

CompletionRequest parse_completion(const ojson& obody, bool chat, const ServedModel& m) {
  if (!obody.is_object()) throw ApiError(400, "the request body must be a JSON object");
  const json body = obody;  // the scalar fields; schemas and messages are read from obody
  check_model(body, m);
  CompletionRequest r;
  r.chat = chat;
  RequestSpec& s = r.spec;
  ToolsRequest tools;
  if (chat) {
    tools =
        parse_tools(obody, m.chat_template ? tool_format_from_template(m.chat_template->source())
                                           : ToolFormat::kHermes);
    if (tools.parse_output()) r.tools = std::make_shared<const ToolsRequest>(tools);
  }
  s.prompt = chat ? chat_prompt(obody, m, tools) : completion_prompt(body, m);
  const char* prompt_field = chat ? "messages" : "prompt";
  if (s.prompt.empty()) bad_field(prompt_field, "a non-empty prompt");
  const auto len = static_cast<int64_t>(s.prompt.size());
  if (len >= m.max_context)
    throw ApiError(400,
                   fmt::format("the prompt has {} tokens; this model's context holds {} (prompt "
                               "and completion)",
                               len, m.max_context),
                   prompt_field, "context_length_exceeded");
  const int64_t room = m.max_context - len;
  int64_t max_tokens = int_field(body, "max_tokens", chat ? room : 16, 1, 1 << 30);
  if (chat) max_tokens = int_field(body, "max_completion_tokens", max_tokens, 1, 1 << 30);
  s.max_tokens = static_cast<int>(std::min(max_tokens, room));
  s.n = static_cast<int>(int_field(body, "n", 1, 1, 128));
  s.stop = parse_stop(body);
  s.sampling = m.defaults;
  parse_sampling(body, s.sampling);
  s.ignore_eos = s.sampling.ignore_eos;
  s.logprobs = s.sampling.logprobs;
  s.top_logprobs = s.sampling.top_logprobs;
  if (s.top_logprobs > 20)
    throw ApiError(400, "field \"top_logprobs\": expected an integer in [0, 20]", "top_logprobs",
                   "invalid_value");
  if (chat && s.top_logprobs > 0 && !s.logprobs)
    throw ApiError(400, "top_logprobs needs logprobs: true", "top_logprobs", "invalid_value");
  if (!chat && bool_field(body, "echo", false))
    throw ApiError(400, "echo is not supported", "echo", "unsupported");
  r.stream = bool_field(body, "stream", false);
  if (const json* so = field(body, "stream_options")) {
    if (!so->is_object()) bad_field("stream_options", "an object");
    r.include_usage = bool_field(*so, "include_usage", false);
  }
  parse_constraint(obody, s, m, r.tools.get());
  return r;
}

std::vector<std::vector<int32_t>> parse_embedding_input(const json& body, const ServedModel& m) {
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object");
  check_model(body, m);
  if (const json* f = field(body, "encoding_format"))
    if (!f->is_string() || (*f != "float" && *f != "base64"))
      bad_field("encoding_format", "\"float\" or \"base64\"");
  const json* in = field(body, "input");
  const char* expected = "a string, an array of strings, or token id arrays";
  if (!in) bad_field("input", expected);
  std::vector<std::vector<int32_t>> out;
  auto one = [&](const json& x) {
    if (x.is_string()) {
      out.push_back(need_tokenizer(m, "input").encode(x.get<std::string>(), true));
    } else if (x.is_array()) {
      out.push_back(ids_from_json(x, "input", m.vocab_size));
    } else {
      bad_field("input", expected);
    }
    if (out.back().empty()) bad_field("input", "non-empty inputs");
  };
  if (in->is_array() && !in->empty() && !(*in)[0].is_number()) {
    if (in->size() > 256) bad_field("input", "at most 256 inputs");
    for (const json& x : *in) one(x);
  } else {
    one(*in);
  }
  return out;
}

// ---- responses ----

CompletionWriter::CompletionWriter(const CompletionRequest& req, const ServedModel& m,
                                   std::string id)
    : req_(req),
      m_(m),
      id_(std::move(id)),
      created_(std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count()),
      choices_(static_cast<size_t>(req.spec.n)) {}

json CompletionWriter::usage() const {
  const auto prompt = static_cast<int64_t>(req_.spec.prompt.size());
  return {{"prompt_tokens", prompt},
          {"completion_tokens", completion_tokens_},
          {"total_tokens", prompt + completion_tokens_}};
}

json CompletionWriter::chunk_base() const {
  json j = {{"id", id_},
            {"object", req_.chat ? "chat.completion.chunk" : "text_completion"},
            {"created", created_},
            {"model", m_.name}};
  if (req_.include_usage) j["usage"] = nullptr;
  return j;
}

json CompletionWriter::logprobs_json(const std::vector<TokenOut>& tokens,
                                     size_t text_offset) const {
  auto piece = [&](int32_t id) {
    const int32_t one[1] = {id};
    return m_.tokenizer ? m_.tokenizer->decode(one, false) : std::to_string(id);
  };
  auto bytes = [](const std::string& s) {
    json b = json::array();
    for (unsigned char c : s) b.push_back(static_cast<int>(c));
    return b;
  };
  if (req_.chat) {
    json content = json::array();
    for (const TokenOut& t : tokens) {
      const std::string p = piece(t.id);
      json top = json::array();
      for (const TokenAlt& a : t.top) {
        const std::string ap = piece(a.id);
        top.push_back({{"token", ap}, {"logprob", a.logprob}, {"bytes", bytes(ap)}});
      }
      content.push_back(
          {{"token", p}, {"logprob", t.logprob}, {"bytes", bytes(p)}, {"top_logprobs", top}});
    }
    return {{"content", content}};
  }
  json out = {{"tokens", json::array()},
              {"token_logprobs", json::array()},
              {"top_logprobs", json::array()},
              {"text_offset", json::array()}};
  for (const TokenOut& t : tokens) {
    const std::string p = piece(t.id);
    out["tokens"].push_back(p);
    out["token_logprobs"].push_back(t.logprob);
    json top = json::object();
    for (const TokenAlt& a : t.top) top[piece(a.id)] = a.logprob;
    out["top_logprobs"].push_back(top);
    out["text_offset"].push_back(text_offset);
    text_offset += p.size();
  }
  return out;
}

std::vector<std::string> CompletionWriter::chunks(const Event& ev) {
  Choice& c = choices_[static_cast<size_t>(ev.choice)];
  completion_tokens_ += static_cast<int64_t>(ev.tokens.size());
  std::vector<std::string> out;
  auto choice_json = [&](json delta_or_text, json logprobs, json finish) {
    json ch = {{"index", ev.choice},
               {"logprobs", std::move(logprobs)},
               {"finish_reason", std::move(finish)}};
    if (req_.chat)
      ch["delta"] = std::move(delta_or_text);
    else
      ch["text"] = std::move(delta_or_text);
    json j = chunk_base();
    j["choices"] = json::array({ch});
    return dump(j);
  };
  if (req_.chat && !c.started)
    out.push_back(choice_json({{"role", "assistant"}, {"content", ""}}, nullptr, nullptr));
  c.started = true;
  if (req_.tools && ev.finish != Finish::kError) {  // content and tool-call deltas
    std::vector<json> deltas = tool_deltas(c, ev);
    const bool lp = req_.spec.logprobs && !ev.tokens.empty();
    if (deltas.empty() && lp) deltas.push_back(json::object());
    for (size_t k = 0; k < deltas.size(); ++k)
      out.push_back(choice_json(std::move(deltas[k]),
                                k == 0 && lp ? logprobs_json(ev.tokens, c.text.size()) : json(),
                                nullptr));
    c.text += ev.text;
    if (ev.finish != Finish::kNone) {
      const bool calls = c.tool_parser->calls() > 0 && ev.finish == Finish::kStop;
      out.push_back(choice_json(json::object(), nullptr,
                                calls ? "tool_calls" : finish_reason_name(ev.finish)));
    }
    return out;
  }
  if (!ev.text.empty() || (req_.spec.logprobs && !ev.tokens.empty())) {
    json lp = req_.spec.logprobs ? logprobs_json(ev.tokens, c.text.size()) : json(nullptr);
    out.push_back(choice_json(req_.chat ? json{{"content", ev.text}} : json(ev.text), lp, nullptr));
  }
  c.text += ev.text;
  if (ev.finish == Finish::kError) {
    out.push_back(dump(error_json(ApiError(500, ev.error))));
  } else if (ev.finish != Finish::kNone) {
    out.push_back(
        choice_json(req_.chat ? json::object() : json(""), nullptr, finish_reason_name(ev.finish)));
  }
  return out;
}

std::vector<json> CompletionWriter::tool_deltas(Choice& c, const Event& ev) {
  if (!c.tool_parser)
    c.tool_parser = std::make_shared<ToolCallParser>(req_.tools->parser_options());
  std::vector<ToolCallDelta> ds;
  c.tool_parser->feed(ev.text, ds);
  if (ev.finish != Finish::kNone) c.tool_parser->finish(ds);
  std::vector<json> out;
  for (ToolCallDelta& d : ds) {
    if (d.kind == ToolCallDelta::kContent) {
      out.push_back({{"content", std::move(d.text)}});
      continue;
    }
    json call = {{"index", d.index}};
    if (d.kind == ToolCallDelta::kCallStart) {
      call["id"] = d.id;
      call["type"] = "function";
      call["function"] = {{"name", d.text}, {"arguments", ""}};
    } else {
      call["function"] = {{"arguments", d.text}};
    }
    out.push_back({{"tool_calls", json::array({call})}});
  }
  return out;
}

json CompletionWriter::message_json(const Choice& c, std::string& finish) const {
  if (!req_.tools) return {{"role", "assistant"}, {"content", c.text}};
  const ParsedMessage pm = parse_tool_output(c.text, req_.tools->parser_options());
  json msg = {{"role", "assistant"}, {"content", pm.content}};
  if (pm.calls.empty()) return msg;
  if (pm.content.empty()) msg["content"] = nullptr;
  json calls = json::array();
  for (const ParsedToolCall& call : pm.calls)
    calls.push_back({{"id", call.id},
                     {"type", "function"},
                     {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
  msg["tool_calls"] = calls;
  if (c.finish == Finish::kStop) finish = "tool_calls";
  return msg;
}

std::string CompletionWriter::usage_chunk() const {
  json j = chunk_base();
  j["choices"] = json::array();
  j["usage"] = usage();
  return dump(j);
}

void CompletionWriter::add(const Event& ev) {
  Choice& c = choices_[static_cast<size_t>(ev.choice)];
  c.text += ev.text;
  c.tokens.insert(c.tokens.end(), ev.tokens.begin(), ev.tokens.end());
  completion_tokens_ += static_cast<int64_t>(ev.tokens.size());
  if (ev.finish != Finish::kNone) c.finish = ev.finish;
  if (ev.finish == Finish::kError) throw ApiError(500, ev.error);
}

std::string CompletionWriter::response() const {
  json choices = json::array();
  for (size_t i = 0; i < choices_.size(); ++i) {
    const Choice& c = choices_[i];
    json lp = req_.spec.logprobs ? logprobs_json(c.tokens, 0) : json(nullptr);
    std::string finish = finish_reason_name(c.finish);
    json ch = {{"index", i}, {"logprobs", lp}};
    if (req_.chat)
      ch["message"] = message_json(c, finish);
    else
      ch["text"] = c.text;
    ch["finish_reason"] = finish;
    choices.push_back(ch);
  }
  json j = {{"id", id_},           {"object", req_.chat ? "chat.completion" : "text_completion"},
            {"created", created_}, {"model", m_.name},
            {"choices", choices},  {"usage", usage()}};
  return dump(j);
}

}  // namespace wick::serve
