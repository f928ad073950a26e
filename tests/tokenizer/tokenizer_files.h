// Test helpers: load the real tokenizers of ../shared (xz-compressed tokenizer.json, or GPT-2's
// encoder.json + vocab.bpe turned into a tokenizer.json) and the small trained ones committed
// under tests/data/tokenizer/. Missing shared data makes the caller skip, not fail.
#pragma once

#include <lzma.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "tokenizer/tokenizer.h"

namespace wick::tok::testing {

inline std::string xz_decompress(const std::string& in, const std::string& path) {
  lzma_stream strm = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&strm, UINT64_MAX, 0) != LZMA_OK) throw std::runtime_error("lzma init");
  std::string out;
  char buf[1 << 16];
  strm.next_in = reinterpret_cast<const uint8_t*>(in.data());
  strm.avail_in = in.size();
  lzma_ret ret = LZMA_OK;
  while (ret == LZMA_OK) {
    strm.next_out = reinterpret_cast<uint8_t*>(buf);
    strm.avail_out = sizeof(buf);
    ret = lzma_code(&strm, LZMA_FINISH);
    out.append(buf, sizeof(buf) - strm.avail_out);
  }
  lzma_end(&strm);
  if (ret != LZMA_STREAM_END) throw std::runtime_error("corrupt xz file " + path);
  return out;
}

inline std::optional<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  std::string data = ss.str();
  if (path.ends_with(".xz")) return xz_decompress(data, path);
  return data;
}

inline std::string shared_tokenizer_dir() {
  return std::string(WICK_SHARED_DIR) + "/testdata/tokenizers";
}
inline std::string test_data_dir() {
  return std::string(WICK_SOURCE_DIR) + "/tests/data/tokenizer";
}

// GPT-2 ships a vocab and a merges file; HF builds it as BPE + ByteLevel (regex on).
inline std::optional<std::string> gpt2_json() {
  const auto vocab = read_file(shared_tokenizer_dir() + "/gpt2/encoder.json.xz");
  const auto merges_text = read_file(shared_tokenizer_dir() + "/gpt2/vocab.bpe.xz");
  if (!vocab || !merges_text) return std::nullopt;
  nlohmann::json merges = nlohmann::json::array();
  std::istringstream lines(*merges_text);
  std::string line;
  std::getline(lines, line);  // "#version: 0.2"
  while (std::getline(lines, line))
    if (!line.empty()) merges.push_back(line);
  nlohmann::json j = {
      {"model", {{"type", "BPE"}, {"vocab", nlohmann::json::parse(*vocab)}, {"merges", merges}}},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"decoder", {{"type", "ByteLevel"}}}};
  return j.dump();
}

inline std::optional<std::string> tokenizer_json(const std::string& name) {
  if (name == "gpt2") return gpt2_json();
  if (auto local = read_file(test_data_dir() + "/" + name + ".tokenizer.json")) return local;
  return read_file(shared_tokenizer_dir() + "/" + name + "/tokenizer.json.xz");
}

}  // namespace wick::tok::testing
