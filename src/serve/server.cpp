// Accept loop, routing and the generation/embedding handlers (see server.h).
#include "serve/server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <thread>

#include "core/error.h"
#include "serve/event_channel.h"
#include "tokenizer/tokenizer.h"

namespace wick::serve {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

int open_listener(const std::string& host, int port, int& bound_port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0)
    fail(ErrorKind::kIo, "--host {}: {}", host, ::gai_strerror(rc));
  int fd = -1;
  std::string why;
  for (addrinfo* a = res; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 512) != 0) {
      why = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  if (fd < 0) fail(ErrorKind::kIo, "cannot listen on {}:{}: {}", host, port, why);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  bound_port = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                        : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return fd;
}

std::string error_body(const ApiError& e) {
  return dump(error_json(e));
}

std::string json_body(const json& j) {
  return dump(j);
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string base64(const void* data, size_t n) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (i + 1 < n ? uint32_t{p[i + 1]} << 8 : 0) |
                       (i + 2 < n ? uint32_t{p[i + 2]} : 0);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += i + 1 < n ? k[(v >> 6) & 63] : '=';
    out += i + 2 < n ? k[v & 63] : '=';
  }
  return out;
}

// A wick::Error from parsing or the engine, as an HTTP error.
ApiError api_error_from(const Error& e) {
  switch (e.kind()) {
    case ErrorKind::kInvalidArgument:
    case ErrorKind::kParse:
      return ApiError(400, e.what(), "", "invalid_value");
    case ErrorKind::kNotFound:
      return ApiError(404, e.what());
    case ErrorKind::kUnsupported:
      return ApiError(400, e.what(), "", "unsupported");
    default:
      return ApiError(500, e.what());
  }
}

}  // namespace

Server::Server(Engine& engine, ServedModel model, Metrics& metrics, ServerOptions options)
    : engine_(engine), model_(std::move(model)), metrics_(metrics), opt_(std::move(options)) {
  listen_fd_ = open_listener(opt_.host, opt_.port, port_);
}

