// Token <-> id tables of a tokenization model. Built once per tokenizer with 10^5-10^6 entries
// (Gemma 3: 262k tokens, 515k merges = 1.5M lookups while loading), so building and lookups
// are made cheap: token bytes live in one arena, the string -> id index is a flat open-addressing
// table (no heap node or string per token), and the batch calls overlap the cache misses of
// many independent lookups instead of waiting for each in turn.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wick::tok {

// Largest id a tokenizer file may use: bounds the id -> token table a hostile file can demand.
inline constexpr int64_t kMaxTokenId = (int64_t{1} << 24) - 1;

// 64-bit hash of a byte string (8 bytes per step, murmur-style final mix).
uint64_t hash_bytes(std::string_view s);

// Ids may have gaps; token() gives nullopt for a gap. Adding a token string twice maps it to the
// last id; adding an id twice makes its token the last one (the first string keeps its id).
class Vocab {
 public:
  // Throws Error(kParse) naming `where` for ids outside [0, kMaxTokenId].
  void add(std::string_view token, int32_t id, std::string_view where);
  // The same for many tokens, in order.
  void add_many(std::span<const std::pair<std::string_view, int32_t>> tokens,
                std::string_view where);
  // Pre-sizes for n tokens of about `bytes` bytes in all (avoids rehashing while loading).
  void reserve(size_t n, size_t bytes = 0);

  std::optional<int32_t> find(std::string_view token) const;
  // ids[k] = id of keys[k], or -1 when absent.
  void find_many(std::span<const std::string_view> keys, std::span<int32_t> ids) const;
  std::optional<std::string_view> token(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= id_offset_.size() || id_offset_[id] == kNone)
      return std::nullopt;
    return key_at(id_offset_[id]);
  }
  size_t size() const { return size_; }                                         // distinct tokens
  int32_t id_limit() const { return static_cast<int32_t>(id_offset_.size()); }  // max id + 1

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Slot {
    uint64_t hash = 0;
    uint32_t offset = 0;  // of the token in arena_
    int32_t id = -1;      // -1: empty slot
  };
  // arena_ holds each distinct token as a 4-byte length followed by its bytes.
  std::string_view key_at(uint32_t offset) const;
  // Slot of `token` (hash h): the matching one, or the empty one where it would go.
  size_t probe(std::string_view token, uint64_t h) const;
  void insert(std::string_view token, uint64_t h, int32_t id);
  void check(std::string_view token, int32_t id, std::string_view where) const;

  std::string arena_;
  std::vector<uint32_t> id_offset_;  // id -> arena offset of its token, or kNone
  std::vector<Slot> slots_;          // power of two, load <= 1/2, linear probing
  size_t size_ = 0;
};

}  // namespace wick::tok
