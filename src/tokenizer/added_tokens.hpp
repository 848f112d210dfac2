// Added tokens (special tokens such as [CLS], user-added words): found in the text before the model runs and
// kept whole, as tokenizers' AddedVocabulary does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bertcpp::tokenizer {

struct AddedToken {
  std::string content;
  std::int32_t id = -1;
  bool special = false;      // skipped by decode(skip_special_tokens)
  bool single_word = false;  // only match when not inside a word
  bool lstrip = false;       // the match swallows whitespace on its left
  bool rstrip = false;       // ... and on its right
  bool normalized = false;   // matched against the normalized text instead of the original
};

// A stretch of text: either plain text (token == -1) or a match of tokens[token].
struct TextSplit {
  std::size_t begin;
  std::size_t end;
  std::int32_t token;
};

// Leftmost-longest matching of a set of added tokens (tokenizers uses an Aho-Corasick automaton with
// MatchKind::LeftmostLongest; this is a byte trie walked from each candidate position, which yields the same
// matches).
class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // patterns[i] is the string to find for tokens[i] (its content, or its normalized content).
  AddedTokenMatcher(const std::vector<AddedToken>& tokens, const std::vector<std::string>& patterns,
                    const std::vector<std::size_t>& which);

  bool empty() const noexcept { return nodes_.size() <= 1; }

  // Splits text[begin, end) into plain and matched stretches (appended to out, covering the whole range).
  void split(std::string_view text, std::size_t begin, std::size_t end, std::vector<TextSplit>& out) const;

 private:
  struct Node {
    std::int32_t token = -1;  // index into tokens_ when a pattern ends here
    std::vector<std::pair<unsigned char, std::int32_t>> children;
  };
  std::int32_t child(std::int32_t node, unsigned char b) const noexcept;

  std::vector<AddedToken> tokens_;
  std::vector<Node> nodes_;
  bool first_byte_[256] = {};
};

}  // namespace bertcpp::tokenizer
