// SentencePiece tokenizers (ALBERT's spiece.model, XLM-R's sentencepiece.bpe.model) as a SegmentEncoder, and
// their loader.
//
// A model directory holding one of those files is loaded from it (even when a tokenizer.json is also there):
// the pipeline is the one transformers 5 builds when it converts the model (sentencepiece/pipeline.hpp), the
// special tokens and post-processor template are the family's, and tokenizer_config.json supplies the settings
// (do_lower_case, keep_accents, add_prefix_space, token names, model_max_length).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "bertcpp/tokenizer.hpp"
#include "tokenizer/segment_encoder.hpp"
#include "tokenizer/sentencepiece/pipeline.hpp"

namespace bertcpp::tokenizer {

class SentencePieceEncoder final : public SegmentEncoder {
 public:
  explicit SentencePieceEncoder(SentencePiecePipeline pipeline) : pipeline_(std::move(pipeline)) {}

  void encode(std::string_view text, std::size_t begin, std::size_t end, const NormalizedAddedTokens& added,
              TokenSink& sink) const override;
  std::string normalize(std::string_view content) const override;
  std::optional<std::int32_t> token_to_id(std::string_view token) const override {
    return pipeline_.model().token_to_id(token);
  }
  const std::string* id_to_token(std::int32_t id) const override;
  std::size_t vocab_size() const noexcept override { return pipeline_.model().size(); }
  std::optional<std::int32_t> unk_id() const noexcept override { return pipeline_.model().unk_id(); }
  // tokenizers' Metaspace decoder: "▁" -> " ", and with add_prefix_space every "▁" of the first token dropped.
  std::string decode(std::span<const std::string_view> tokens) const override;

  const SentencePiecePipeline& pipeline() const noexcept { return pipeline_; }

 private:
  SentencePiecePipeline pipeline_;
};

// The SentencePiece model file of a model directory (spiece.model, then sentencepiece.bpe.model), if any.
std::optional<std::filesystem::path> find_sentencepiece_model(const std::filesystem::path& dir);

// Loads the tokenizer of `dir` from its SentencePiece model file. The family comes from tokenizer_config.json's
// tokenizer_class (AlbertTokenizer[Fast] / XLMRobertaTokenizer[Fast]), else config.json's model_type (albert /
// xlm-roberta), else the file name (spiece.model: ALBERT, sentencepiece.bpe.model: XLM-R); another
// tokenizer_class is an UnsupportedError.
std::shared_ptr<const Tokenizer::Impl> load_sentencepiece(const std::filesystem::path& dir,
                                                          const std::filesystem::path& model_file);

}  // namespace bertcpp::tokenizer
