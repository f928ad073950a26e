// HttpConnection: one client socket, read and written with deadlines. Requests are parsed by
// Beast's parser fed from poll()-guarded reads (Asio's blocking reads cannot time out), and
// responses are written with poll()-guarded sends, so a slow or silent client can hold a
// connection thread only until its idle or request deadline. Also: chunked (SSE) responses and
// noticing that the peer went away while the engine works.
#pragma once

#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace wick::serve {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using Deadline = std::chrono::steady_clock::time_point;

struct HttpLimits {
  uint32_t header_bytes = 16 * 1024;
  uint64_t body_bytes = 4 * 1024 * 1024;
  double idle_timeout_s = 60;     // keep-alive: wait for the next request
  double request_timeout_s = 30;  // reading one request once it began
};

enum class ReadResult { kOk, kClosed, kTimeout, kHeaderTooLarge, kBodyTooLarge, kBadRequest };

class HttpConnection {
 public:
  HttpConnection(int fd, HttpLimits limits) : fd_(fd), limits_(limits) {}
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  int fd() const { return fd_; }
  // Reads the next request. `stopping` is polled while idle: true ends the wait (kClosed).
  template <class StopFn>
  ReadResult read(HttpRequest& out, const StopFn& stopping);
  // Writes all of `data` before `deadline`; false when the peer is gone or too slow.
  bool send(std::string_view data, Deadline deadline);
  bool send(std::string_view data) { return send(data, write_deadline()); }
  // True when the peer closed or reset its side (checked without blocking).
  bool peer_gone() const;
  Deadline write_deadline() const;
  // Bytes read past the end of the last request (pipelining); consumed by the next read.
  std::string& leftover() { return buffer_; }

  // A complete response with Content-Length.
  bool respond(int status, std::string_view content_type, std::string_view body, bool keep_alive,
               std::string_view extra_headers = {});
  // Chunked response (Server-Sent Events): header, chunks, then the terminating chunk.
  bool begin_chunked(int status, std::string_view content_type);
  bool chunk(std::string_view data);
  bool end_chunked();

 private:
  ReadResult read_impl(HttpRequest& out, bool (*stopping)(const void*), const void* ctx);
  int fd_;
  HttpLimits limits_;
  std::string buffer_;
};

template <class StopFn>
ReadResult HttpConnection::read(HttpRequest& out, const StopFn& stopping) {
  return read_impl(
      out, [](const void* ctx) { return (*static_cast<const StopFn*>(ctx))(); }, &stopping);
}

const char* status_text(int status);

}  // namespace wick::serve
