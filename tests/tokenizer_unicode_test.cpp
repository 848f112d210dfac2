// UTF-8 validation and the character classes / mappings of src/tokenizer/unicode.hpp. Expected values were
// checked against Python's str.lower() and tokenizers' BertNormalizer / BertPreTokenizer.
#include <bertcpp/error.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "tokenizer/unicode.hpp"
#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer {
namespace {

std::string utf8(char32_t cp) {
  std::string s;
  append_utf8(s, cp);
  return s;
}

void expect_invalid_at(const std::string& text, std::size_t offset) {
  try {
    validate_utf8(text, "text");
    FAIL() << "no error for invalid UTF-8, expected one at byte " << offset;
  } catch (const Utf8Error& e) {
    EXPECT_EQ(e.byte_offset(), offset);
    EXPECT_NE(std::string(e.what()).find("invalid UTF-8 at byte " + std::to_string(offset)), std::string::npos)
        << e.what();
  }
}

TEST(TokenizerUtf8, AcceptsValidTextAndReportsAscii) {
  EXPECT_TRUE(validate_utf8("", "text"));
  EXPECT_TRUE(validate_utf8("plain ascii text, long enough for the 8-byte path", "text"));
  EXPECT_FALSE(validate_utf8("caf\xC3\xA9 \xE6\x9D\xB1 \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF", "text"));
}

TEST(TokenizerUtf8, RejectsEachKindOfInvalidSequenceAtItsOffset) {
  expect_invalid_at("abc\x80", 3);                   // stray continuation byte
  expect_invalid_at("ab\xC0\x80", 2);                // overlong NUL
  expect_invalid_at("a\xE0\x80\xAF", 1);             // overlong 3-byte
  expect_invalid_at("x\xED\xA0\x80", 1);             // surrogate U+D800
  expect_invalid_at("\xF4\x90\x80\x80", 0);          // above U+10FFFF
  expect_invalid_at("abcdefghij\xC3", 10);           // truncated at the end, after the 8-byte path
  expect_invalid_at("\xC3(", 0);                     // missing continuation
  expect_invalid_at("ok \xFF", 3);                   // never valid
}

TEST(TokenizerUnicode, WhitespaceIsRustWhiteSpace) {
  for (char32_t cp : {U'\t', U'\n', U'\r', U' ', char32_t(0x0B), char32_t(0x85), char32_t(0xA0), char32_t(0x2028),
                      char32_t(0x3000), char32_t(0x2009)})
    EXPECT_TRUE(unicode::is_whitespace(cp)) << std::hex << static_cast<std::uint32_t>(cp);
  for (char32_t cp : {U'a', char32_t(0x200B), char32_t(0x1C), char32_t(0xFEFF)})
    EXPECT_FALSE(unicode::is_whitespace(cp)) << std::hex << static_cast<std::uint32_t>(cp);
}

TEST(TokenizerUnicode, ControlIsCcCfCoExceptTabNewlineReturn) {
  for (char32_t cp : {char32_t(0x01), char32_t(0x7F), char32_t(0x200B), char32_t(0xFEFF), char32_t(0xE000),
                      char32_t(0x85)})
    EXPECT_TRUE(unicode::is_control(cp)) << std::hex << static_cast<std::uint32_t>(cp);
  for (char32_t cp : {U'\t', U'\n', U'\r', U'a', char32_t(0x378) /* unassigned */})
    EXPECT_FALSE(unicode::is_control(cp)) << std::hex << static_cast<std::uint32_t>(cp);
  // Cf in Unicode 14, unknown to tokenizers' tables: not dropped there, so not here either.
  EXPECT_FALSE(unicode::is_control(0x0890));
}

TEST(TokenizerUnicode, PunctuationIsAsciiRangesAndPCategories) {
  for (char32_t cp : {U'!', U'/', U':', U'@', U'[', U'`', U'{', U'~', U'$', U'+', char32_t(0xBF), char32_t(0x2014),
                      char32_t(0x3002)})
    EXPECT_TRUE(unicode::is_punctuation(cp)) << std::hex << static_cast<std::uint32_t>(cp);
  for (char32_t cp : {U'a', U'0', U' ', char32_t(0xA2) /* Sc */})
    EXPECT_FALSE(unicode::is_punctuation(cp)) << std::hex << static_cast<std::uint32_t>(cp);
  // Po since Unicode 9, after tokenizers' tables: not split there.
  EXPECT_FALSE(unicode::is_punctuation(0x2E43));
}

TEST(TokenizerUnicode, ChineseRangesFollowTokenizersSource) {
  EXPECT_TRUE(unicode::is_chinese_char(0x4E2D));
  EXPECT_TRUE(unicode::is_chinese_char(0xF900));
  EXPECT_TRUE(unicode::is_chinese_char(0x2B920));
  EXPECT_FALSE(unicode::is_chinese_char(0x2B820));  // tokenizers' range starts at 2B920
  EXPECT_FALSE(unicode::is_chinese_char(0xAC00));   // Hangul
  EXPECT_FALSE(unicode::is_chinese_char(0x3042));   // Hiragana
}

TEST(TokenizerUnicode, LowercaseOneCodePointIncludingSpecialCasing) {
  char32_t out[2];
  ASSERT_EQ(unicode::to_lowercase(0x130, out), 2);  // İ -> i + combining dot above
  EXPECT_EQ(out[0], U'i');
  EXPECT_EQ(out[1], char32_t(0x307));
  ASSERT_EQ(unicode::to_lowercase(U'Q', out), 1);
  EXPECT_EQ(out[0], U'q');
  ASSERT_EQ(unicode::to_lowercase(0x3A3, out), 1);  // Σ -> σ without context
  EXPECT_EQ(out[0], char32_t(0x3C3));
  ASSERT_EQ(unicode::to_lowercase(0x1C89, out), 1);  // newer than utf8proc 2.8; Rust maps it
  EXPECT_EQ(out[0], char32_t(0x1C8A));
}

TEST(TokenizerUnicode, LowercaseStringFinalSigmaAsPython) {
  const std::string sigma_upper = utf8(0x3A3), final_sigma = utf8(0x3C2), sigma = utf8(0x3C3);
  const std::string alpha = utf8(0x391), alpha_l = utf8(0x3B1), beta = utf8(0x392), beta_l = utf8(0x3B2);
  // "ΟΔΟΣ".lower() == "οδος"
  const std::string odos = utf8(0x39F) + utf8(0x394) + utf8(0x39F) + sigma_upper;
  const std::string odos_l = utf8(0x3BF) + utf8(0x3B4) + utf8(0x3BF);
  EXPECT_EQ(unicode::lowercase(odos, true), odos_l + final_sigma);
  EXPECT_EQ(unicode::lowercase(odos + ".", true), odos_l + final_sigma + ".");
  EXPECT_EQ(unicode::lowercase(sigma_upper, true), sigma);                                        // alone
  EXPECT_EQ(unicode::lowercase(alpha + sigma_upper + " " + beta, true), alpha_l + final_sigma + " " + beta_l);
  EXPECT_EQ(unicode::lowercase(alpha + sigma_upper + alpha, true), alpha_l + sigma + alpha_l);    // inside
  EXPECT_EQ(unicode::lowercase(alpha + sigma_upper + "'" + beta, true), alpha_l + sigma + "'" + beta_l);
  EXPECT_EQ(unicode::lowercase(alpha + "'" + sigma_upper, true), alpha_l + "'" + final_sigma);
  EXPECT_EQ(unicode::lowercase(utf8(0x130), true), std::string("i").append(utf8(0x307)));
  // tokenizers' normalizer maps code points one by one: no final form.
  EXPECT_EQ(unicode::lowercase(odos, false), odos_l + sigma);
}

TEST(TokenizerUnicode, DecomposeIsCanonicalNfd) {
  char32_t out[8];
  ASSERT_EQ(unicode::decompose(0xE9, out, 8), 2);  // é
  EXPECT_EQ(out[0], U'e');
  EXPECT_EQ(out[1], char32_t(0x301));
  ASSERT_EQ(unicode::decompose(0xAC00, out, 8), 2);  // Hangul syllable GA -> jamo
  EXPECT_EQ(out[0], char32_t(0x1100));
  ASSERT_EQ(unicode::decompose(0xFB01, out, 8), 1);  // ﬁ: compatibility only, NFD keeps it
  EXPECT_EQ(out[0], char32_t(0xFB01));
  ASSERT_EQ(unicode::decompose(0x11938, out, 8), 1);  // newer than tokenizers' NFD tables
  EXPECT_TRUE(unicode::is_nonspacing_mark(0x301));
  EXPECT_FALSE(unicode::is_nonspacing_mark(0x903));  // Mc
}

}  // namespace
}  // namespace bertcpp::tokenizer
