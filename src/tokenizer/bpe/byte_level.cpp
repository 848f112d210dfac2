#include "tokenizer/bpe/byte_level.hpp"

#include <utf8proc.h>

#include <array>

#include "tokenizer/unicode.hpp"
#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer::byte_level {
namespace {

struct Alphabet {
  std::array<char32_t, 256> to_char{};
  std::array<std::string, 256> to_utf8;
  std::array<std::int16_t, 0x144> to_byte{};  // every alphabet code point is below U+0144

  Alphabet() {
    to_byte.fill(-1);
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_char[b] = printable ? static_cast<char32_t>(b) : next++;
      append_utf8(to_utf8[b], to_char[b]);
      to_byte[to_char[b]] = static_cast<std::int16_t>(b);
    }
  }
};
const Alphabet& alphabet() {
  static const Alphabet a;
  return a;
}

// Classes of the split pattern.
enum Class : std::uint8_t { kOther = 0, kLetter = 1, kNumber = 2, kSpace = 3 };

Class compute_class(char32_t cp) noexcept {
  if (unicode::is_whitespace(cp)) return kSpace;
  const auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  if (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) return kLetter;
  if (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO) return kNumber;
  return kOther;
}

const std::array<std::uint8_t, 0x10000>& bmp_classes() {
  static const auto table = [] {
    std::array<std::uint8_t, 0x10000> t{};
    for (char32_t cp = 0; cp < 0x10000; ++cp) t[cp] = (cp >= 0xD800 && cp <= 0xDFFF) ? kOther : compute_class(cp);
    return t;
  }();
  return table;
}

// The class of the code point at text[pos], advancing pos past it.
inline Class next_class(std::string_view text, std::size_t& pos, char32_t& cp) noexcept {
  cp = decode_utf8(text.data(), pos);
  return cp < 0x10000 ? static_cast<Class>(bmp_classes()[cp]) : compute_class(cp);
}

// End of the run of code points of class `cls` starting at pos.
std::size_t run_end(std::string_view text, std::size_t pos, std::size_t end, Class cls) noexcept {
  char32_t cp;
  while (pos < end) {
    std::size_t next = pos;
    if (next_class(text, next, cp) != cls) break;
    pos = next;
  }
  return pos;
}

// Length of a contraction ('s 't 're 've 'm 'll 'd) at text[pos] (an apostrophe), or 0.
std::size_t contraction(std::string_view text, std::size_t pos, std::size_t end) noexcept {
  if (pos + 1 >= end) return 0;
  const char a = text[pos + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (pos + 2 >= end) return 0;
  const char b = text[pos + 2];
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

}  // namespace

char32_t byte_to_char(unsigned char b) noexcept { return alphabet().to_char[b]; }

int char_to_byte(char32_t cp) noexcept {
  return cp < alphabet().to_byte.size() ? alphabet().to_byte[cp] : -1;
}

const std::string& byte_to_utf8(unsigned char b) noexcept { return alphabet().to_utf8[b]; }

void split(std::string_view text, std::size_t begin, std::size_t end,
           std::vector<std::pair<std::uint32_t, std::uint32_t>>& out) {
  std::size_t pos = begin;
  char32_t cp;
  while (pos < end) {
    const std::size_t start = pos;
    std::size_t after = pos;
    Class cls = next_class(text, after, cp);
    std::size_t stop = 0;
    if (cp == '\'') {
      const std::size_t length = contraction(text, start, end);
      if (length > 0) stop = start + length;
    }
    if (stop == 0 && cp == ' ' && after < end) {
      // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": the space joins the run that follows it.
      std::size_t second = after;
      const Class next = next_class(text, second, cp);
      if (next != kSpace) stop = run_end(text, second, end, next);
    }
    if (stop == 0 && cls != kSpace) stop = run_end(text, after, end, cls);
    if (stop == 0) {
      // "\s+(?!\S)" then "\s+": a whitespace run followed by a non-space gives its last character up to the
      // next match (which then starts with it), unless the run is that one character.
      std::size_t last = start;
      std::size_t p = start;
      while (p < end) {
        std::size_t q = p;
        if (next_class(text, q, cp) != kSpace) break;
        last = p;
        p = q;
      }
      stop = (p == end || last == start) ? p : last;
    }
    out.emplace_back(static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(stop));
    pos = stop;
  }
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const auto at = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  std::size_t i = 0;
  while (i < bytes.size()) {
    const unsigned char b0 = at(i);
    if (b0 < 0x80) {
      out.push_back(static_cast<char>(b0));
      ++i;
      continue;
    }
    // Expected length and the allowed range of the second byte (Unicode Table 3-7).
    std::size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) need = 2;
    else if (b0 == 0xE0) { need = 3; lo = 0xA0; }
    else if (b0 >= 0xE1 && b0 <= 0xEC) need = 3;
    else if (b0 == 0xED) { need = 3; hi = 0x9F; }
    else if (b0 >= 0xEE && b0 <= 0xEF) need = 3;
    else if (b0 == 0xF0) { need = 4; lo = 0x90; }
    else if (b0 >= 0xF1 && b0 <= 0xF3) need = 4;
    else if (b0 == 0xF4) { need = 4; hi = 0x8F; }
    // Length of the maximal subpart: how many bytes, from b0 on, still form a valid prefix.
    std::size_t valid = need == 0 ? 0 : 1;
    while (valid > 0 && valid < need && i + valid < bytes.size()) {
      const unsigned char b = at(i + valid);
      const bool ok = valid == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
      if (!ok) break;
      ++valid;
    }
    if (need != 0 && valid == need) {
      out.append(bytes.substr(i, need));
      i += need;
    } else {
      out += "\xEF\xBF\xBD";
      i += valid == 0 ? 1 : valid;
    }
  }
  return out;
}

std::string decode(std::span<const std::string_view> tokens) {
  std::string bytes;
  for (std::string_view token : tokens) {
    const std::size_t mark = bytes.size();
    bool mapped = true;
    for (std::size_t pos = 0; pos < token.size();) {
      const int b = char_to_byte(decode_utf8(token.data(), pos));
      if (b < 0) {
        mapped = false;
        break;
      }
      bytes.push_back(static_cast<char>(b));
    }
    if (!mapped) {
      bytes.resize(mark);
      bytes.append(token);
    }
  }
  return utf8_lossy(bytes);
}

}  // namespace bertcpp::tokenizer::byte_level
