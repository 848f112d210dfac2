// Text -> SentencePiece tokens with original offsets, as transformers' SentencePiece tokenizers (ALBERT, XLM-R)
// produce them:
//
//   normalizer (sentencepiece/normalizer.hpp) -> WhitespaceSplit (Unicode White_Space, removed)
//   -> Metaspace("▁", prepend_scheme always/never, split): "▁" put before each word that does not start with
//      one (aligned to the word's first character), then a new word at every "▁"
//   -> unigram segmentation of each word by bertcpp's UnigramSegmenter (sentencepiece/unigram.hpp, through
//      SentencePieceModel::encode_word); the sentencepiece library only loads and checks the model.
//
// A token's offsets cover the original characters its normalized bytes came from; a lone "▁" piece therefore
// has the offsets of the character that follows it, and the prefix "▁" of "▁word" adds nothing to the word's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_tokens.hpp"
#include "tokenizer/sentencepiece/model.hpp"
#include "tokenizer/sentencepiece/normalizer.hpp"

namespace bertcpp::tokenizer {

struct SentencePieceToken {
  std::int32_t id;
  std::uint32_t begin;  // byte offsets into the text given to encode()
  std::uint32_t end;
  std::int64_t word;    // pre-tokenized word index (counting on from the caller's counter)
  std::int32_t added = -1;  // index into the added tokens when this is a normalized added token
  std::string unknown;      // for the unk id: the normalized text it stands for (tokenizers' token string)
};

// Added tokens to find in the normalized text (tokenizers' AddedVocabulary, normalized == true): each match is
// one word of its own, taken out before pre-tokenization.
struct SentencePieceAddedTokens {
  const AddedTokenMatcher* matcher = nullptr;
  const std::vector<AddedToken>* tokens = nullptr;
};

class SentencePiecePipeline {
 public:
  SentencePiecePipeline(SentencePieceModel model, SentencePieceNormalizer normalizer, bool add_prefix_space)
      : model_(std::move(model)), normalizer_(std::move(normalizer)), add_prefix_space_(add_prefix_space) {}

  // Encodes a stretch of valid UTF-8 without special tokens, appending to out; `word` is the index given to
  // the next word and is advanced past the words emitted.
  void encode(std::string_view text, std::vector<SentencePieceToken>& out, std::int64_t& word,
              const SentencePieceAddedTokens& added = {}) const;

  const SentencePieceModel& model() const noexcept { return model_; }
  const SentencePieceNormalizer& normalizer() const noexcept { return normalizer_; }
  bool add_prefix_space() const noexcept { return add_prefix_space_; }

 private:
  void pre_tokenize(const AlignedText& norm, std::size_t begin, std::size_t end, std::vector<SentencePieceToken>& out,
                    std::int64_t& word) const;
  void encode_word(const AlignedText& norm, std::size_t begin, std::size_t end, std::vector<SentencePieceToken>& out,
                   std::int64_t& word) const;

  SentencePieceModel model_;
  SentencePieceNormalizer normalizer_;
  bool add_prefix_space_ = true;
};

}  // namespace bertcpp::tokenizer
