// The GPT-2 / RoBERTa pipeline as a SegmentEncoder: no normalizer, ByteLevel pre-tokenizer, byte-level BPE,
// ByteLevel decoder.
//
// Offsets: every byte of the text is one character of the byte alphabet, so a BPE token covers a byte range of
// the original text. Like tokenizers, a token that starts or ends inside a multi-byte character reports the
// whole character. With add_prefix_space, every stretch of text the pre-tokenizer sees that does not start with
// ' ' gets one (the stretches between added tokens each get their own); that space stands for the stretch's
// first character in offsets. Trimming the spaces out of offsets (trim_offsets) is the post-processor's job
// (Tokenizer::Impl::post_process), after truncation, as in tokenizers.
#pragma once

#include <optional>
#include <string>

#include "tokenizer/bpe/bpe.hpp"
#include "tokenizer/segment_encoder.hpp"

namespace bertcpp::tokenizer {

struct ByteLevelOptions {
  bool add_prefix_space = false;  // ' ' before a stretch that does not start with one
  bool use_regex = true;          // split with the GPT-2 pattern; false: each stretch is one word
};

class BpeEncoder final : public SegmentEncoder {
 public:
  // byte_level_decoder false: tokenizer.json has no decoder, decode() joins the token strings with spaces.
  BpeEncoder(Bpe model, ByteLevelOptions pre_tokenizer, bool byte_level_decoder);

  void encode(std::string_view text, std::size_t begin, std::size_t end, const NormalizedAddedTokens& added,
              TokenSink& sink) const override;
  std::string normalize(std::string_view content) const override { return std::string(content); }
  std::optional<std::int32_t> token_to_id(std::string_view token) const override { return model_.token_to_id(token); }
  const std::string* id_to_token(std::int32_t id) const override;
  std::size_t vocab_size() const noexcept override { return model_.size(); }
  std::optional<std::int32_t> unk_id() const noexcept override { return model_.options().unk_id; }
  std::string decode(std::span<const std::string_view> tokens) const override;
  // The GPT-2 pattern ends a match before " x" after a non-space (a space starts the next word), and a piece
  // that starts with ' ' gets no prefix space.
  bool splits_before_spaces() const noexcept override { return pre_tokenizer_.use_regex; }

  const Bpe& model() const noexcept { return model_; }
  const ByteLevelOptions& pre_tokenizer() const noexcept { return pre_tokenizer_; }

 private:
  void encode_stretch(std::string_view text, std::size_t begin, std::size_t end, TokenSink& sink) const;

  Bpe model_;
  ByteLevelOptions pre_tokenizer_;
  bool byte_level_decoder_;
};

}  // namespace bertcpp::tokenizer
