// The OpenAI JSON dialect: request bodies of /v1/chat/completions, /v1/completions and
// /v1/embeddings turned into engine RequestSpecs (every field checked, errors naming it), and
// engine Events turned back into OpenAI's response objects and stream chunks. No sockets here.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "serve/engine.h"

namespace wick::tok {
class Tokenizer;
class ChatTemplate;
}  // namespace wick::tok

namespace wick::serve {

struct ToolsRequest;
class ToolCallParser;

// An error the client caused (or must know about), in OpenAI's shape:
// {"error": {"message", "type", "param", "code"}} with an HTTP status.
struct ApiError : std::runtime_error {
  ApiError(int status_, std::string message, std::string param_ = {}, std::string code_ = {});
  int status;
  std::string type, param, code;
};
nlohmann::json error_json(const ApiError& e);

struct ServedModel {
  std::string name;
  const tok::Tokenizer* tokenizer = nullptr;
  const tok::ChatTemplate* chat_template = nullptr;
  int64_t max_context = 0;
  int64_t vocab_size = 0;
  std::vector<int32_t> eos_ids;  // end a constrained output where its grammar accepts
  gen::SamplingParams defaults;  // fields a request does not name
};

struct CompletionRequest {
  bool chat = false;
  bool stream = false;
  bool include_usage = false;
  RequestSpec spec;
  std::shared_ptr<const ToolsRequest> tools;  // chat with tools (tool_request.h); else null
};

// Throws ApiError (400 naming the field, 404 for an unknown model). The ordered form keeps the
// key order of schemas (response_format, tools' parameters) and messages as the client sent it.
CompletionRequest parse_completion(const nlohmann::ordered_json& body, bool chat,
                                   const ServedModel& m);
CompletionRequest parse_completion(const nlohmann::json& body, bool chat, const ServedModel& m);
// The inputs of an embeddings request as token lists.
std::vector<std::vector<int32_t>> parse_embedding_input(const nlohmann::json& body,
                                                        const ServedModel& m);
// Checks body["model"] (absent is fine) against the served name.
void check_model(const nlohmann::json& body, const ServedModel& m);

// Builds the responses of one completion request from its events.
class CompletionWriter {
 public:
  CompletionWriter(const CompletionRequest& req, const ServedModel& m, std::string id);
  // Stream: the chunks (JSON texts) one event becomes, in order.
  std::vector<std::string> chunks(const Event& ev);
  // Stream: the usage chunk (choices: []) sent before [DONE] when include_usage.
  std::string usage_chunk() const;
  // Non-stream: records the event; response() once every choice finished.
  void add(const Event& ev);
  std::string response() const;
  int64_t completion_tokens() const { return completion_tokens_; }

 private:
  struct Choice {
    std::string text;
    std::vector<TokenOut> tokens;
    Finish finish = Finish::kNone;
    bool started = false;                         // stream: the role chunk went out
    std::shared_ptr<ToolCallParser> tool_parser;  // stream with tools: parses as text comes
  };
  // Stream with tools: the delta objects one event's text (and its finish) becomes.
  std::vector<nlohmann::json> tool_deltas(Choice& c, const Event& ev);
  nlohmann::json message_json(const Choice& c, std::string& finish) const;
  nlohmann::json logprobs_json(const std::vector<TokenOut>& tokens, size_t text_offset) const;
  nlohmann::json usage() const;
  nlohmann::json chunk_base() const;

  const CompletionRequest& req_;
  const ServedModel& m_;
  std::string id_;
  int64_t created_;
  std::vector<Choice> choices_;
  int64_t completion_tokens_ = 0;
};

// JSON text for the wire: invalid UTF-8 (a token that is half a character) becomes U+FFFD.
std::string dump(const nlohmann::json& j);

}  // namespace wick::serve
