#include "tokenizer/utf8.hpp"

#include <cstring>

#include "bertcpp/error.hpp"

namespace bertcpp::tokenizer {
namespace {

[[noreturn]] void fail(std::string_view what, std::size_t pos, const char* why, unsigned char byte) {
  static const char* hex = "0123456789abcdef";
  std::string msg(what);
  msg += ": invalid UTF-8 at byte ";
  msg += std::to_string(pos);
  msg += " (";
  msg += why;
  msg += ", byte 0x";
  msg += hex[byte >> 4];
  msg += hex[byte & 15];
  msg += ")";
  throw Utf8Error(msg, pos);
}

}  // namespace

bool validate_utf8(std::string_view text, std::string_view what) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  bool ascii = true;
  while (i < n) {
    // ASCII fast path: 8 bytes at a time.
    while (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char b0 = s[i];
    if (b0 < 0x80) { ++i; continue; }
    ascii = false;
    std::size_t len;
    char32_t min_cp;
    if (b0 >= 0xC2 && b0 <= 0xDF) { len = 2; min_cp = 0x80; }
    else if (b0 >= 0xE0 && b0 <= 0xEF) { len = 3; min_cp = 0x800; }
    else if (b0 >= 0xF0 && b0 <= 0xF4) { len = 4; min_cp = 0x10000; }
    else if (b0 >= 0x80 && b0 <= 0xBF) fail(what, i, "unexpected continuation byte", b0);
    else fail(what, i, "invalid lead byte", b0);
    if (i + len > n) fail(what, i, "truncated sequence", b0);
    char32_t cp = b0 & (0x7F >> len);
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) fail(what, i, "missing continuation byte", b0);
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min_cp) fail(what, i, "overlong encoding", b0);
    if (cp >= 0xD800 && cp <= 0xDFFF) fail(what, i, "surrogate code point", b0);
    if (cp > 0x10FFFF) fail(what, i, "code point above U+10FFFF", b0);
    i += len;
  }
  return ascii;
}

}  // namespace bertcpp::tokenizer
