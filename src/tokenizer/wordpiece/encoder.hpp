// The BERT pipeline as a SegmentEncoder: BertNormalizer (optional) -> normalized added tokens ->
// BertPreTokenizer (optional) -> WordPiece, and tokenizers' WordPiece decoder.
#pragma once

#include <optional>
#include <string>

#include "tokenizer/wordpiece/normalizer.hpp"
#include "tokenizer/segment_encoder.hpp"
#include "tokenizer/wordpiece/wordpiece.hpp"

namespace bertcpp::tokenizer {

struct WordPieceDecoderOptions {
  bool present = true;         // tokenizer.json "decoder": null joins tokens with spaces
  std::string prefix = "##";   // continuation prefix removed when joining
  bool cleanup = true;         // clean_up_tokenization_spaces, per token
};

class WordPieceEncoder final : public SegmentEncoder {
 public:
  // normalizer: std::nullopt when the tokenizer has none. pre_tokenize: BertPreTokenizer present; without it
  // every normalized stretch between added tokens is one word.
  WordPieceEncoder(std::optional<Normalizer> normalizer, bool pre_tokenize, WordPiece model,
                   WordPieceDecoderOptions decoder);

  void encode(std::string_view text, std::size_t begin, std::size_t end, const NormalizedAddedTokens& added,
              TokenSink& sink) const override;
  std::string normalize(std::string_view content) const override;
  std::optional<std::int32_t> token_to_id(std::string_view token) const override { return model_.token_to_id(token); }
  const std::string* id_to_token(std::int32_t id) const override;
  std::size_t vocab_size() const noexcept override { return model_.size(); }
  std::optional<std::int32_t> unk_id() const noexcept override;
  std::string decode(std::span<const std::string_view> tokens) const override;
  // BertPreTokenizer splits at whitespace; BertNormalizer maps code points one by one (NFD and final-sigma
  // lowercasing do not look across a space).
  bool splits_before_spaces() const noexcept override { return pre_tokenize_; }
  bool has_continuing_subword_prefix() const noexcept override { return true; }

  const WordPiece& model() const noexcept { return model_; }

 private:
  friend class WordPieceSegment;
  std::optional<Normalizer> normalizer_;
  bool pre_tokenize_;
  WordPiece model_;
  WordPieceDecoderOptions decoder_;
};

}  // namespace bertcpp::tokenizer
