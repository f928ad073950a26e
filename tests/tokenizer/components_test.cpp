// Tokenizer building blocks against independent references: regex character classes over every
// Unicode scalar value and lossy UTF-8 decoding (both from Python / HF tokenizers, see
// scripts/tokenizer_golden.py), and the split behaviours HF documents.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"
#include "tokenizer_files.h"

namespace wick::tok {
namespace {

nlohmann::json unicode_golden() {
  const auto text = testing::read_file(testing::test_data_dir() + "/golden_unicode.json");
  if (!text) throw std::runtime_error("missing tests/data/tokenizer/golden_unicode.json");
  return nlohmann::json::parse(*text);
}

// Every scalar value once, in order, and where each starts in bytes.
struct AllChars {
  std::string text;
  std::vector<size_t> offset_to_cp;  // byte offset -> code point (only at starts)
  AllChars() : offset_to_cp() {
    for (char32_t cp = 0; cp < 0x110000; ++cp) {
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      const size_t at = text.size();
      utf8_append(text, cp);
      offset_to_cp.resize(text.size(), 0);
      offset_to_cp[at] = cp;
    }
  }
};

using CodePointSet = std::vector<bool>;  // indexed by code point

CodePointSet matched_by(const std::string& pattern, const AllChars& all) {
  CodePointSet set(0x110000, false);
  for (const Match& m : Pattern(pattern, true).find_all(all.text))
    for (size_t at = m.begin; at < m.end; at += utf8_sequence_length(all.text, at))
      set[all.offset_to_cp[at]] = true;
  return set;
}

// HF's Oniguruma knows Unicode 16, PCRE2 10.42 Unicode 14: characters assigned since then are
// allowed to differ, and nothing else. Everything else must classify identically.
TEST(RegexClasses, MatchOnigurumaOverAllCodePoints) {
  const auto golden = unicode_golden();
  static const AllChars all;
  const CodePointSet unassigned = matched_by("\\p{Cn}", all);
  for (const auto& [pattern, ranges] : golden["classes"].items()) {
    CodePointSet want(0x110000, false);
    for (const auto& r : ranges)
      for (uint32_t cp = r[0]; cp <= r[1].get<uint32_t>(); ++cp) want[cp] = true;
    const CodePointSet got = matched_by(pattern, all);
    int newer_unicode = 0, wrong = 0;
    for (uint32_t cp = 0; cp < 0x110000; ++cp) {
      if (want[cp] == got[cp]) continue;
      if (unassigned[cp]) {
        ++newer_unicode;
      } else if (++wrong <= 5) {
        ADD_FAILURE() << pattern << fmt::format(": U+{:04X} ", cp)
                      << (want[cp] ? "should" : "should not") << " match";
      }
    }
    EXPECT_EQ(wrong, 0) << pattern;
    EXPECT_LT(newer_unicode, 12000) << pattern;  // the Unicode 15-16 additions, not more
  }
}

TEST(Utf8, LossyDecodingMatchesPython) {
  const auto golden = unicode_golden();
  for (const auto& c : golden["lossy"]) {
    const std::string hex = c["hex"];
    std::string bytes;
    for (size_t i = 0; i < hex.size(); i += 2)
      bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    EXPECT_EQ(utf8_lossy(bytes), c["text"].get<std::string>()) << hex;
  }
}

TEST(Utf8, InvalidOffsetFindsFirstBadByte) {
  EXPECT_EQ(utf8_invalid_offset("abc"), std::string_view::npos);
  EXPECT_EQ(utf8_invalid_offset("ab\xC3"), 2u);            // truncated
  EXPECT_EQ(utf8_invalid_offset("\xC0\xAF"), 0u);          // overlong
  EXPECT_EQ(utf8_invalid_offset("a\xED\xA0\x80"), 1u);     // surrogate
  EXPECT_EQ(utf8_invalid_offset("\xF4\x90\x80\x80"), 0u);  // beyond U+10FFFF
  EXPECT_EQ(utf8_invalid_offset("\xE2\x82\xAC\xF0\x9F\x98\x80"), std::string_view::npos);
}

TEST(Utf8, ByteLevelTableIsABijection) {
  const ByteLevelTable& t = byte_level_table();
  for (int b = 0; b < 256; ++b) {
    size_t i = 0;
    const char32_t cp = utf8_next(t.byte_to_utf8[b], i);
    ASSERT_LT(cp, t.char_to_byte.size());
    EXPECT_EQ(t.char_to_byte[cp], b);
  }
  EXPECT_EQ(t.byte_to_utf8[' '], "\xC4\xA0");  // GPT-2's 'Ġ'
  EXPECT_EQ(t.byte_to_utf8['A'], "A");
}

std::vector<std::string> split_dashes(SplitBehavior behavior, bool invert = false) {
  const Piece piece{"The-final--countdown", true};
  std::vector<Piece> out;
  split_piece(piece, Pattern("-", false).find_all(piece.text), behavior, invert, out);
  std::vector<std::string> texts;
  for (const Piece& p : out) texts.push_back(p.text);
  return texts;
}

// The examples of HF's SplitDelimiterBehavior documentation.
TEST(SplitPiece, BehavioursMatchHfDocumentation) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split_dashes(SplitBehavior::kRemoved), (V{"The", "final", "countdown"}));
  EXPECT_EQ(split_dashes(SplitBehavior::kIsolated),
            (V{"The", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split_dashes(SplitBehavior::kMergedWithPrevious),
            (V{"The-", "final-", "-", "countdown"}));
  EXPECT_EQ(split_dashes(SplitBehavior::kMergedWithNext), (V{"The", "-final", "-", "-countdown"}));
  EXPECT_EQ(split_dashes(SplitBehavior::kContiguous), (V{"The", "-", "final", "--", "countdown"}));
  EXPECT_EQ(split_dashes(SplitBehavior::kRemoved, true), (V{"-", "-", "-"}));
}

TEST(RegexEngine, EmptyMatchesAdvanceByOneCharacter) {
  const auto matches = Pattern("x*", true).find_all("a\xC3\xA9x");
  ASSERT_EQ(matches.size(), 4u);  // "" at 0, "" at 1 (before é), "x" at 3, "" at the end
  EXPECT_EQ(matches[1].begin, 1u);
  EXPECT_EQ(matches[2].begin, 3u);
  EXPECT_EQ(matches[2].end, 4u);
  EXPECT_EQ(matches[3].begin, 4u);
}

}  // namespace
}  // namespace wick::tok
