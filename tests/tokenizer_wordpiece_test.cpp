// WordPiece: longest-match-first with "##", [UNK] rules, and the linear-time trie against the plain
// MaxMatch reference on random vocabularies.
#include <bertcpp/error.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tokenizer/wordpiece/wordpiece.hpp"

namespace bertcpp::tokenizer {
namespace {

std::vector<std::string> pieces_of(const WordPiece& wp, const std::string& word) {
  std::vector<WordPiecePiece> out;
  wp.tokenize(word, out);
  std::vector<std::string> s;
  for (const auto& p : out) s.push_back(wp.id_to_token(p.id) + "@" + std::to_string(p.begin) + "-" + std::to_string(p.end));
  return s;
}

WordPiece small(std::size_t max_chars = 100) {
  WordPieceOptions o;
  o.max_input_chars_per_word = max_chars;
  return WordPiece({"[UNK]", "un", "##aff", "##able", "a", "##a", "##b", "##", "#", "##x", "\xC3\xA9", "##\xC3\xA9"}, o,
                   "test vocab");
}

TEST(TokenizerWordPiece, GreedyLongestMatchWithContinuationPrefix) {
  const auto wp = small();
  EXPECT_EQ(pieces_of(wp, "unaffable"), (std::vector<std::string>{"un@0-2", "##aff@2-5", "##able@5-9"}));
  EXPECT_EQ(pieces_of(wp, "aab"), (std::vector<std::string>{"a@0-1", "##a@1-2", "##b@2-3"}));
  // Offsets are bytes of the word: é is two bytes.
  EXPECT_EQ(pieces_of(wp, "\xC3\xA9\xC3\xA9" "a"),
            (std::vector<std::string>{"\xC3\xA9@0-2", "##\xC3\xA9@2-4", "##a@4-5"}));
}

TEST(TokenizerWordPiece, NoFullMatchMakesTheWholeWordUnknown) {
  const auto wp = small();
  EXPECT_EQ(pieces_of(wp, "unz"), (std::vector<std::string>{"[UNK]@0-3"}));
  EXPECT_EQ(pieces_of(wp, "b"), (std::vector<std::string>{"[UNK]@0-1"}));  // "b" only exists as "##b"
}

TEST(TokenizerWordPiece, LiteralHashesAreNotAContinuation) {
  const auto wp = small();
  // "##x" at the start of a word is looked up as the token "##x" itself, as tokenizers does.
  EXPECT_EQ(pieces_of(wp, "##x"), (std::vector<std::string>{"##x@0-3"}));
  EXPECT_EQ(pieces_of(wp, "#"), (std::vector<std::string>{"#@0-1"}));
}

TEST(TokenizerWordPiece, MaxInputCharsCountsCodePointsNotBytes) {
  const auto wp = small(5);
  std::string five_e;
  for (int i = 0; i < 5; ++i) five_e += "\xC3\xA9";  // 5 chars, 10 bytes
  EXPECT_EQ(pieces_of(wp, five_e).size(), 5u);
  EXPECT_EQ(pieces_of(wp, five_e + "\xC3\xA9"), (std::vector<std::string>{"[UNK]@0-12"}));
  EXPECT_EQ(pieces_of(wp, "aaaaaa"), (std::vector<std::string>{"[UNK]@0-6"}));
}

TEST(TokenizerWordPiece, MissingUnknownTokenIsAConfigError) {
  try {
    WordPiece({"a", "##b"}, WordPieceOptions{}, "my/vocab.txt");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("my/vocab.txt"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'[UNK]'"), std::string::npos) << e.what();
  }
}

TEST(TokenizerWordPiece, TrieMatchesTheMaxMatchReferenceOnRandomVocabularies) {
  std::mt19937 rng(1234);
  const std::string alphabet[] = {"a", "b", "c", "\xC3\xA9", "#"};
  auto random_string = [&](int max_len) {
    std::string s;
    const int n = 1 + static_cast<int>(rng() % static_cast<unsigned>(max_len));
    for (int i = 0; i < n; ++i) s += alphabet[rng() % 5];
    return s;
  };
  int unknown = 0, total = 0;
  for (int round = 0; round < 40; ++round) {
    std::vector<std::string> vocab = {"[UNK]"};
    const int n = 5 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) vocab.push_back((rng() % 2 ? "##" : "") + random_string(4));
    WordPieceOptions o;
    o.max_input_chars_per_word = 12;
    const WordPiece wp(vocab, o, "random");
    for (int w = 0; w < 200; ++w) {
      const std::string word = random_string(15);
      std::vector<WordPiecePiece> fast, ref;
      wp.tokenize(word, fast);
      wp.tokenize_reference(word, ref);
      ASSERT_EQ(fast.size(), ref.size()) << "round " << round << " word " << word;
      for (std::size_t i = 0; i < fast.size(); ++i) {
        EXPECT_EQ(fast[i].id, ref[i].id) << word;
        EXPECT_EQ(fast[i].begin, ref[i].begin) << word;
        EXPECT_EQ(fast[i].end, ref[i].end) << word;
      }
      unknown += ref.size() == 1 && ref[0].id == 0;
      ++total;
    }
  }
  // The comparison means something only if both outcomes occur often.
  EXPECT_GT(unknown, total / 10);
  EXPECT_LT(unknown, total * 9 / 10);
}

TEST(TokenizerWordPiece, AdversarialMegabyteWordIsLinear) {
  // Quadratic MaxMatch would retry the near-miss 50-byte tokens at every position of a 1 MB word.
  const std::string near_miss(50, 'a');
  WordPieceOptions o;
  o.max_input_chars_per_word = std::size_t{1} << 30;
  const WordPiece wp({"[UNK]", "a", "##a", near_miss + "b", "##" + near_miss + "b"}, o, "adversarial");
  const std::string word(1 << 20, 'a');
  std::vector<WordPiecePiece> out;
  wp.tokenize(word, out);
  ASSERT_EQ(out.size(), word.size());
  EXPECT_EQ(out.front().id, 1);
  EXPECT_EQ(out.back().id, 2);
  EXPECT_EQ(out.back().end, word.size());
}

}  // namespace
}  // namespace bertcpp::tokenizer
