// The model pipeline of a tokenizer: what turns the plain text between added tokens into tokens.
//
// Tokenizer::Impl is generic: it finds the added tokens that are matched in the original text ([CLS], <mask>,
// ...), hands every stretch of plain text between them to its SegmentEncoder, then applies truncation, the
// post-processor template and padding. A SegmentEncoder owns everything specific to one tokenizer family:
//
//   WordPieceEncoder  (wordpiece/encoder.hpp)  BertNormalizer -> BertPreTokenizer -> WordPiece; WordPiece decoder
//   BpeEncoder        (bpe/encoder.hpp)        ByteLevel pre-tokenizer -> byte-level BPE;    ByteLevel decoder
//
// Contract for an implementation:
// - encode() is called once per plain segment (one virtual call per segment, none per token). It appends the
//   segment's tokens to the TokenSink in order, each with its vocabulary id, its token string and the byte range
//   [begin, end) of the ORIGINAL text it covers (absolute offsets into `text`, at code point boundaries), and
//   calls TokenSink::end_word() after each pre-tokenized word, so word_ids count words as tokenizers does.
// - Added tokens with normalized == true are the encoder's business (they are found in its normalized text):
//   `added.matcher` finds them, and the encoder pushes `added.tokens[i]` as one word.
// - Every const member may be called concurrently from several threads (per-thread scratch only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bertcpp/tokenizer.hpp"
#include "tokenizer/added_tokens.hpp"

namespace bertcpp::tokenizer {

// Appends tokens of one sequence (its index is the type id and the sequence id) to an Encoding. Inline and
// non-virtual: it is the per-token hot path. Offsets are byte offsets; char offsets are derived afterwards.
class TokenSink {
 public:
  TokenSink(Encoding& out, int sequence) : out_(out), sequence_(sequence) {}

  void push(std::int32_t id, const std::string& token, std::size_t begin, std::size_t end) {
    out_.input_ids.push_back(id);
    out_.token_type_ids.push_back(sequence_);
    out_.attention_mask.push_back(1);
    out_.special_tokens_mask.push_back(0);
    out_.tokens.push_back(token);
    out_.word_ids.push_back(word_);
    out_.sequence_ids.push_back(sequence_);
    out_.byte_offsets.push_back({begin, end});
  }
  // The tokens pushed so far form one word; the next push starts a new one.
  void end_word() noexcept { ++word_; }

 private:
  Encoding& out_;
  int sequence_;
  std::int64_t word_ = 0;
};

// The added tokens an encoder must find in its normalized text (normalized == true).
struct NormalizedAddedTokens {
  const AddedTokenMatcher& matcher;
  const std::vector<AddedToken>& tokens;
};

class SegmentEncoder {
 public:
  virtual ~SegmentEncoder() = default;

  // Tokenizes text[begin, end) (valid UTF-8, no added token of the original text inside) into `sink`.
  virtual void encode(std::string_view text, std::size_t begin, std::size_t end, const NormalizedAddedTokens& added,
                      TokenSink& sink) const = 0;

  // An added token's content as this pipeline's normalizer writes it (what the normalized matcher looks for).
  virtual std::string normalize(std::string_view content) const = 0;

  // The model's vocabulary (added tokens are handled by Tokenizer::Impl on top of it).
  virtual std::optional<std::int32_t> token_to_id(std::string_view token) const = 0;
  virtual const std::string* id_to_token(std::int32_t id) const = 0;  // nullptr when out of range
  virtual std::size_t vocab_size() const noexcept = 0;
  virtual std::optional<std::int32_t> unk_id() const noexcept = 0;

  // Token strings -> text with this pipeline's decoder (tokenizers' Decoder::decode over the whole list).
  virtual std::string decode(std::span<const std::string_view> tokens) const = 0;

  // True when encoding text[begin, end) as consecutive pieces, each cut just before an ASCII space that follows
  // a non-space byte, gives the same tokens as one call (the pre-tokenizer splits there and no normalization
  // looks across it). Truncation then tokenizes a long text piece by piece and stops once enough tokens exist.
  virtual bool splits_before_spaces() const noexcept { return false; }
  // Whether the model marks a word's continuation tokens with a prefix ("##" of WordPiece); transformers' token
  // classification pipeline tells subwords by it.
  virtual bool has_continuing_subword_prefix() const noexcept { return false; }
};

}  // namespace bertcpp::tokenizer
