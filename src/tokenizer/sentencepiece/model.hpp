// A SentencePiece unigram model (spiece.model, sentencepiece.bpe.model), with the vocabulary laid out as
// transformers lays it out for the model family:
//
//   albert       ids are the model's own (<pad>=0, <unk>=1, [CLS]=2, [SEP]=3, [MASK]=4 in ALBERT's models)
//   xlm_roberta  fairseq's layout: <s>=0, <pad>=1, </s>=2, <unk>=3, then piece i (i >= 3) at i + 1, and <mask>
//                last; the model's own <unk>/<s>/</s> (pieces 0..2) map to 3/0/2
//
// The sentencepiece library loads and checks the model (given it with an identity normalizer: bertcpp normalizes
// as Hugging Face's pipeline does, see sentencepiece/normalizer.hpp). Words are segmented by UnigramSegmenter,
// which reproduces transformers' double-precision best path; encode_word_with_library() runs the library's own
// segmentation for comparison (it differs only where two segmentations score the same).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/sentencepiece/unigram.hpp"

namespace bertcpp::tokenizer {

enum class SentencePieceVariant { albert, xlm_roberta };

class SentencePieceModel {
 public:
  // Reads and checks the file: IoError when it cannot be read, FormatError when it is not a SentencePiece model
  // (truncated, garbage), UnsupportedError for models that are not unigram or use byte fallback, ConfigError
  // when an XLM-R model does not start with <unk>, <s>, </s>. Messages name the file.
  static SentencePieceModel load(const std::filesystem::path& file, SentencePieceVariant variant);

  // Segments one normalized word (e.g. "▁hello"); appends its pieces. Unknown characters become the unk id, a
  // run of them one token (as the library and tokenizers' Unigram both do).
  void encode_word(std::string_view word, std::vector<SentencePiecePiece>& out) const;
  // The same through SentencePieceProcessor::Encode (single-precision scores, see sentencepiece/unigram.hpp).
  void encode_word_with_library(std::string_view word, std::vector<SentencePiecePiece>& out) const;

  std::size_t size() const noexcept;
  const std::string& id_to_token(std::int32_t id) const;  // id < size()
  std::optional<std::int32_t> token_to_id(std::string_view token) const;
  std::int32_t unk_id() const noexcept;
  SentencePieceVariant variant() const noexcept;
  // The model's normalizer_spec.precompiled_charsmap (empty when it has none).
  const std::string& precompiled_charsmap() const noexcept;
  const std::string& source() const noexcept;

 private:
  struct State;
  explicit SentencePieceModel(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

}  // namespace bertcpp::tokenizer
