// Token scores -> entities, as transformers' TokenClassificationPipeline.postprocess does it: gather the
// non-special tokens of a window (gather_pre_entities), label them or their words (aggregate / aggregate_words),
// group adjacent ones into B-/I- entities (group_entities), drop the ignored labels, and merge the entities of
// overlapping windows (aggregate_overlapping_entities).
//
// Pure functions over plain data, so that each step can be tested without a model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bertcpp/pipelines.hpp"
#include "bertcpp/tokenizer.hpp"

namespace bertcpp::heads::ner {

// One non-special token of one window.
struct PreEntity {
  std::string word;           // the token ("##ing"), or the original text when the token is [UNK]
  std::vector<float> scores;  // [num_labels], softmax of the token's logits
  std::size_t start = 0, end = 0;            // code points into the text
  std::size_t byte_start = 0, byte_end = 0;  // bytes into the text
  std::int64_t index = 0;     // position of the token in its window
  // Continues the previous token's word; see SubwordRule.
  bool is_subword = false;
};

// How gather_pre_entities tells a word's continuation tokens, as transformers' gather_pre_entities does:
// - continuing_prefix: the tokenizer's model has a continuing_subword_prefix (WordPiece "##": BERT, ELECTRA,
//   DistilBERT): a token is a subword when its text differs in length from the text it covers.
// - space_heuristic: every other tokenizer (byte-level BPE without a prefix: RoBERTa; SentencePiece unigram:
//   XLM-R, ALBERT): a token is a subword unless it starts the text or a space (U+0020 only) is the character
//   before it or its own first character.
enum class SubwordRule { continuing_prefix, space_heuristic };

// The rule of a loaded tokenizer: continuing_prefix for a WordPiece model (from tokenizer.json or vocab.txt;
// byte-level BPE with a non-empty continuing_subword_prefix is refused at load), space_heuristic for BPE and
// SentencePiece. Read from the tokenizer already loaded: no tokenizer file is read again.
SubwordRule subword_rule(const Tokenizer& tokenizer);

// Token strings -> text (transformers' convert_tokens_to_string, i.e. the tokenizer's decoder).
using TokensToString = std::function<std::string(std::span<const std::string>)>;

// Row-wise softmax of logits [tokens, num_labels], in place (kernels::probabilities, the heads' one softmax).
void softmax_rows(std::span<float> logits, std::size_t num_labels);

// The non-special tokens of `window` with their scores [window.size(), num_labels]. `text` is the text the
// window's offsets point into; `tokenizer` the one that made the window (token strings, the [UNK] id).
std::vector<PreEntity> gather_pre_entities(std::string_view text, const Encoding& window,
                                           std::span<const float> scores, std::size_t num_labels,
                                           const Tokenizer& tokenizer,
                                           SubwordRule rule = SubwordRule::continuing_prefix);

// Entities of one window before ignore_labels: one per token for Aggregation::none (`entity`, `index` set),
// else groups (`entity_group` set). `labels` is id2label.
std::vector<Entity> aggregate(const std::vector<PreEntity>& pre_entities, Aggregation aggregation,
                              const std::vector<std::string>& labels, const TokensToString& to_string);

// FIRST / AVERAGE / MAX: one entity per word (a token and the subword tokens after it). InvalidArgumentError
// for none / simple.
std::vector<Entity> aggregate_words(const std::vector<PreEntity>& pre_entities, Aggregation aggregation,
                                    const std::vector<std::string>& labels, const TokensToString& to_string);

// Adjacent entities whose labels share a tag, each but the first not a "B-", become one group: the tag as
// entity_group, the mean score, the decoded words, the first start and the last end.
std::vector<Entity> group_entities(const std::vector<Entity>& entities, const TokensToString& to_string);

// Splits a label into its B/I marker and tag: "B-PER" -> {'B', "PER"}, "I-PER" -> {'I', "PER"}, "PER" -> {'I', "PER"}.
std::pair<char, std::string_view> split_tag(std::string_view label);

// Removes entities whose label (entity, or entity_group when `grouped`) is in `ignore_labels`.
void drop_ignored(std::vector<Entity>& entities, const std::vector<std::string>& ignore_labels, bool grouped);

// Entities of several overlapping windows -> one list sorted by start: of entities whose starts overlap the
// kept one, the longer (then the higher scoring) one wins.
std::vector<Entity> merge_overlapping(std::vector<Entity> entities);

}  // namespace bertcpp::heads::ner
