// Helpers for format tests: a little-endian byte builder for hand-made (often malformed) files,
// a per-test temporary directory, and expectations on wick::Error kinds and messages.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace wick::test {

struct Bytes {
  std::vector<uint8_t> data;

  template <class T>
  Bytes& put(T v) {
    const size_t at = data.size();
    data.resize(at + sizeof(T));
    std::memcpy(data.data() + at, &v, sizeof(T));
    return *this;
  }
  Bytes& u32(uint32_t v) { return put(v); }
  Bytes& u64(uint64_t v) { return put(v); }
  Bytes& str(std::string_view s) {
    u64(s.size());
    return raw(s);
  }
  Bytes& raw(std::string_view s) {
    // resize + memcpy rather than insert: g++ 12 warns falsely on insert into an empty vector.
    const size_t at = data.size();
    data.resize(at + s.size());
    if (!s.empty()) std::memcpy(data.data() + at, s.data(), s.size());
    return *this;
  }
  Bytes& pad_to(size_t alignment) {
    data.resize((data.size() + alignment - 1) / alignment * alignment, 0);
    return *this;
  }
  Bytes& zeros(size_t n) {
    data.resize(data.size() + n, 0);
    return *this;
  }
};

// A fresh directory under the system temp dir, removed when the test ends.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            (std::string("wick_formats_") + info->test_suite_name() + "_" + info->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::vector<uint8_t>& bytes) const {
    const std::string p = file(name);
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  std::string write(const std::string& name, std::string_view text) const {
    const std::string p = file(name);
    std::ofstream(p, std::ios::binary)
        .write(text.data(), static_cast<std::streamsize>(text.size()));
    return p;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs fn, expects a wick::Error of `kind` whose message contains every fragment.
inline void expect_error(const std::function<void()>& fn, ErrorKind kind,
                         std::initializer_list<std::string_view> fragments) {
  try {
    fn();
    ADD_FAILURE() << "expected a wick::Error (" << error_kind_name(kind) << ")";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    for (std::string_view f : fragments) {
      EXPECT_NE(std::string_view(e.what()).find(f), std::string_view::npos)
          << "message lacks '" << f << "': " << e.what();
    }
  }
}

inline std::string data_dir() {
  return std::string(WICK_SOURCE_DIR) + "/tests/data/formats";
}

}  // namespace wick::test
