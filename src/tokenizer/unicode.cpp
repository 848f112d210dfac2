#include "tokenizer/unicode.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <vector>

#include "tokenizer/unicode_compat_tables.inc"
#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer::unicode {
namespace {

template <std::size_t N>
bool contains(const char32_t (&sorted)[N], char32_t cp) noexcept {
  return std::binary_search(std::begin(sorted), std::end(sorted), cp);
}

utf8proc_category_t category(char32_t cp) noexcept {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

bool compute_whitespace(char32_t cp) noexcept {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool compute_control(char32_t cp) noexcept {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  const auto c = category(cp);
  const bool other = c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_CO;
  return other != contains(kOtherToggles, cp);
}

bool compute_punctuation(char32_t cp) noexcept {
  if (cp < 0x80) return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
                        (cp >= 123 && cp <= 126);
  const auto c = category(cp);
  const bool p = c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
  return p != contains(kPunctToggles, cp);
}

bool compute_chinese(char32_t cp) noexcept {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) ||
         (cp >= 0x2B920 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool compute_mn(char32_t cp) noexcept {
  return (category(cp) == UTF8PROC_CATEGORY_MN) != contains(kNonspacingMarkToggles, cp);
}

char32_t simple_lower(char32_t cp) noexcept {
  const auto* it = std::lower_bound(std::begin(kLowercaseOverrides), std::end(kLowercaseOverrides), cp,
                                    [](const char32_t(&e)[2], char32_t v) { return e[0] < v; });
  if (it != std::end(kLowercaseOverrides) && (*it)[0] == cp) return (*it)[1];
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

// Flags for the Basic Multilingual Plane, computed once; other planes are computed per call.
enum : std::uint8_t { kWs = 1, kCtrl = 2, kPunct = 4, kCjk = 8, kMn = 16 };

std::uint8_t compute_flags(char32_t cp) noexcept {
  return std::uint8_t((compute_whitespace(cp) ? kWs : 0) | (compute_control(cp) ? kCtrl : 0) |
                      (compute_punctuation(cp) ? kPunct : 0) | (compute_chinese(cp) ? kCjk : 0) |
                      (compute_mn(cp) ? kMn : 0));
}

const std::array<std::uint8_t, 0x10000>& bmp_flags() {
  static const auto table = [] {
    std::array<std::uint8_t, 0x10000> t{};
    for (char32_t cp = 0; cp < 0x10000; ++cp) t[cp] = (cp >= 0xD800 && cp <= 0xDFFF) ? 0 : compute_flags(cp);
    return t;
  }();
  return table;
}

inline std::uint8_t flags(char32_t cp) noexcept {
  return cp < 0x10000 ? bmp_flags()[cp] : compute_flags(cp);
}

// Python's Cased and Case_Ignorable derived properties, approximated from utf8proc's data: cased letters have
// a case mapping or are Lu/Ll/Lt; case-ignorable are Mn/Me/Cf/Lm/Sk plus the Word_Break MidLetter/MidNumLet/
// Single_Quote characters.
bool is_cased(char32_t cp) noexcept {
  const auto c = category(cp);
  if (c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT) return true;
  const auto v = static_cast<utf8proc_int32_t>(cp);
  return utf8proc_tolower(v) != v || utf8proc_toupper(v) != v;
}

bool is_case_ignorable(char32_t cp) noexcept {
  switch (cp) {
    case 0x27: case 0x2E: case 0x3A: case 0x5E: case 0x60: case 0xA8: case 0xAD: case 0xAF: case 0xB4:
    case 0xB7: case 0xB8: case 0x387: case 0x55F: case 0x5F4: case 0x2018: case 0x2019: case 0x2024:
    case 0x2027: case 0xFE13: case 0xFE52: case 0xFE55: case 0xFF07: case 0xFF0E: case 0xFF1A:
      return true;
    default: break;
  }
  const auto c = category(cp);
  return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_ME || c == UTF8PROC_CATEGORY_CF ||
         c == UTF8PROC_CATEGORY_LM || c == UTF8PROC_CATEGORY_SK;
}

}  // namespace

bool is_whitespace(char32_t cp) noexcept { return flags(cp) & kWs; }
bool is_control(char32_t cp) noexcept { return flags(cp) & kCtrl; }
bool is_punctuation(char32_t cp) noexcept { return flags(cp) & kPunct; }
bool is_chinese_char(char32_t cp) noexcept { return flags(cp) & kCjk; }
bool is_nonspacing_mark(char32_t cp) noexcept { return flags(cp) & kMn; }

int to_lowercase(char32_t cp, char32_t out[2]) noexcept {
  if (cp < 0x80) {
    out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    return 1;
  }
  // SpecialCasing.txt has one unconditional lowercase mapping to more than one code point: U+0130.
  if (cp == 0x130) {
    out[0] = 0x69;
    out[1] = 0x307;
    return 2;
  }
  out[0] = simple_lower(cp);
  return 1;
}

int decompose(char32_t cp, char32_t* out, int capacity) noexcept {
  if (cp < 0xC0 || contains(kNoDecomposition, cp)) {
    if (capacity < 1) return 0;
    out[0] = cp;
    return 1;
  }
  utf8proc_int32_t buf[32];
  int last_boundclass = 0;
  const auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buf, 32, UTF8PROC_DECOMPOSE,
                                         &last_boundclass);
  if (n <= 0) {
    out[0] = cp;
    return 1;
  }
  const int count = std::min<int>(static_cast<int>(n), capacity);
  for (int i = 0; i < count; ++i) out[i] = static_cast<char32_t>(buf[i]);
  return count;
}

std::string lowercase(std::string_view text, bool final_sigma) {
  std::vector<char32_t> cps;
  cps.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) cps.push_back(decode_utf8(text.data(), pos));
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const char32_t cp = cps[i];
    if (final_sigma && cp == 0x3A3) {
      // Final_Sigma: a cased letter before (skipping case-ignorables) and none after.
      bool before = false;
      for (std::size_t j = i; j-- > 0;) {
        if (is_case_ignorable(cps[j])) continue;
        before = is_cased(cps[j]);
        break;
      }
      bool after = false;
      for (std::size_t j = i + 1; j < cps.size(); ++j) {
        if (is_case_ignorable(cps[j])) continue;
        after = is_cased(cps[j]);
        break;
      }
      append_utf8(out, before && !after ? char32_t(0x3C2) : char32_t(0x3C3));
      continue;
    }
    char32_t lowered[2];
    const int n = to_lowercase(cp, lowered);
    for (int k = 0; k < n; ++k) append_utf8(out, lowered[k]);
  }
  return out;
}

}  // namespace bertcpp::tokenizer::unicode
