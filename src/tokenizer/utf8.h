// UTF-8 helpers shared by the tokenizer stages: validation with the offending offset, code point
// iteration, lossy decoding that replaces bad bytes the way Rust's from_utf8_lossy (and Python's
// 'replace' handler) do, and the GPT-2 byte <-> printable-character table of byte-level BPE.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wick::tok {

// Byte offset of the first byte that is not part of a well-formed UTF-8 sequence, or npos.
size_t utf8_invalid_offset(std::string_view s);

// Length in bytes of the well-formed sequence starting at s[i] (0 if s[i] starts no valid one).
size_t utf8_sequence_length(std::string_view s, size_t i);

// Decodes the code point at s[i] (which must start a valid sequence) and advances i past it.
char32_t utf8_next(std::string_view s, size_t& i);

void utf8_append(std::string& out, char32_t cp);

// Every maximal invalid subsequence becomes one U+FFFD, as in Rust String::from_utf8_lossy.
std::string utf8_lossy(std::string_view bytes);

// True when s ends with U+FFFD (the streaming decoder holds such text back).
bool ends_with_replacement_char(std::string_view s);

// GPT-2 byte-level alphabet: every byte maps to one printable code point and back.
struct ByteLevelTable {
  std::array<std::string, 256> byte_to_utf8;  // byte -> UTF-8 of its stand-in code point
  std::array<int16_t, 0x200> char_to_byte;    // stand-in code point -> byte, -1 if none
};
const ByteLevelTable& byte_level_table();

}  // namespace wick::tok
