// Normalized text with, for every byte, the byte range of the original text it came from: Hugging Face
// tokenizers' NormalizedString, whose alignment rules decide the offsets transformers reports for SentencePiece
// tokenizers (they are not always the obvious ones: a replacement of "``" by '"' is aligned to the second
// backtick, a removed leading character shifts the alignments after it). AlignedText follows those rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bertcpp::tokenizer {

// One character of a rewritten text (tokenizers' transform): change = 0 replaces the next original character,
// 1 inserts a new one (aligned like the byte before it), -n replaces the next character and removes the n
// after it.
struct CharChange {
  char32_t cp;
  int change;
};

struct AlignedText {
  std::string text;                                          // normalized UTF-8
  std::vector<std::pair<std::uint32_t, std::uint32_t>> align;  // per byte of text: [begin, end) in the original

  // The identity alignment of original[begin, end) (offsets relative to begin).
  static AlignedText of(std::string_view original);

  // Rewrites the whole text as `dest`, skipping `initial_removed` characters first (tokenizers'
  // NormalizedString::transform).
  void transform(const std::vector<CharChange>& dest, std::size_t initial_removed);

  // Replaces every non-overlapping occurrence of `pattern` (leftmost first) by `content` (tokenizers'
  // NormalizedString::replace with a string pattern).
  void replace_all(std::string_view pattern, std::string_view content);

  // Original range of the normalized byte range [begin, end), end > begin.
  std::pair<std::uint32_t, std::uint32_t> original_range(std::size_t begin, std::size_t end) const {
    return {align[begin].first, align[end - 1].second};
  }
};

}  // namespace bertcpp::tokenizer
