#include "tokenizer/sentencepiece/aligned.hpp"

#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer {

AlignedText AlignedText::of(std::string_view original) {
  AlignedText out;
  out.text.assign(original);
  out.align.resize(original.size());
  for (std::size_t i = 0; i < original.size();) {
    const std::size_t n = utf8_seq_len(static_cast<unsigned char>(original[i]));
    for (std::size_t k = 0; k < n; ++k)
      out.align[i + k] = {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + n)};
    i += n;
  }
  return out;
}

void AlignedText::transform(const std::vector<CharChange>& dest, std::size_t initial_removed) {
  // Byte lengths of the characters being rewritten, consumed as `dest` replaces or removes them.
  std::vector<std::uint8_t> lengths;
  lengths.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); i += lengths.back())
    lengths.push_back(static_cast<std::uint8_t>(utf8_seq_len(static_cast<unsigned char>(text[i]))));
  std::size_t next = 0;
  std::size_t offset = 0;  // byte in the old text where the next replaced character starts
  for (; next < initial_removed && next < lengths.size(); ++next) offset += lengths[next];

  std::string new_text;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> new_align;
  new_text.reserve(text.size());
  new_align.reserve(text.size());
  const auto at = [&](std::size_t i) -> std::pair<std::uint32_t, std::uint32_t> {
    // tokenizers indexes without a check here (a panic); such inputs do not occur for valid rewrites.
    if (align.empty()) return {0, 0};
    return align[i < align.size() ? i : align.size() - 1];
  };
  for (const CharChange& c : dest) {
    std::pair<std::uint32_t, std::uint32_t> a;
    if (c.change > 0) {
      a = offset < 1 ? std::pair<std::uint32_t, std::uint32_t>{0, 0} : at(offset - 1);
    } else {
      a = at(offset);
      if (next < lengths.size()) offset += lengths[next++];
      for (int k = 0; k < -c.change && next < lengths.size(); ++k) offset += lengths[next++];
    }
    const std::size_t n = append_utf8(new_text, c.cp);
    new_align.insert(new_align.end(), n, a);
  }
  text = std::move(new_text);
  align = std::move(new_align);
}

void AlignedText::replace_all(std::string_view pattern, std::string_view content) {
  if (pattern.empty()) return;
  std::size_t found = text.find(pattern);
  if (found == std::string::npos) return;
  std::string new_text;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> new_align;
  std::size_t last = 0;
  while (found != std::string::npos) {
    new_text.append(text, last, found - last);
    new_align.insert(new_align.end(), align.begin() + static_cast<std::ptrdiff_t>(last),
                     align.begin() + static_cast<std::ptrdiff_t>(found));
    // Every character of the match is removed, then each character of `content` is inserted: all of them take
    // the alignment of the match's last byte.
    const std::size_t end = found + pattern.size();
    const auto a = align[end - 1];
    new_text.append(content);
    new_align.insert(new_align.end(), content.size(), a);
    last = end;
    found = text.find(pattern, end);
  }
  new_text.append(text, last, std::string::npos);
  new_align.insert(new_align.end(), align.begin() + static_cast<std::ptrdiff_t>(last), align.end());
  text = std::move(new_text);
  align = std::move(new_align);
}

}  // namespace bertcpp::tokenizer
