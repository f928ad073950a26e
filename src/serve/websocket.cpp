// /v1/ws: OpenAI completions over a WebSocket. Each text message from the client is a request
// body (with "messages": chat, else "prompt": completion); the server answers with the same JSON
// chunks as the SSE stream, then "[DONE]". While a request runs, the client may send
// {"type": "cancel"}, which frees its sequences and ends the stream with "[DONE]".
// Every read and write has a deadline (Beast's async operations run on a private io_context for
// a bounded time), so a client that sends half a frame or stops reading cannot pin the thread.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <fmt/format.h>

#include "serve/event_channel.h"
#include "serve/server.h"

namespace wick::serve {

namespace websocket = boost::beast::websocket;
using nlohmann::json;
using tcp = boost::asio::ip::tcp;

namespace {

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

// Runs one asynchronous socket operation started by `start(handler)` for at most `limit`; on
// timeout the socket's operations are cancelled. True when it completed without error.
template <class Start>
bool run_bounded(boost::asio::io_context& ioc, tcp::socket& sock, std::chrono::milliseconds limit,
                 Start start) {
  bool done = false;
  boost::beast::error_code result;
  start([&](boost::beast::error_code ec, std::size_t) {
    done = true;
    result = ec;
  });
  ioc.restart();
  ioc.run_for(limit);
  if (!done) {
    boost::beast::error_code ignored;
    sock.cancel(ignored);
    ioc.restart();
    ioc.run();  // completes the cancelled handler
    return false;
  }
  return !result;
}

}  // namespace

void Server::serve_websocket(HttpConnection& c, HttpRequest& req) {
  boost::asio::io_context ioc;
  tcp::socket sock(ioc);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(c.fd(), reinterpret_cast<sockaddr*>(&ss), &len);
  sock.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), ::dup(c.fd()));
  websocket::stream<tcp::socket&> ws(sock);
  ws.read_message_max(opt_.limits.body_bytes);
  ws.accept(req);
  ws.text(true);
  // Once a frame has begun (or a write started), the rest must pass within the request timeout;
  // after a timeout the stream is unusable and the connection closes.
  const auto io_limit =
      std::chrono::milliseconds(static_cast<int64_t>(opt_.limits.request_timeout_s * 1000));
  bool broken = false;
  auto send = [&](const std::string& text) {
    if (broken) return false;
    broken = !run_bounded(ioc, sock, io_limit, [&](auto handler) {
      ws.async_write(boost::asio::buffer(text), handler);
    });
    return !broken;
  };
  auto receive = [&](std::string& out) {
    if (broken) return false;
    boost::beast::flat_buffer buf;
    broken = !run_bounded(ioc, sock, io_limit,
                          [&](auto handler) { ws.async_read(buf, handler); });
    if (broken) return false;
    out = boost::beast::buffers_to_string(buf.data());
    return true;
  };
  const auto idle_ms = static_cast<int>(opt_.limits.idle_timeout_s * 1000);
  for (;;) {
    int waited = 0;
    while (!readable(c.fd(), 200)) {
      waited += 200;
      if (stopping_ || waited >= idle_ms) return;
    }
    std::string text;
    if (!receive(text)) return;
    uint64_t id = 0;
    try {
      const nlohmann::ordered_json body = nlohmann::ordered_json::parse(text, nullptr, false);
      if (body.is_discarded() || !body.is_object())
        throw ApiError(400, "a message must be a JSON object", "", "invalid_json");
      if (body.contains("type") && body["type"] == "cancel") continue;  // nothing runs
      if (stopping_) throw ApiError(503, "shutting down", "", "shutting_down");
      CompletionRequest r = parse_completion(body, body.contains("messages"), model_);
      r.stream = true;
      id = next_request_id_++;
      auto channel = std::make_shared<EventChannel>();
      const Admission a =
          engine_.submit(id, r.spec, [channel](Event ev) { channel->push(std::move(ev)); });
      if (a != Admission::kAccepted)
        throw ApiError(503, "the server is busy or shutting down", "", "server_overloaded");
      CompletionWriter w(r, model_, fmt::format("{}-{:x}", r.chat ? "chatcmpl" : "cmpl", id));
      int open = r.spec.n;
      bool cancelled = false;
      while (open > 0 && !cancelled) {
        for (const Event& ev : channel->wait(std::chrono::milliseconds(20))) {
          if (ev.finish != Finish::kNone) --open;
          for (const std::string& chunk : w.chunks(ev))
            if (!send(chunk)) {
              engine_.cancel(id);
              return;
            }
        }
        if (open > 0 && readable(c.fd(), 0)) {
          std::string msg;
          if (!receive(msg)) {
            engine_.cancel(id);
            return;
          }
          const json m = json::parse(msg, nullptr, false);
          if (m.is_object() && m.contains("type") && m["type"] == "cancel") {
            engine_.cancel(id);
            cancelled = true;
          } else {
            send(dump(
                error_json(ApiError(409, "a request is running; send {\"type\": \"cancel\"}"))));
          }
        }
      }
      if (r.include_usage && !cancelled) send(w.usage_chunk());
      metrics_.request("/v1/ws", 200);
      if (!send("[DONE]")) return;
    } catch (const ApiError& e) {
      if (id) engine_.cancel(id);
      metrics_.request("/v1/ws", e.status);
      if (!send(dump(error_json(e)))) return;
    } catch (const Error& e) {
      if (id) engine_.cancel(id);
      metrics_.request("/v1/ws", 400);
      if (!send(dump(error_json(ApiError(400, e.what()))))) return;
    }
  }
}

}  // namespace wick::serve
