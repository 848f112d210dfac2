#include "tokenizer/encoding_ops.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "bertcpp/error.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer {
namespace {

template <class T>
std::vector<T> slice(const std::vector<T>& v, std::size_t begin, std::size_t end) {
  return std::vector<T>(v.begin() + static_cast<std::ptrdiff_t>(begin), v.begin() + static_cast<std::ptrdiff_t>(end));
}

Encoding slice_encoding(const Encoding& e, std::size_t begin, std::size_t end) {
  Encoding out;
  out.input_ids = slice(e.input_ids, begin, end);
  out.token_type_ids = slice(e.token_type_ids, begin, end);
  out.attention_mask = slice(e.attention_mask, begin, end);
  out.special_tokens_mask = slice(e.special_tokens_mask, begin, end);
  out.tokens = slice(e.tokens, begin, end);
  out.word_ids = slice(e.word_ids, begin, end);
  out.sequence_ids = slice(e.sequence_ids, begin, end);
  out.byte_offsets = slice(e.byte_offsets, begin, end);
  out.char_offsets = slice(e.char_offsets, begin, end);
  return out;
}

template <class T>
void append(std::vector<T>& to, const std::vector<T>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// Leading / trailing code points of a token string that count as spaces for trim_byte_level_offsets.
std::pair<std::size_t, std::size_t> space_counts(std::string_view token) {
  thread_local std::vector<bool> spaces;
  spaces.clear();
  for (std::size_t pos = 0; pos < token.size();) {
    const char32_t cp = decode_utf8(token.data(), pos);
    spaces.push_back(cp == 0x120 || unicode::is_whitespace(cp));  // 'Ġ' is the byte alphabet's ' '
  }
  std::size_t leading = 0, trailing = 0;
  while (leading < spaces.size() && spaces[leading]) ++leading;
  while (trailing < spaces.size() && spaces[spaces.size() - 1 - trailing]) ++trailing;
  return {leading, trailing};
}

}  // namespace

void trim_byte_level_offsets(Encoding& encoding, std::string_view text, bool add_prefix_space) {
  for (std::size_t i = 0; i < encoding.size(); ++i) {
    auto [leading, trailing] = space_counts(encoding.tokens[i]);
    if (leading == 0 && trailing == 0) continue;
    Offset& chars = encoding.char_offsets[i];
    Offset& bytes = encoding.byte_offsets[i];
    if (leading > 0) {
      const bool first = i == 0 || chars.begin == 0;
      if (first && add_prefix_space && leading == 1) leading = 0;
      const std::size_t target = std::min(chars.begin + leading, chars.end);
      for (; chars.begin < target; ++chars.begin) bytes.begin += utf8_seq_len(static_cast<unsigned char>(text[bytes.begin]));
    }
    if (trailing > 0 && chars.end >= trailing) {
      const std::size_t target = std::max(chars.end - trailing, chars.begin);
      for (; chars.end > target; --chars.end) {
        do --bytes.end;
        while ((static_cast<unsigned char>(text[bytes.end]) & 0xC0) == 0x80);
      }
    }
  }
}

void truncate(Encoding& encoding, std::size_t max_len, std::size_t stride) {
  const std::size_t len = encoding.size();
  if (max_len >= len) return;
  if (max_len == 0) {
    Encoding whole = std::move(encoding);
    encoding = Encoding{};
    encoding.overflowing.push_back(std::move(whole));
    return;
  }
  if (stride >= max_len) {
    throw InvalidArgumentError("truncation: stride " + std::to_string(stride) +
                               " must be strictly less than the length left for the sequence (" +
                               std::to_string(max_len) + " tokens after removing special tokens)");
  }
  const std::size_t step = max_len - stride;
  std::vector<std::pair<std::size_t, std::size_t>> windows;
  for (std::size_t start = 0; start < len; start += step) {
    const std::size_t stop = std::min(start + max_len, len);
    windows.push_back({start, stop});
    if (stop == len) break;
  }
  Encoding result = slice_encoding(encoding, windows[0].first, windows[0].second);
  for (std::size_t i = 1; i < windows.size(); ++i)
    result.overflowing.push_back(slice_encoding(encoding, windows[i].first, windows[i].second));
  encoding = std::move(result);
}

void merge_with(Encoding& encoding, const Encoding& pair) {
  std::vector<Encoding> overflowings;
  for (const Encoding& self_o : encoding.overflowing) {
    Encoding n = self_o;
    merge_with(n, pair);
    overflowings.push_back(std::move(n));
    for (const Encoding& other_o : pair.overflowing) {
      Encoding m = self_o;
      merge_with(m, other_o);
      overflowings.push_back(std::move(m));
    }
  }
  for (const Encoding& other_o : pair.overflowing) {
    Encoding n = encoding;
    merge_with(n, other_o);
    overflowings.push_back(std::move(n));
  }
  append(encoding.input_ids, pair.input_ids);
  append(encoding.token_type_ids, pair.token_type_ids);
  append(encoding.attention_mask, pair.attention_mask);
  append(encoding.special_tokens_mask, pair.special_tokens_mask);
  append(encoding.tokens, pair.tokens);
  append(encoding.word_ids, pair.word_ids);
  append(encoding.sequence_ids, pair.sequence_ids);
  append(encoding.byte_offsets, pair.byte_offsets);
  append(encoding.char_offsets, pair.char_offsets);
  encoding.overflowing = std::move(overflowings);
}

void pad(Encoding& encoding, std::size_t target_length, std::int32_t pad_id, std::int32_t pad_type_id,
         const std::string& pad_token) {
  for (Encoding& o : encoding.overflowing) pad(o, target_length, pad_id, pad_type_id, pad_token);
  if (encoding.size() >= target_length) return;
  const std::size_t n = target_length - encoding.size();
  encoding.input_ids.insert(encoding.input_ids.end(), n, pad_id);
  encoding.token_type_ids.insert(encoding.token_type_ids.end(), n, pad_type_id);
  encoding.attention_mask.insert(encoding.attention_mask.end(), n, 0);
  encoding.special_tokens_mask.insert(encoding.special_tokens_mask.end(), n, 1);
  encoding.tokens.insert(encoding.tokens.end(), n, pad_token);
  encoding.word_ids.insert(encoding.word_ids.end(), n, -1);
  encoding.sequence_ids.insert(encoding.sequence_ids.end(), n, -1);
  encoding.byte_offsets.insert(encoding.byte_offsets.end(), n, Offset{});
  encoding.char_offsets.insert(encoding.char_offsets.end(), n, Offset{});
}

void truncate_encodings(Encoding& encoding, Encoding* pair, std::size_t max_length, std::size_t stride,
                        TruncationStrategy strategy) {
  if (max_length == 0) {
    truncate(encoding, 0, stride);
    if (pair) truncate(*pair, 0, stride);
    return;
  }
  const std::size_t total = encoding.size() + (pair ? pair->size() : 0);
  if (total <= max_length) return;
  const std::size_t to_remove = total - max_length;
  switch (strategy) {
    case TruncationStrategy::longest_first: {
      if (!pair) {
        truncate(encoding, total - to_remove, stride);
        return;
      }
      // With n1 the shorter length: only the longer one is cut when the shorter fits in half, else both are
      // cut to half of max_length (the second gets the odd token).
      std::size_t n1 = encoding.size(), n2 = pair->size();
      const bool swapped = n1 > n2;
      if (swapped) std::swap(n1, n2);
      n2 = n1 > max_length ? n1 : std::max(n1, max_length - n1);
      if (n1 + n2 > max_length) {
        n1 = max_length / 2;
        n2 = n1 + max_length % 2;
      }
      if (swapped) std::swap(n1, n2);
      truncate(encoding, n1, stride);
      truncate(*pair, n2, stride);
      return;
    }
    case TruncationStrategy::only_first:
    case TruncationStrategy::only_second: {
      Encoding* target = strategy == TruncationStrategy::only_first ? &encoding : pair;
      if (!target) {
        throw InvalidArgumentError("truncation only_second: the second sequence is not provided");
      }
      const std::size_t target_len = target->size();
      if (target_len <= to_remove) {
        throw InvalidArgumentError(
            std::string("truncation ") + (strategy == TruncationStrategy::only_first ? "only_first" : "only_second") +
            ": the sequence to truncate has " + std::to_string(target_len) + " tokens, " +
            std::to_string(to_remove) + " must be removed to respect max_length");
      }
      truncate(*target, target_len - to_remove, stride);
      return;
    }
  }
}

}  // namespace bertcpp::tokenizer
