// The loaded state behind bertcpp::Tokenizer: one immutable pipeline
//   added tokens (original text) -> SegmentEncoder (normalizer, normalized added tokens, pre-tokenizer, model)
//   -> truncation -> post-processor template -> padding.
// The SegmentEncoder (segment_encoder.hpp) is the only family-specific part: WordPiece, byte-level BPE, ...
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bertcpp/tokenizer.hpp"
#include "tokenizer/added_tokens.hpp"
#include "tokenizer/segment_encoder.hpp"

namespace bertcpp {

// A post-processor template (TemplateProcessing; BertProcessing is expressed as one).
struct TemplatePiece {
  bool is_sequence = false;
  int sequence = 0;          // 0 = A, 1 = B (for sequences)
  std::string special;       // key into TemplateSpecials (for special tokens)
  std::int32_t type_id = 0;
};

struct TemplateSpecial {
  std::vector<std::int32_t> ids;
  std::vector<std::string> tokens;
};

struct PostProcessor {
  bool present = false;  // a template (TemplateProcessing, BertProcessing, RobertaProcessing)
  std::vector<TemplatePiece> single, pair;
  std::unordered_map<std::string, TemplateSpecial> specials;
  // ByteLevel offset trimming (RobertaProcessing or ByteLevel with trim_offsets), after truncation.
  bool trim_offsets = false;
  bool trim_add_prefix_space = false;
  // RobertaProcessing gives overflowing windows the template's type ids too; TemplateProcessing leaves a
  // window the index of its sequence (0 / 1), whatever the template says (tokenizers' behaviour, checked by the
  // XLM-R and RoBERTa stride fixtures).
  bool retype_overflowing = false;

  std::size_t added_tokens(bool is_pair) const;
};

struct Tokenizer::Impl {
  std::string source;  // file the tokenizer came from, for messages

  // The text between added tokens -> tokens; never null once loaded.
  std::unique_ptr<const tokenizer::SegmentEncoder> model;

  std::vector<tokenizer::AddedToken> added_tokens;
  tokenizer::AddedTokenMatcher raw_matcher;         // tokens with normalized == false
  tokenizer::AddedTokenMatcher normalized_matcher;  // tokens with normalized == true
  std::unordered_map<std::int32_t, std::size_t> added_by_id;

  PostProcessor post_processor;

  std::size_t model_max_length = 512;
  std::int32_t cls_id = -1, sep_id = -1, pad_id = -1, unk_id = -1;
  std::optional<std::int32_t> mask_id;
  std::string pad_token = "[PAD]";

  // Finishes construction: matchers, id index, special ids from the token names.
  void finalize(const std::string& cls_token, const std::string& sep_token, const std::string& pad_token_name,
                const std::string& mask_token);

  // One sequence, before truncation and special tokens: type_ids and sequence_ids are `sequence`.
  // token_limit: the caller keeps only the first token_limit - 1 tokens (truncation without stride), so
  // tokenization may stop once token_limit tokens exist (when the pipeline allows it: see
  // SegmentEncoder::splits_before_spaces); the tokens it returns are the same as a full run's first ones.
  Encoding encode_sequence(std::string_view text, int sequence, std::string_view what,
                           std::size_t token_limit = kNoTokenLimit) const;
  static constexpr std::size_t kNoTokenLimit = static_cast<std::size_t>(-1);
  // The token_limit of sequence 0 or 1 under `options` (kNoTokenLimit when every token is needed).
  std::size_t token_limit(const EncodeOptions& options, bool is_pair, int sequence) const;
  // text_a / text_b: the texts a and b came from (offset trimming steps over their characters).
  Encoding post_process(Encoding a, std::string_view text_a, std::optional<Encoding> b, std::string_view text_b,
                        const EncodeOptions& options) const;
  // The template applied when no sequence has overflowing windows (same result as the general merge).
  void merge_template_simple(Encoding& a, Encoding* b, bool add_special_tokens, Encoding& out) const;
  std::optional<std::int32_t> token_to_id(std::string_view token) const;
  const std::string* id_to_token(std::int32_t id) const;
};

// A loaded Tokenizer's internals, for the library's own layers (heads read the model pipeline's properties).
struct TokenizerInternals {
  static const Tokenizer::Impl& impl(const Tokenizer& t) { return *t.impl_; }
};

namespace tokenizer {
std::shared_ptr<const Tokenizer::Impl> load_tokenizer_json(const std::filesystem::path& file,
                                                           const std::filesystem::path* config_dir);
// mpnet_layout: transformers' MPNetTokenizer over the vocabulary - RoBERTa's post-processor (<s> A </s></s> B </s>,
// every type id 0) and a mask token that swallows the whitespace on its left; else BERT's.
std::shared_ptr<const Tokenizer::Impl> load_vocab(const std::filesystem::path& vocab_txt,
                                                  const Tokenizer::WordPieceOptions& options, bool mpnet_layout = false);
}  // namespace tokenizer

}  // namespace bertcpp
