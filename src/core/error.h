// Errors in wick: one exception type carrying a kind and a message with context.
// Library code throws wick::Error; boundaries (CLI, server, C API) catch it and turn it into an
// exit code or an HTTP status by kind. Messages say what was wrong and where (file, offset, field).
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace wick {

enum class ErrorKind {
  kInvalidArgument,  // caller passed something wrong (shape mismatch, bad flag value)
  kParse,            // untrusted input did not parse (file, JSON, template)
  kIo,               // the OS refused (open, read, mmap)
  kNotFound,         // a named thing is missing (tensor, file, model)
  kUnsupported,      // well-formed but not implemented (dtype on a backend, template syntax)
  kOutOfMemory,      // allocation failed
  kInternal,         // a bug in wick
};

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  explicit Error(const std::string& message) : Error(ErrorKind::kInvalidArgument, message) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// fail(kind, "tensor {}: offset {} beyond end", name, off): format and throw.
template <class... Args>
[[noreturn]] void fail(ErrorKind kind, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(kind, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace wick

// WICK_CHECK(cond, kind, "format", args...): throw an Error when cond is false.
#define WICK_CHECK(cond, kind, ...)                    \
  do {                                                 \
    if (!(cond)) ::wick::fail(::wick::kind, __VA_ARGS__); \
  } while (0)

// Internal invariant: a failure is a bug in wick, not bad input.
#define WICK_ASSERT(cond)                                                                    \
  do {                                                                                       \
    if (!(cond))                                                                             \
      ::wick::fail(::wick::ErrorKind::kInternal, "internal check failed: {} ({}:{})", #cond, \
                   __FILE__, __LINE__);                                                      \
  } while (0)
