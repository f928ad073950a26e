// Vocab: arena of token bytes plus a flat string -> id hash table (see vocab.h for why).
#include "tokenizer/vocab.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "core/error.h"

namespace wick::tok {
namespace {

constexpr size_t kBatch = 16;  // lookups in flight at once: about the CPU's miss buffers

void prefetch(const void* p) {
  __builtin_prefetch(p);
}

}  // namespace

uint64_t hash_bytes(std::string_view s) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = s.size() * kMul;
  const char* p = s.data();
  size_t n = s.size();
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = std::rotl((h ^ w) * kMul, 29);
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = std::rotl((h ^ w) * kMul, 29);
  }
  h ^= h >> 33;  // fmix64: the slot index uses the low bits
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return h;
}

std::string_view Vocab::key_at(uint32_t offset) const {
  uint32_t length;
  std::memcpy(&length, arena_.data() + offset, 4);
  return std::string_view(arena_.data() + offset + 4, length);
}

void Vocab::reserve(size_t n, size_t bytes) {
  id_offset_.reserve(n);
  arena_.reserve(bytes + 4 * n);
  size_t capacity = 16;
  while (capacity < 2 * n) capacity *= 2;
  if (capacity <= slots_.size()) return;
  std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(capacity));
  const size_t mask = capacity - 1;
  for (const Slot& s : old) {
    if (s.id < 0) continue;
    size_t i = s.hash & mask;
    while (slots_[i].id >= 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

size_t Vocab::probe(std::string_view token, uint64_t h) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.id < 0 || (s.hash == h && key_at(s.offset) == token)) return i;
  }
}

std::optional<int32_t> Vocab::find(std::string_view token) const {
  if (size_ == 0) return std::nullopt;
  const Slot& s = slots_[probe(token, hash_bytes(token))];
  if (s.id < 0) return std::nullopt;
  return s.id;
}

void Vocab::find_many(std::span<const std::string_view> keys, std::span<int32_t> ids) const {
  if (size_ == 0) {
    std::fill(ids.begin(), ids.end(), -1);
    return;
  }
  const size_t mask = slots_.size() - 1;
  uint64_t hash[kBatch];
  for (size_t b = 0; b < keys.size(); b += kBatch) {
    const size_t n = std::min(kBatch, keys.size() - b);
    for (size_t k = 0; k < n; ++k) {  // 1: hashes, fetch the home slots
      hash[k] = hash_bytes(keys[b + k]);
      prefetch(&slots_[hash[k] & mask]);
    }
    for (size_t k = 0; k < n; ++k) {  // 2: fetch the bytes of the first hash match
      size_t i = hash[k] & mask;
      while (slots_[i].id >= 0 && slots_[i].hash != hash[k]) i = (i + 1) & mask;
      if (slots_[i].id >= 0) prefetch(arena_.data() + slots_[i].offset);
    }
    for (size_t k = 0; k < n; ++k) {  // 3: compare (now from cache)
      const Slot& s = slots_[probe(keys[b + k], hash[k])];
      ids[b + k] = s.id;
    }
  }
}

void Vocab::check(std::string_view token, int32_t id, std::string_view where) const {
  if (id < 0 || id > kMaxTokenId)
    fail(ErrorKind::kParse, "tokenizer.json: {}: token id {} for '{}' is out of range [0, {}]",
         where, id, token, kMaxTokenId);
  if (token.size() > UINT32_MAX - 4 || arena_.size() > UINT32_MAX - 4 - token.size())
    fail(ErrorKind::kParse, "tokenizer.json: {}: tokens exceed 4 GiB in all", where);
}

void Vocab::insert(std::string_view token, uint64_t h, int32_t id) {
  Slot& s = slots_[probe(token, h)];
  if (s.id < 0) {  // new string
    s = {h, static_cast<uint32_t>(arena_.size()), id};
    const auto length = static_cast<uint32_t>(token.size());
    arena_.append(reinterpret_cast<const char*>(&length), 4);
    arena_.append(token);
    ++size_;
  }
  s.id = id;  // a known string now names `id`
  if (static_cast<size_t>(id) >= id_offset_.size())
    id_offset_.resize(static_cast<size_t>(id) + 1, kNone);
  id_offset_[id] = s.offset;
}

void Vocab::add(std::string_view token, int32_t id, std::string_view where) {
  check(token, id, where);
  if (2 * (size_ + 1) > slots_.size()) reserve(std::max<size_t>(8, slots_.size()));
  insert(token, hash_bytes(token), id);
}

void Vocab::add_many(std::span<const std::pair<std::string_view, int32_t>> tokens,
                     std::string_view where) {
  size_t bytes = arena_.size();
  for (const auto& [token, id] : tokens) {
    check(token, id, where);
    bytes += token.size();
  }
  reserve(size_ + tokens.size(), bytes);
  const size_t mask = slots_.size() - 1;
  uint64_t hash[kBatch];
  for (size_t b = 0; b < tokens.size(); b += kBatch) {
    const size_t n = std::min(kBatch, tokens.size() - b);
    for (size_t k = 0; k < n; ++k) {
      hash[k] = hash_bytes(tokens[b + k].first);
      prefetch(&slots_[hash[k] & mask]);
    }
    for (size_t k = 0; k < n; ++k) insert(tokens[b + k].first, hash[k], tokens[b + k].second);
  }
}

}  // namespace wick::tok
