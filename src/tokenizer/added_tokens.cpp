#include "tokenizer/added_tokens.hpp"

#include <utf8proc.h>

#include <algorithm>

#include "tokenizer/unicode.hpp"
#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer {
namespace {

// Regex \w as the Rust regex crate defines it (alphabetic, marks, decimal numbers, connector punctuation),
// approximated from general categories.
bool is_word_char(char32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_';
  const auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
         (c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME) || c == UTF8PROC_CATEGORY_ND ||
         c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_PC;
}

// The code point that ends just before byte `pos` of valid UTF-8.
char32_t code_point_before(std::string_view text, std::size_t pos) {
  std::size_t start = pos - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return decode_utf8(text.data(), start);
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens, const std::vector<std::string>& patterns,
                                     const std::vector<std::size_t>& which)
    : tokens_(tokens) {
  nodes_.emplace_back();
  for (std::size_t i : which) {
    const std::string& pattern = patterns[i];
    if (pattern.empty()) continue;
    std::int32_t node = 0;
    for (unsigned char b : pattern) {
      std::int32_t next = child(node, b);
      if (next < 0) {
        next = static_cast<std::int32_t>(nodes_.size());
        nodes_[node].children.push_back({b, next});
        nodes_.emplace_back();
      }
      node = next;
    }
    // Several tokens with the same pattern: the first one listed wins.
    if (nodes_[node].token < 0) nodes_[node].token = static_cast<std::int32_t>(i);
    first_byte_[static_cast<unsigned char>(pattern[0])] = true;
  }
}

std::int32_t AddedTokenMatcher::child(std::int32_t node, unsigned char b) const noexcept {
  for (const auto& [byte, next] : nodes_[node].children)
    if (byte == b) return next;
  return -1;
}

void AddedTokenMatcher::split(std::string_view text, std::size_t begin, std::size_t end,
                              std::vector<TextSplit>& out) const {
  if (empty()) {
    if (begin < end) out.push_back({begin, end, -1});
    return;
  }
  std::size_t plain_start = begin;  // tokenizers' start_offset: end of the previous accepted match
  std::size_t pos = begin;
  while (pos < end) {
    if (!first_byte_[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    // Longest pattern starting at pos.
    std::int32_t node = 0, best = -1;
    std::size_t best_end = pos;
    for (std::size_t i = pos; i < end; ++i) {
      node = child(node, static_cast<unsigned char>(text[i]));
      if (node < 0) break;
      if (nodes_[node].token >= 0) {
        best = nodes_[node].token;
        best_end = i + 1;
      }
    }
    if (best < 0) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[static_cast<std::size_t>(best)];
    std::size_t start = pos, stop = best_end;
    pos = best_end;  // the automaton resumes after the match, accepted or not
    if (token.single_word) {
      const bool start_space = start == begin || !is_word_char(code_point_before(text.substr(0, end), start));
      std::size_t p = stop;
      const bool stop_space = stop == end || !is_word_char(decode_utf8(text.data(), p));
      if (!start_space || !stop_space) continue;
    }
    if (token.lstrip) {
      std::size_t s = start;
      while (s > begin) {
        std::size_t prev = s - 1;
        while (prev > begin && (static_cast<unsigned char>(text[prev]) & 0xC0) == 0x80) --prev;
        std::size_t p = prev;
        if (!unicode::is_whitespace(decode_utf8(text.data(), p))) break;
        s = prev;
      }
      start = std::max(s, plain_start);
    }
    if (token.rstrip) {
      while (stop < end) {
        std::size_t p = stop;
        if (!unicode::is_whitespace(decode_utf8(text.data(), p))) break;
        stop = p;
      }
      pos = stop;
    }
    if (plain_start < start) out.push_back({plain_start, start, -1});
    out.push_back({start, stop, best});
    plain_start = stop;
  }
  if (plain_start < end) out.push_back({plain_start, end, -1});
}

}  // namespace bertcpp::tokenizer
