// BertNormalizer (tokenizers' semantics) with offset tracking.
//
// Every normalization step maps one original code point to zero or more normalized code points, so the
// alignment is kept as: for each normalized byte, the byte offset of the original code point it came from
// (like tokenizers' NormalizedString alignments). The original range of a normalized byte range [b, e) is
// [orig[b], end of the original code point at orig[e-1]).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bertcpp::tokenizer {

struct NormalizerOptions {
  bool clean_text = true;            // drop U+0000, U+FFFD, Cc/Cf/Co (not \t\n\r); whitespace -> ' '
  bool handle_chinese_chars = true;  // ' ' + ideograph + ' '
  bool strip_accents = true;         // NFD, then drop Mn (already resolved: unset follows lowercase)
  bool lowercase = true;             // per code point, as tokenizers (no final-sigma context)
};

// Normalized text plus, for each of its bytes, the offset in the original text of the source code point.
struct NormalizedText {
  std::string text;
  std::vector<std::uint32_t> orig;  // text.size() entries

  void clear() {
    text.clear();
    orig.clear();
  }
};

class Normalizer {
 public:
  Normalizer() : Normalizer(NormalizerOptions{}) {}
  explicit Normalizer(const NormalizerOptions& options);

  // Appends the normalization of original[begin, end) (valid UTF-8, cut at code point boundaries) to out.
  // Offsets recorded in out.orig are absolute positions in `original`.
  void normalize(std::string_view original, std::size_t begin, std::size_t end, NormalizedText& out) const;

  // Convenience for strings that need no alignment (added-token contents).
  std::string normalize(std::string_view text) const;

  const NormalizerOptions& options() const noexcept { return options_; }

 private:
  void normalize_code_point(char32_t cp, std::uint32_t orig_offset, NormalizedText& out) const;

  NormalizerOptions options_;
  // ASCII fast path: the output byte for each input byte, or -1 to drop it.
  std::int16_t ascii_map_[128] = {};
};

}  // namespace bertcpp::tokenizer
