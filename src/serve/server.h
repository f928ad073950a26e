// Server: the OpenAI-compatible HTTP/1.1 front of an Engine on one port. A thread per
// connection reads requests (keep-alive, pipelining), routes them, and for generation waits on
// the engine's events, writing SSE chunks as they come; a client that disconnects cancels its
// request. request_stop() drains: no new connections or requests, running ones finish.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "serve/engine.h"
#include "serve/http_io.h"
#include "serve/metrics.h"
#include "serve/openai_api.h"

namespace wick::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;      // 0: any free port (see Server::port())
  std::string api_key;  // empty: no auth
  HttpLimits limits;
  int max_connections = 512;
  double generation_timeout_s = 600;  // a request that runs longer is cancelled
};

class Server {
 public:
  // Binds the port (throws kIo naming host:port when it cannot).
  Server(Engine& engine, ServedModel model, Metrics& metrics, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return port_; }
  // Serves until request_stop(); then drains and returns.
  void run();
  void request_stop() { stopping_ = true; }

 private:
  void serve_connection(int fd);
  // Returns false when the connection must close.
  bool handle(HttpConnection& c, HttpRequest& req);
  bool route(HttpConnection& c, HttpRequest& req, const std::string& path, bool keep_alive,
             int& status);
  bool generate(HttpConnection& c, const nlohmann::ordered_json& body, bool chat, bool keep_alive,
                int& status);
  std::string embeddings(const nlohmann::json& body);
  void serve_websocket(HttpConnection& c, HttpRequest& req);
  bool authorized(const HttpRequest& req) const;

  Engine& engine_;
  ServedModel model_;
  Metrics& metrics_;
  ServerOptions opt_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<uint64_t> next_request_id_{1};
};

}  // namespace wick::serve
