// WordPiece model: greedy longest-match-first with a continuation prefix ("##"), in linear time.
//
// The vocabulary is compiled into a byte trie with failure links and failure pops (LinMaxMatch, Song et al.,
// "Fast WordPiece Tokenization", EMNLP 2021). Continuation tokens "##xyz" are stored under a sentinel byte
// 0xFF (never present in UTF-8) instead of the literal prefix, so a word that itself starts with "##" cannot be
// confused with a continuation. Each input byte causes one trie transition plus failure transitions whose
// number is bounded by the tokens they emit, so a word of n bytes costs O(n) whatever the vocabulary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bertcpp::tokenizer {

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  std::size_t max_input_chars_per_word = 100;
};

// One token of a word: vocabulary id and the byte range [begin, end) of the word it covers.
struct WordPiecePiece {
  std::int32_t id;
  std::uint32_t begin;
  std::uint32_t end;
};

class WordPiece {
 public:
  WordPiece() = default;
  // vocab[i] is the token of id i. Throws ConfigError when unk_token is not in the vocabulary (`source`
  // names the file in the message).
  WordPiece(std::vector<std::string> vocab, WordPieceOptions options, std::string_view source);

  // Appends the pieces of one pre-tokenized word (non-empty, valid UTF-8) to out. A word longer than
  // max_input_chars_per_word code points, or one with no full match, becomes a single unk piece.
  void tokenize(std::string_view word, std::vector<WordPiecePiece>& out) const;

  std::optional<std::int32_t> token_to_id(std::string_view token) const;
  const std::string& id_to_token(std::int32_t id) const { return vocab_[static_cast<std::size_t>(id)]; }
  std::size_t size() const noexcept { return vocab_.size(); }
  std::int32_t unk_id() const noexcept { return unk_id_; }
  const WordPieceOptions& options() const noexcept { return options_; }

  // Reference implementation (tokenizers' MaxMatch: try the longest substring, shrink by one code point,
  // O(n^2) lookups). Used by tests to check the trie.
  void tokenize_reference(std::string_view word, std::vector<WordPiecePiece>& out) const;

 private:
  static constexpr std::int32_t kNone = -1;
  static constexpr unsigned char kSuffixByte = 0xFF;

  struct Node {
    std::int32_t token_id = kNone;  // the vocabulary id when this node spells a whole token
    std::int32_t fail = kNone;      // failure link f(v)
    std::uint32_t pops_begin = 0;   // failure pops F(v): token nodes in pops_[pops_begin, +pops_len)
    std::uint32_t pops_len = 0;
    std::uint32_t covered = 0;      // bytes of the word a token node covers (prefix bytes not counted)
  };

  std::int32_t child(std::int32_t node, unsigned char byte) const noexcept;
  std::int32_t add_child(std::int32_t node, unsigned char byte);
  void insert(std::string_view key, std::int32_t id, std::uint32_t covered);
  void build_failure_links();
  void grow_edges();

  std::vector<std::string> vocab_;
  WordPieceOptions options_;
  std::int32_t unk_id_ = kNone;

  std::vector<Node> nodes_;
  std::vector<std::int32_t> pops_;
  std::vector<std::int32_t> root_children_;    // dense: 256 entries for the root
  std::vector<std::int32_t> suffix_children_;  // dense: 256 entries for the continuation root
  std::int32_t suffix_root_ = kNone;
  // Other edges: open addressing, key = node << 8 | byte.
  std::vector<std::uint64_t> edge_keys_;
  std::vector<std::int32_t> edge_values_;
  std::size_t edge_count_ = 0;
};

}  // namespace bertcpp::tokenizer
