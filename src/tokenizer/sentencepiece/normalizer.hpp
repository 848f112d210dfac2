// The normalizer transformers builds for SentencePiece tokenizers, with tokenizers' offset alignment:
//
//   ALBERT  Replace("``", '"'), Replace("''", '"'), [NFKD, StripAccents unless keep_accents],
//           [Lowercase if do_lower_case], Precompiled(charsmap)
//   XLM-R   Precompiled(charsmap)
//
// NFKD and StripAccents follow tokenizers' Unicode 9.0 tables (sentencepiece/unicode9.inc); Lowercase is
// Rust's char::to_lowercase per character (no final-sigma rule).
#pragma once

#include <string_view>

#include "tokenizer/sentencepiece/aligned.hpp"
#include "tokenizer/sentencepiece/charsmap.hpp"

namespace bertcpp::tokenizer {

struct SentencePieceNormalizerOptions {
  bool replace_quotes = false;  // ALBERT: `` and '' -> "
  bool nfkd_strip_accents = false;  // ALBERT without keep_accents
  bool lowercase = false;       // ALBERT with do_lower_case
};

class SentencePieceNormalizer {
 public:
  SentencePieceNormalizer() = default;
  SentencePieceNormalizer(const SentencePieceNormalizerOptions& options, PrecompiledCharsmap charsmap)
      : options_(options), charsmap_(std::move(charsmap)) {}

  // Normalizes one stretch of original text (valid UTF-8); offsets in the result are relative to its start.
  AlignedText normalize(std::string_view original) const;

  const SentencePieceNormalizerOptions& options() const noexcept { return options_; }

 private:
  SentencePieceNormalizerOptions options_;
  PrecompiledCharsmap charsmap_;
};

// The steps, exposed for tests.
namespace sentencepiece_steps {
void nfkd(AlignedText& text);
void strip_accents(AlignedText& text);
void lowercase(AlignedText& text);
// tokenizers' (Unicode 9.0) view of a code point.
bool is_combining_mark(char32_t cp) noexcept;
}  // namespace sentencepiece_steps

}  // namespace bertcpp::tokenizer
