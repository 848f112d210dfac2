// Byte-level pieces of GPT-2 / RoBERTa tokenization (tokenizers' ByteLevel pre-tokenizer and decoder).
//
// - The byte alphabet: every byte 0..255 is written as one printable code point (GPT-2's bytes_to_unicode):
//   '!'..'~', U+00A1..U+00AC and U+00AE..U+00FF stand for themselves, the other 68 bytes take U+0100.. in
//   byte order (so ' ' is 'Ġ' U+0120 and '\n' is 'Ċ' U+010A). BPE vocabularies are written in this alphabet.
// - The split: GPT-2's pattern
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   as Oniguruma runs it (first alternative that matches at the current position, greedy, with the lookahead
//   backtracking one whitespace character), written by hand over Unicode categories. \s is the White_Space
//   property, \p{L} the categories L*, \p{N} the categories N*.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bertcpp::tokenizer::byte_level {

// The code point standing for byte b.
char32_t byte_to_char(unsigned char b) noexcept;
// The byte a code point stands for, or -1 when it is not in the byte alphabet.
int char_to_byte(char32_t cp) noexcept;
// UTF-8 of byte_to_char(b) (1 or 2 bytes).
const std::string& byte_to_utf8(unsigned char b) noexcept;

// Splits text[begin, end) (valid UTF-8) into the pattern's matches, appended to out as byte ranges
// [first, second) that cover the range without gaps.
void split(std::string_view text, std::size_t begin, std::size_t end,
           std::vector<std::pair<std::uint32_t, std::uint32_t>>& out);

// The ByteLevel decoder: each token whose code points are all in the byte alphabet becomes those bytes, any
// other token is kept as its UTF-8; the concatenation is then read as UTF-8 with each maximal invalid
// subsequence replaced by U+FFFD (Rust's String::from_utf8_lossy).
std::string decode(std::span<const std::string_view> tokens);

// Rust's String::from_utf8_lossy: valid UTF-8 copied, each maximal invalid subpart replaced by U+FFFD.
std::string utf8_lossy(std::string_view bytes);

}  // namespace bertcpp::tokenizer::byte_level
