// UTF-8 validation, decoding and encoding for the tokenizer.
//
// Every text entering the tokenizer is validated once (validate_utf8); after that the hot loops decode with
// decode_utf8, which assumes validity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bertcpp::tokenizer {

// Throws Utf8Error("<what>: invalid UTF-8 at byte <n> (...)") at the first byte that does not start a valid
// sequence (overlong forms, surrogates and code points above U+10FFFF are invalid, as in Python and Rust).
// Returns true when the text is pure ASCII.
bool validate_utf8(std::string_view text, std::string_view what);

// Length in bytes of the sequence starting with lead byte `b` (valid text only).
inline std::size_t utf8_seq_len(unsigned char b) noexcept {
  return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}

// Decodes the code point at text[pos] of valid UTF-8 and advances pos.
inline char32_t decode_utf8(const char* text, std::size_t& pos) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(text) + pos;
  const unsigned char b0 = s[0];
  if (b0 < 0x80) { pos += 1; return b0; }
  if (b0 < 0xE0) { pos += 2; return (char32_t(b0 & 0x1F) << 6) | (s[1] & 0x3F); }
  if (b0 < 0xF0) { pos += 3; return (char32_t(b0 & 0x0F) << 12) | (char32_t(s[1] & 0x3F) << 6) | (s[2] & 0x3F); }
  pos += 4;
  return (char32_t(b0 & 0x07) << 18) | (char32_t(s[1] & 0x3F) << 12) | (char32_t(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

// Appends the UTF-8 encoding of cp to out; returns the number of bytes written.
inline std::size_t append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) { out.push_back(char(cp)); return 1; }
  if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
    return 2;
  }
  if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
    return 3;
  }
  out.push_back(char(0xF0 | (cp >> 18)));
  out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
  out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
  out.push_back(char(0x80 | (cp & 0x3F)));
  return 4;
}

// Number of code points in valid UTF-8.
inline std::size_t count_code_points(std::string_view text) noexcept {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace bertcpp::tokenizer
