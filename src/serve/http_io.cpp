// Deadline-bounded HTTP/1.1 reads and writes on a raw socket (see http_io.h).
#include "serve/http_io.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace wick::serve {

namespace {

using Clock = std::chrono::steady_clock;

Deadline after(double seconds) {
  return Clock::now() + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
}

int ms_until(Deadline d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 200));  // short slices: re-check stop flags
}

}  // namespace

const char* status_text(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 101:
      return "Switching Protocols";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

HttpConnection::~HttpConnection() {
  ::shutdown(fd_, SHUT_RDWR);
  ::close(fd_);
}

ReadResult HttpConnection::read_impl(HttpRequest& out, bool (*stopping)(const void*),
                                     const void* ctx) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(limits_.header_bytes);
  parser.body_limit(limits_.body_bytes);
  parser.eager(true);
  bool started = !buffer_.empty();
  const Deadline idle_end = after(limits_.idle_timeout_s);
  Deadline request_end = after(limits_.request_timeout_s);
  char tmp[16384];
  for (;;) {
    if (!buffer_.empty()) {
      boost::beast::error_code ec;
      const size_t used = parser.put(boost::asio::buffer(buffer_), ec);
      buffer_.erase(0, used);
      if (ec == http::error::header_limit) return ReadResult::kHeaderTooLarge;
      if (ec == http::error::body_limit) return ReadResult::kBodyTooLarge;
      if (ec && ec != http::error::need_more) return ReadResult::kBadRequest;
      if (parser.is_done()) {
        out = parser.release();
        return ReadResult::kOk;
      }
      if (!ec && used > 0) continue;
    }
    const Deadline deadline = started ? request_end : idle_end;
    if (Clock::now() >= deadline) return started ? ReadResult::kTimeout : ReadResult::kClosed;
    if (!started && stopping(ctx)) return ReadResult::kClosed;
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, ms_until(deadline));
    if (r < 0 && errno != EINTR) return ReadResult::kClosed;
    if (r <= 0) continue;
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n == 0) return started ? ReadResult::kBadRequest : ReadResult::kClosed;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return ReadResult::kClosed;
    }
    if (!started) {
      started = true;
      request_end = after(limits_.request_timeout_s);
    }
    buffer_.append(tmp, static_cast<size_t>(n));
  }
}

Deadline HttpConnection::write_deadline() const {
  return after(limits_.request_timeout_s);
}

bool HttpConnection::send(std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    if (Clock::now() >= deadline) return false;
    pollfd p{fd_, POLLOUT, 0};
    const int r = ::poll(&p, 1, ms_until(deadline));
    if (r < 0 && errno != EINTR) return false;
    if (r <= 0) continue;
    if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return false;
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool HttpConnection::peer_gone() const {
  pollfd p{fd_, POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

bool HttpConnection::respond(int status, std::string_view content_type, std::string_view body,
                             bool keep_alive, std::string_view extra_headers) {
  std::string head = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n{}\r\n",
      status, status_text(status), content_type, body.size(), keep_alive ? "keep-alive" : "close",
      extra_headers);
  head += body;
  return send(head);
}

bool HttpConnection::begin_chunked(int status, std::string_view content_type) {
  return send(
      fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nCache-Control: no-cache\r\n"
                  "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n",
                  status, status_text(status), content_type));
}

bool HttpConnection::chunk(std::string_view data) {
  if (data.empty()) return true;  // an empty chunk would end the body
  return send(fmt::format("{:x}\r\n{}\r\n", data.size(), data));
}

bool HttpConnection::end_chunked() {
  return send("0\r\n\r\n");
}

}  // namespace wick::serve
