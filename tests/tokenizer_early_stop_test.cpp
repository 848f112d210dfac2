// Truncation without a stride stops tokenizing once enough tokens exist (issue 14, item 2): long plain text is
// tokenized in 64 KiB pieces cut before a space. The tokens kept must be exactly those of a full tokenization.
// A truncation with stride 1 tokenizes everything and keeps the same first window, so it is the reference.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bertcpp/tokenizer.hpp"
#include "test_util.hpp"

namespace bertcpp::testing {
namespace {

namespace fs = std::filesystem;

// The first code point boundary at or after byte i.
std::size_t boundary(std::string_view text, std::size_t i) {
  while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
  return i;
}

// The multilingual corpus joined with separators that stress piece boundaries: runs of spaces, tabs, newlines,
// a final sigma before a space, combining marks after a space. Several hundred KB: several pieces.
std::string long_text() {
  std::ifstream in(data_dir() / "tokenizer" / "corpus.jsonl");
  const char* separators[] = {" ", "  ", " \t ", "\n ", "ΟΔΟΣ ", " \xCC\x81x ", "   ", ". "};
  std::string text;
  std::size_t i = 0;
  for (std::string line; std::getline(in, line);) {
    text += nlohmann::json::parse(line).at("text").get<std::string>();
    text += separators[i++ % std::size(separators)];
  }
  const std::string head = text.substr(0, boundary(text, 100000));
  while (text.size() < 300000) text += head;
  return text;
}

void expect_same_window(const Encoding& got, const Encoding& want, const std::string& what) {
  ASSERT_EQ(got.input_ids.size(), want.input_ids.size()) << what;
  EXPECT_EQ(got.input_ids, want.input_ids) << what;
  EXPECT_EQ(got.tokens, want.tokens) << what;
  EXPECT_EQ(got.word_ids, want.word_ids) << what;
  EXPECT_EQ(got.byte_offsets, want.byte_offsets) << what;
  EXPECT_EQ(got.char_offsets, want.char_offsets) << what;
  EXPECT_EQ(got.token_type_ids, want.token_type_ids) << what;
}

void expect_early_stop_identical(const fs::path& dir) {
  const Tokenizer tokenizer = Tokenizer::load(dir);
  const std::string text = long_text();
  // Start the text at several offsets so that piece cuts land in different places.
  for (std::size_t shift : {0u, 7u, 65537u}) {
    const std::string_view t = std::string_view(text).substr(boundary(text, shift));
    for (std::size_t max_length : {16u, 512u, 40000u}) {
      EncodeOptions cut;
      cut.truncation = Truncation::longest_first;
      cut.max_length = max_length;
      EncodeOptions reference = cut;
      reference.stride = 1;
      const std::string what = dir.filename().string() + " shift " + std::to_string(shift) + " max_length " +
                               std::to_string(max_length);
      expect_same_window(tokenizer.encode(t, cut), tokenizer.encode(t, reference), what);
      // only_first on a pair: the first text may stop early, the second is needed in full.
      EncodeOptions pair_cut = cut;
      pair_cut.truncation = Truncation::only_first;
      EncodeOptions pair_reference = pair_cut;
      pair_reference.stride = 1;
      expect_same_window(tokenizer.encode(t, "a short second text", pair_cut),
                         tokenizer.encode(t, "a short second text", pair_reference), what + " only_first pair");
    }
  }
}

TEST(TokenizerEarlyStop, WordPieceKeepsTheTokensOfAFullRun) { expect_early_stop_identical(data_dir() / "tokenizer" / "wordpiece"); }
TEST(TokenizerEarlyStop, ByteLevelBpeKeepsTheTokensOfAFullRun) { expect_early_stop_identical(data_dir() / "tokenizer" / "roberta"); }
TEST(TokenizerEarlyStop, SentencePieceKeepsTheTokensOfAFullRun) { expect_early_stop_identical(data_dir() / "tokenizer" / "xlmr"); }

}  // namespace
}  // namespace bertcpp::testing
