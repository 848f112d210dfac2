// BertNormalizer with alignments: each normalized byte points at the original code point it came from.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/wordpiece/normalizer.hpp"

namespace bertcpp::tokenizer {
namespace {

NormalizedText run(const NormalizerOptions& o, const std::string& text) {
  NormalizedText out;
  Normalizer(o).normalize(text, 0, text.size(), out);
  EXPECT_EQ(out.text.size(), out.orig.size());
  return out;
}

using Orig = std::vector<std::uint32_t>;

TEST(TokenizerNormalizer, CleanTextDropsControlsAndMapsWhitespaceKeepingOffsets) {
  // a \x01 b U+200B c \t d U+3000 e U+FFFD \0 f
  const std::string text = "a\x01" "b\xE2\x80\x8B" "c\td\xE3\x80\x80" "e\xEF\xBF\xBD" + std::string(1, '\0') + "f";
  const auto n = run({}, text);
  EXPECT_EQ(n.text, "abc d ef");
  EXPECT_EQ(n.orig, (Orig{0, 2, 6, 7, 8, 9, 12, 17}));
}

TEST(TokenizerNormalizer, WithoutCleanTextControlsStay) {
  NormalizerOptions o;
  o.clean_text = false;
  EXPECT_EQ(run(o, "a\x01\tb").text, "a\x01\tb");
}

TEST(TokenizerNormalizer, ChineseCharactersAreSpacedAndAlignedToTheIdeograph) {
  const auto n = run({}, "a\xE4\xBD\xA0" "b");  // a你b
  EXPECT_EQ(n.text, "a \xE4\xBD\xA0 b");
  EXPECT_EQ(n.orig, (Orig{0, 1, 1, 1, 1, 1, 4}));
  NormalizerOptions off;
  off.handle_chinese_chars = false;
  EXPECT_EQ(run(off, "a\xE4\xBD\xA0" "b").text, "a\xE4\xBD\xA0" "b");
}

TEST(TokenizerNormalizer, StripAccentsIsNfdMinusNonspacingMarks) {
  const auto n = run({}, "Caf\xC3\xA9 na\xC3\xAFve");  // Café naïve
  EXPECT_EQ(n.text, "cafe naive");
  EXPECT_EQ(n.orig, (Orig{0, 1, 2, 3, 5, 6, 7, 8, 10, 11}));
  NormalizerOptions keep;
  keep.strip_accents = false;
  EXPECT_EQ(run(keep, "Caf\xC3\xA9").text, "caf\xC3\xA9");
}

TEST(TokenizerNormalizer, DottedCapitalIBecomesTwoCodePointsBothAlignedToIt) {
  NormalizerOptions o;
  o.strip_accents = false;
  const auto n = run(o, "x\xC4\xB0y");  // xİy
  EXPECT_EQ(n.text, "xi\xCC\x87y");
  EXPECT_EQ(n.orig, (Orig{0, 1, 1, 1, 3}));
  // With accents stripped the dot (Mn) goes away after NFD: İ -> I + U+0307 -> I -> i.
  EXPECT_EQ(run({}, "x\xC4\xB0y").text, "xiy");
}

TEST(TokenizerNormalizer, LowercaseIsPerCodePointLikeTokenizers) {
  NormalizerOptions o;
  o.strip_accents = false;
  EXPECT_EQ(run(o, "\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3").text, "\xCE\xBF\xCE\xB4\xCE\xBF\xCF\x83");  // ΟΔΟΣ -> οδοσ
  NormalizerOptions cased;
  cased.lowercase = false;
  cased.strip_accents = false;
  EXPECT_EQ(run(cased, "ABC \xC3\x89").text, "ABC \xC3\x89");
}

TEST(TokenizerNormalizer, AppendsWithAbsoluteOffsetsForASubrange) {
  const std::string text = "xx AB";
  NormalizedText out;
  Normalizer(NormalizerOptions{}).normalize(text, 3, 5, out);
  EXPECT_EQ(out.text, "ab");
  EXPECT_EQ(out.orig, (Orig{3, 4}));
}

}  // namespace
}  // namespace bertcpp::tokenizer
