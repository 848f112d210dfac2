#include "tokenizer/sentencepiece/charsmap.hpp"

#include <utf8proc.h>

#include "bertcpp/error.hpp"
#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer {
namespace {

// darts-clone unit layout.
bool has_leaf(std::uint32_t u) { return ((u >> 8) & 1) != 0; }
std::uint32_t value(std::uint32_t u) { return u & 0x7FFFFFFFu; }
std::uint32_t label(std::uint32_t u) { return u & (0x80000000u | 0xFFu); }
std::uint32_t offset(std::uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

// tokenizers' `replace` helper: the new characters replace the old ones one for one; extra new characters are
// insertions, and missing ones are removals charged to the last character emitted so far.
void push_replacement(std::vector<CharChange>& out, std::string_view old_part, std::string_view new_part) {
  const auto old_count = static_cast<long>(count_code_points(old_part));
  const auto new_count = static_cast<long>(count_code_points(new_part));
  for (std::size_t i = 0; i < new_part.size();) out.push_back({decode_utf8(new_part.data(), i), 0});
  const long diff = new_count - old_count;
  if (diff > 0) {
    for (long k = 0; k < diff; ++k) out[out.size() - 1 - static_cast<std::size_t>(k)].change = 1;
  } else if (diff < 0 && !out.empty()) {
    out.back().change += static_cast<int>(diff);
  }
}

}  // namespace

PrecompiledCharsmap::PrecompiledCharsmap(std::string_view blob, const std::string& file) {
  if (blob.empty()) return;
  const auto fail = [&](const std::string& why) {
    throw FormatError(file + ": normalizer_spec.precompiled_charsmap is malformed (" + why + ")");
  };
  if (blob.size() < 4) fail("shorter than its 4-byte header");
  std::uint32_t trie_bytes = 0;
  for (int i = 3; i >= 0; --i) trie_bytes = (trie_bytes << 8) | static_cast<unsigned char>(blob[static_cast<std::size_t>(i)]);
  if (trie_bytes % 4 != 0 || trie_bytes == 0 || trie_bytes > blob.size() - 4) {
    fail("trie size " + std::to_string(trie_bytes) + " for a blob of " + std::to_string(blob.size()) + " bytes");
  }
  units_.resize(trie_bytes / 4);
  for (std::size_t i = 0; i < units_.size(); ++i) {
    std::uint32_t u = 0;
    for (int k = 3; k >= 0; --k) u = (u << 8) | static_cast<unsigned char>(blob[4 + 4 * i + static_cast<std::size_t>(k)]);
    units_[i] = u;
  }
  replacements_.assign(blob.substr(4 + trie_bytes));
  try {
    validate_utf8(replacements_, "replacement strings");
  } catch (const Utf8Error& e) {
    fail(e.what());
  }
}

std::optional<std::string_view> PrecompiledCharsmap::transform(std::string_view chunk) const {
  if (units_.empty()) return std::nullopt;
  std::size_t node = offset(units_[0]);
  for (unsigned char c : chunk) {
    if (c == 0) break;
    node ^= c;
    if (node >= units_.size()) return std::nullopt;
    const std::uint32_t unit = units_[node];
    if (label(unit) != c) return std::nullopt;
    node ^= offset(unit);
    if (node >= units_.size()) return std::nullopt;
    if (has_leaf(unit)) {
      const std::size_t at = value(units_[node]);
      if (at >= replacements_.size()) return std::string_view();
      const std::size_t end = replacements_.find('\0', at);
      return std::string_view(replacements_).substr(at, (end == std::string::npos ? replacements_.size() : end) - at);
    }
  }
  return std::nullopt;
}

void PrecompiledCharsmap::normalize(AlignedText& text) const {
  if (units_.empty() || text.text.empty()) return;
  const std::string& s = text.text;
  std::vector<CharChange> changes;
  changes.reserve(s.size());
  bool modified = false;
  std::size_t pos = 0;
  utf8proc_int32_t state = 0;
  while (pos < s.size()) {
    // One extended grapheme cluster [pos, end).
    std::size_t end = pos;
    char32_t prev = decode_utf8(s.data(), end);
    while (end < s.size()) {
      std::size_t next = end;
      const char32_t cp = decode_utf8(s.data(), next);
      if (utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(prev), static_cast<utf8proc_int32_t>(cp),
                                           &state)) {
        break;
      }
      prev = cp;
      end = next;
    }
    const std::string_view grapheme(s.data() + pos, end - pos);
    bool done = false;
    if (grapheme.size() < 6) {
      if (auto norm = transform(grapheme)) {
        modified = true;
        push_replacement(changes, grapheme, *norm);
        done = true;
      }
    }
    if (!done) {
      for (std::size_t i = 0; i < grapheme.size();) {
        const std::size_t start = i;
        const char32_t cp = decode_utf8(grapheme.data(), i);
        const std::string_view part = grapheme.substr(start, i - start);
        if (auto norm = transform(part)) {
          modified = true;
          push_replacement(changes, part, *norm);
        } else {
          changes.push_back({cp, 0});
        }
      }
    }
    pos = end;
  }
  if (modified) text.transform(changes, 0);
}

}  // namespace bertcpp::tokenizer
