// Operations on Encoding that reproduce tokenizers' Encoding::{truncate, merge_with, pad} and
// truncate_encodings exactly, including how overflowing windows of a pair combine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bertcpp/tokenizer.hpp"

namespace bertcpp::tokenizer {

// Room for n tokens in every per-token field; char_offsets too unless the caller fills it afterwards.
inline void reserve_tokens(Encoding& e, std::size_t n, bool with_char_offsets = true) {
  e.input_ids.reserve(n);
  e.token_type_ids.reserve(n);
  e.attention_mask.reserve(n);
  e.special_tokens_mask.reserve(n);
  e.tokens.reserve(n);
  e.word_ids.reserve(n);
  e.sequence_ids.reserve(n);
  e.byte_offsets.reserve(n);
  if (with_char_offsets) e.char_offsets.reserve(n);
}

// Keeps the first max_len tokens; the rest become overflowing windows of max_len tokens that overlap by
// `stride` tokens (windows start every max_len - stride tokens; the last one ends at the end). max_len == 0
// moves everything to a single overflowing entry. Throws InvalidArgumentError when stride >= max_len and
// truncation is needed (tokenizers panics there).
void truncate(Encoding& encoding, std::size_t max_len, std::size_t stride);

// Appends `pair` to `encoding` (offsets are not shifted: each sequence keeps offsets into its own text) and
// combines the overflowing windows as tokenizers does: every overflowing window of `encoding` with `pair` and
// with each of its windows, then `encoding` itself with each window of `pair`.
void merge_with(Encoding& encoding, const Encoding& pair);

// Right padding to target_length, applied to the overflowing windows too.
void pad(Encoding& encoding, std::size_t target_length, std::int32_t pad_id, std::int32_t pad_type_id,
         const std::string& pad_token);

// tokenizers' ByteLevel process_offsets (RobertaProcessing / ByteLevel with trim_offsets): each token's offsets
// lose the spaces its string starts or ends with ('Ġ' or whitespace characters), counted in code points on the
// char offsets as tokenizers does (byte offsets follow through `text`, the text the encoding came from). The
// first token (index 0, or offset 0) keeps a single leading space when add_prefix_space put it there.
// Overflowing windows are not touched (the caller applies this to each).
void trim_byte_level_offsets(Encoding& encoding, std::string_view text, bool add_prefix_space);

enum class TruncationStrategy { longest_first, only_first, only_second };

// tokenizers' truncate_encodings: max_length is what is left for the sequences (special tokens already
// subtracted). Throws InvalidArgumentError for only_second without a pair and when the sequence to truncate is
// too short.
void truncate_encodings(Encoding& encoding, Encoding* pair, std::size_t max_length, std::size_t stride,
                        TruncationStrategy strategy);

}  // namespace bertcpp::tokenizer
