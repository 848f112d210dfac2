#include "tokenizer/wordpiece/normalizer.hpp"

#include "tokenizer/unicode.hpp"
#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer {

Normalizer::Normalizer(const NormalizerOptions& options) : options_(options) {
  for (int b = 0; b < 128; ++b) {
    int out = b;
    if (options_.clean_text) {
      if (unicode::is_control(char32_t(b)) || b == 0) out = -1;
      else if (unicode::is_whitespace(char32_t(b))) out = ' ';
    }
    if (out >= 'A' && out <= 'Z' && options_.lowercase) out += 32;
    ascii_map_[b] = static_cast<std::int16_t>(out);
  }
}

void Normalizer::normalize_code_point(char32_t cp, std::uint32_t orig_offset, NormalizedText& out) const {
  auto emit = [&](char32_t c) {
    const std::size_t n = append_utf8(out.text, c);
    out.orig.insert(out.orig.end(), n, orig_offset);
  };
  // The steps run in tokenizers' order: clean_text, chinese chars, strip accents, lowercase.
  if (options_.clean_text) {
    if (cp == 0 || cp == 0xFFFD || unicode::is_control(cp)) return;
    if (unicode::is_whitespace(cp)) cp = ' ';
  }
  char32_t stage1[3];
  int n1 = 0;
  if (options_.handle_chinese_chars && unicode::is_chinese_char(cp)) {
    stage1[n1++] = ' ';
    stage1[n1++] = cp;
    stage1[n1++] = ' ';
  } else {
    stage1[n1++] = cp;
  }
  for (int i = 0; i < n1; ++i) {
    char32_t stage2[32];
    int n2 = 0;
    if (options_.strip_accents) {
      char32_t decomposed[32];
      const int nd = unicode::decompose(stage1[i], decomposed, 32);
      for (int k = 0; k < nd; ++k)
        if (!unicode::is_nonspacing_mark(decomposed[k])) stage2[n2++] = decomposed[k];
    } else {
      stage2[n2++] = stage1[i];
    }
    for (int k = 0; k < n2; ++k) {
      if (options_.lowercase) {
        char32_t lowered[2];
        const int nl = unicode::to_lowercase(stage2[k], lowered);
        for (int j = 0; j < nl; ++j) emit(lowered[j]);
      } else {
        emit(stage2[k]);
      }
    }
  }
}

void Normalizer::normalize(std::string_view original, std::size_t begin, std::size_t end,
                           NormalizedText& out) const {
  const char* s = original.data();
  out.text.reserve(out.text.size() + (end - begin));
  out.orig.reserve(out.orig.size() + (end - begin));
  std::size_t pos = begin;
  while (pos < end) {
    const auto b = static_cast<unsigned char>(s[pos]);
    if (b < 0x80) {
      const std::int16_t m = ascii_map_[b];
      if (m >= 0) {
        out.text.push_back(static_cast<char>(m));
        out.orig.push_back(static_cast<std::uint32_t>(pos));
      }
      ++pos;
      continue;
    }
    const auto at = static_cast<std::uint32_t>(pos);
    const char32_t cp = decode_utf8(s, pos);
    normalize_code_point(cp, at, out);
  }
}

std::string Normalizer::normalize(std::string_view text) const {
  NormalizedText out;
  normalize(text, 0, text.size(), out);
  return std::move(out.text);
}

}  // namespace bertcpp::tokenizer
