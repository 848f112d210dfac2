// BPE model over the byte alphabet (tokenizers' models::bpe::BPE without dropout, prefixes or byte fallback).
//
// A word (the bytes of one pre-tokenized piece) starts as one symbol per byte, the vocabulary id of that byte's
// alphabet character (bpe/byte_level.hpp). Then, repeatedly, the adjacent pair with the lowest merge rank is
// replaced by the merged token, the leftmost one when several pairs share that rank, until no adjacent pair
// has a merge. Short words use a plain scan for the best pair (fastest for the usual 1-12 symbols); long
// words use a heap with lazy deletion, O(n log n), as tokenizers does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bertcpp::tokenizer {

struct BpeMerge {
  std::int32_t left;    // vocabulary ids of the pair
  std::int32_t right;
  std::int32_t merged;  // vocabulary id of left + right
};

struct BpeModelOptions {
  std::optional<std::int32_t> unk_id;  // unk_token's id; unset: bytes without a vocabulary entry are dropped
  bool fuse_unk = false;               // consecutive unknown bytes become one unk
  bool ignore_merges = false;          // a word that is a vocabulary token as a whole is taken as it is
};

// One token of a word: vocabulary id and the byte range [begin, end) of the word it covers.
struct BpePiece {
  std::int32_t id;
  std::uint32_t begin;
  std::uint32_t end;
};

class Bpe {
 public:
  Bpe() = default;
  // vocab[i] is the token of id i; merges in rank order (a pair listed twice keeps its later rank, as
  // tokenizers' merge map does).
  Bpe(std::vector<std::string> vocab, const std::vector<BpeMerge>& merges, BpeModelOptions options);

  // Appends the pieces of one word (its raw bytes, not empty) to out.
  void tokenize(std::string_view word, std::vector<BpePiece>& out) const;

  std::optional<std::int32_t> token_to_id(std::string_view token) const;
  const std::string& id_to_token(std::int32_t id) const { return vocab_[static_cast<std::size_t>(id)]; }
  std::size_t size() const noexcept { return vocab_.size(); }
  const BpeModelOptions& options() const noexcept { return options_; }

  // The two merge loops, exposed so tests can check them against each other on any word.
  void merge_scan(std::vector<BpePiece>& symbols) const;
  void merge_heap(std::vector<BpePiece>& symbols) const;
  // Words with at most this many initial symbols use merge_scan.
  static constexpr std::size_t kScanLimit = 24;

 private:
  struct MergeEntry {
    std::uint64_t key = kEmpty;  // left << 32 | right
    std::uint32_t rank = 0;
    std::int32_t merged = -1;
  };
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};

  static std::uint64_t key_of(std::int32_t left, std::int32_t right) noexcept {
    return (std::uint64_t{static_cast<std::uint32_t>(left)} << 32) | static_cast<std::uint32_t>(right);
  }
  // The merge of (left, right), or nullptr.
  const MergeEntry* find_merge(std::int32_t left, std::int32_t right) const noexcept;
  void initial_symbols(std::string_view word, std::vector<BpePiece>& symbols) const;

  std::vector<std::string> vocab_;
  std::unordered_map<std::string, std::int32_t> ids_;
  BpeModelOptions options_;
  std::int32_t byte_ids_[256];  // id of each byte's alphabet character, -1 when absent
  std::vector<MergeEntry> merges_;  // open addressing, power-of-two size
  std::uint64_t mask_ = 0;
};

}  // namespace bertcpp::tokenizer