Server::~Server() {
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void Server::run() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connections_.fetch_add(1) >= opt_.max_connections) {
      HttpConnection c(fd, opt_.limits);
      c.respond(503, "application/json",
                error_body(ApiError(503, "too many connections", "", "server_overloaded")), false,
                "Retry-After: 1\r\n");
      connections_.fetch_sub(1);
      continue;
    }
    std::thread([this, fd] {
      try {
        serve_connection(fd);
      } catch (...) {
        // A connection's failure never takes the server down.
      }
      connections_.fetch_sub(1);
    }).detach();
  }
  ::close(listen_fd_);
  listen_fd_ = -1;
  engine_.drain();  // running requests finish; their connections then close
  const auto give_up = Clock::now() + std::chrono::seconds(30);
  while (connections_.load() > 0 && Clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

void Server::serve_connection(int fd) {
  HttpConnection c(fd, opt_.limits);
  for (;;) {
    HttpRequest req;
    const ReadResult r = c.read(req, [this] { return stopping_.load(); });
    if (r == ReadResult::kClosed) return;
    if (r != ReadResult::kOk) {
      ApiError e(400, "malformed HTTP request");
      if (r == ReadResult::kTimeout) e = ApiError(408, "timed out reading the request");
      if (r == ReadResult::kHeaderTooLarge) e = ApiError(431, "request headers too large");
      if (r == ReadResult::kBodyTooLarge)
        e = ApiError(413, fmt::format("request body larger than {} bytes", opt_.limits.body_bytes),
                     "", "request_too_large");
      metrics_.request("other", e.status);
      c.respond(e.status, "application/json", error_body(e), false);
      return;
    }
    if (!handle(c, req)) return;
  }
}

bool Server::authorized(const HttpRequest& req) const {
  if (opt_.api_key.empty()) return true;
  auto it = req.find(http::field::authorization);
  if (it == req.end()) return false;
  const std::string_view v(it->value().data(), it->value().size());
  return v == "Bearer " + opt_.api_key;
}

bool Server::handle(HttpConnection& c, HttpRequest& req) {
  std::string path(req.target());
  if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
  const bool keep_alive = req.keep_alive() && !stopping_;
  int status = 200;
  bool keep = keep_alive;
  try {
    if (path != "/health" && path != "/metrics" && !authorized(req))
      throw ApiError(401, "missing or invalid API key (Authorization: Bearer ...)", "",
                     "invalid_api_key");
    keep = route(c, req, path, keep_alive, status);
  } catch (const ApiError& e) {
    status = e.status;
    const std::string extra = status == 503 ? "Retry-After: 1\r\n" : "";
    keep = c.respond(status, "application/json", error_body(e), keep_alive, extra) && keep_alive;
  } catch (const Error& e) {
    const ApiError a = api_error_from(e);
    status = a.status;
    keep = c.respond(status, "application/json", error_body(a), keep_alive) && keep_alive;
  } catch (const std::exception& e) {
    status = 500;
    keep = c.respond(500, "application/json", error_body(ApiError(500, e.what())), false);
    keep = false;
  }
  // Known routes only: a client must not grow the label set with made-up paths.
  static const char* const kRoutes[] = {
      "/health",         "/metrics",       "/v1/models", "/v1/chat/completions",
      "/v1/completions", "/v1/embeddings", "/tokenize",  "/detokenize"};
  const bool known = std::find(std::begin(kRoutes), std::end(kRoutes), path) != std::end(kRoutes);
  metrics_.request(known ? path : "other", status);
  return keep;
}

bool Server::route(HttpConnection& c, HttpRequest& req, const std::string& path, bool keep_alive,
                   int& status) {
  const http::verb method = req.method();
  auto need = [&](http::verb v) {
    if (method != v)
      throw ApiError(
          405, fmt::format("{} {}: method not allowed", std::string(req.method_string()), path));
  };
  auto body_json = [&] {  // ordered: schemas in it keep their property order
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(req.body(), nullptr, false);
    if (j.is_discarded())
      throw ApiError(400, "the request body is not valid JSON", "", "invalid_json");
    if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object");
    return j;
  };
  auto ok = [&](const json& j) {
    return c.respond(200, "application/json", json_body(j), keep_alive) && keep_alive;
  };
  if (path == "/health") {
    need(http::verb::get);
    if (stopping_) throw ApiError(503, "shutting down", "", "shutting_down");
    return ok({{"status", "ok"}});
  }
  if (path == "/metrics") {
    need(http::verb::get);
    const Engine::Load l = engine_.load();
    Gauges g{l.waiting,         l.running,           l.kv_blocks_used,
             l.kv_blocks_total, connections_.load(), l.preemptions};
    return c.respond(200, "text/plain; version=0.0.4", metrics_.render(g), keep_alive) &&
           keep_alive;
  }
  if (path == "/v1/models") {
    need(http::verb::get);
    return ok({{"object", "list"},
               {"data", json::array({{{"id", model_.name},
                                      {"object", "model"},
                                      {"created", unix_now()},
                                      {"owned_by", "wick"},
                                      {"max_model_len", model_.max_context}}})}});
  }
  if (path == "/v1/ws") {
    need(http::verb::get);
    if (!boost::beast::websocket::is_upgrade(req))
      throw ApiError(400, "/v1/ws expects a WebSocket upgrade");
    serve_websocket(c, req);
    return false;
  }
  if (path == "/v1/chat/completions" || path == "/v1/completions") {
    need(http::verb::post);
    if (stopping_) throw ApiError(503, "shutting down", "", "shutting_down");
    return generate(c, body_json(), path == "/v1/chat/completions", keep_alive, status);
  }
  if (path == "/v1/embeddings") {
    need(http::verb::post);
    return c.respond(200, "application/json", embeddings(body_json()), keep_alive) && keep_alive;
  }
  if (path == "/tokenize") {
    need(http::verb::post);
    const json b = body_json();
    if (!model_.tokenizer) throw ApiError(400, "the model has no tokenizer");
    if (!b.contains("content") || !b["content"].is_string())
      throw ApiError(400, "field \"content\": expected a string", "content", "invalid_value");
    bool add_special = false, with_pieces = false;
    if (b.contains("add_special") && !(add_special = b["add_special"].is_boolean()))
      throw ApiError(400, "field \"add_special\": expected a boolean", "add_special");
    add_special = add_special && b["add_special"].get<bool>();
    if (b.contains("with_pieces") && !(with_pieces = b["with_pieces"].is_boolean()))
      throw ApiError(400, "field \"with_pieces\": expected a boolean", "with_pieces");
    with_pieces = with_pieces && b["with_pieces"].get<bool>();
    const std::vector<int32_t> ids =
        model_.tokenizer->encode(b["content"].get<std::string>(), add_special);
    json tokens = json::array();
    for (int32_t id : ids) {
      if (!with_pieces) {
        tokens.push_back(id);
        continue;
      }
      const int32_t one[1] = {id};
      tokens.push_back({{"id", id}, {"piece", model_.tokenizer->decode(one, false)}});
    }
    return ok({{"tokens", tokens}});
  }
  if (path == "/detokenize") {
    need(http::verb::post);
    const json b = body_json();
    if (!model_.tokenizer) throw ApiError(400, "the model has no tokenizer");
    std::vector<int32_t> ids;
    if (!b.contains("tokens") || !b["tokens"].is_array())
      throw ApiError(400, "field \"tokens\": expected an array of token ids", "tokens");
    for (const json& t : b["tokens"]) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= model_.vocab_size)
        throw ApiError(400,
                       fmt::format("field \"tokens\": ids must be in [0, {})", model_.vocab_size),
                       "tokens", "invalid_value");
      ids.push_back(static_cast<int32_t>(t.get<int64_t>()));
    }
    return ok({{"content", model_.tokenizer->decode(ids, false)}});
  }
  throw ApiError(404, fmt::format("no route for {} {}", std::string(req.method_string()), path));
}

