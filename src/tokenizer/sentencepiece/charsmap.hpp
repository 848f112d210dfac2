// SentencePiece's precompiled_charsmap (the model's normalization rules, e.g. nmt_nfkc) applied as Hugging Face
// tokenizers' Precompiled normalizer applies it.
//
// The blob is [u32 little-endian trie size][darts-clone double array of u32 units][NUL-terminated replacement
// strings]. tokenizers walks the text grapheme by grapheme: a grapheme shorter than 6 bytes is looked up whole
// first, and the replacement of the *shortest* key that prefixes it replaces the whole grapheme; otherwise (or
// without a match) each character is looked up on its own. The sentencepiece library's own normalizer takes the
// longest match instead and handles whitespace itself, so bertcpp does not use it for this step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/sentencepiece/aligned.hpp"

namespace bertcpp::tokenizer {

class PrecompiledCharsmap {
 public:
  PrecompiledCharsmap() = default;
  // Throws FormatError("<file>: precompiled_charsmap ...") when the blob is malformed.
  PrecompiledCharsmap(std::string_view blob, const std::string& file);

  bool empty() const noexcept { return units_.empty(); }

  // The replacement of the shortest key that prefixes `chunk` (stopping at a NUL byte), if any.
  std::optional<std::string_view> transform(std::string_view chunk) const;

  // Applies the rules to `text` with tokenizers' alignment bookkeeping.
  void normalize(AlignedText& text) const;

 private:
  std::vector<std::uint32_t> units_;
  std::string replacements_;
};

}  // namespace bertcpp::tokenizer