bool Server::generate(HttpConnection& c, const nlohmann::ordered_json& body, bool chat,
                      bool keep_alive, int& status) {
  const CompletionRequest req = parse_completion(body, chat, model_);
  const uint64_t id = next_request_id_++;
  auto channel = std::make_shared<EventChannel>();
  const Admission a =
      engine_.submit(id, req.spec, [channel](Event ev) { channel->push(std::move(ev)); });
  if (a == Admission::kQueueFull)
    throw ApiError(503, "the request queue is full; retry later", "", "server_overloaded");
  if (a == Admission::kDraining) throw ApiError(503, "shutting down", "", "shutting_down");
  CompletionWriter w(req, model_, fmt::format("{}-{:x}", chat ? "chatcmpl" : "cmpl", id));
  int open = req.spec.n;
  const auto deadline = Clock::now() + std::chrono::milliseconds(
                                           static_cast<int64_t>(opt_.generation_timeout_s * 1e3));
  auto sse = [&](const std::string& data) { return c.chunk("data: " + data + "\n\n"); };
  if (req.stream && !c.begin_chunked(200, "text/event-stream")) {
    engine_.cancel(id);
    return false;
  }
  try {
    while (open > 0) {
      std::vector<Event> events = channel->wait(std::chrono::milliseconds(50));
      if (events.empty()) {
        if (c.peer_gone()) {  // the client left: free its sequences now
          engine_.cancel(id);
          status = 499;
          return false;
        }
        if (Clock::now() > deadline) {
          engine_.cancel(id);
          if (!req.stream) throw ApiError(504, "generation timed out", "", "timeout");
          sse(dump(error_json(ApiError(504, "generation timed out", "", "timeout"))));
          c.end_chunked();
          status = 504;
          return false;
        }
        continue;
      }
      for (const Event& ev : events) {
        if (ev.finish != Finish::kNone) --open;
        if (!req.stream) {
          w.add(ev);
          continue;
        }
        for (const std::string& chunk : w.chunks(ev))
          if (!sse(chunk)) {
            engine_.cancel(id);
            status = 499;
            return false;
          }
      }
    }
  } catch (...) {
    engine_.cancel(id);
    throw;
  }
  if (!req.stream)
    return c.respond(200, "application/json", w.response(), keep_alive) && keep_alive;
  if (req.include_usage && !sse(w.usage_chunk())) return false;
  return sse("[DONE]") && c.end_chunked() && keep_alive;
}

std::string Server::embeddings(const json& body) {
  const std::vector<std::vector<int32_t>> inputs = parse_embedding_input(body, model_);
  const bool b64 = body.contains("encoding_format") && body["encoding_format"] == "base64";
  json data = json::array();
  int64_t tokens = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (static_cast<int64_t>(inputs[i].size()) > model_.max_context)
      throw ApiError(400,
                     fmt::format("input {} has {} tokens; the context holds {}", i,
                                 inputs[i].size(), model_.max_context),
                     "input", "context_length_exceeded");
    tokens += static_cast<int64_t>(inputs[i].size());
    const std::vector<float> e = engine_.embed(inputs[i]);
    json item = {{"object", "embedding"}, {"index", i}};
    if (b64)
      item["embedding"] = base64(e.data(), e.size() * sizeof(float));
    else
      item["embedding"] = e;
    data.push_back(item);
  }
  return dump({{"object", "list"},
               {"data", data},
               {"model", model_.name},
               {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
}

}  // namespace wick::serve
