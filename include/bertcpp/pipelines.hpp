// bertcpp/pipelines.hpp - task heads end to end from text, as transformers' pipelines and sentence-transformers.
//
//   auto clf = bertcpp::SequenceClassifier::load("my-sst2-checkpoint");
//   auto top = clf.classify("a gripping, funny film");           // [{label: "POSITIVE", score: 0.998}]
//
//   auto ner = bertcpp::TokenClassifier::load("my-ner-checkpoint");
//   bertcpp::NerOptions o; o.aggregation = bertcpp::Aggregation::simple;
//   for (auto& e : ner.recognize("Angela Merkel visited Paris.", o))
//     std::cout << e.entity_group << " " << e.word << " [" << e.start << "," << e.end << ")\n";
//
//   auto st = bertcpp::SentenceEmbedder::load("models/cache/all-MiniLM-L6-v2");
//   bertcpp::Tensor emb = st.encode({"first sentence", "second sentence"});   // [2, 384], L2-normalized
//
//   auto fm = bertcpp::FillMask::load("roberta-base");                       // any variant's *ForMaskedLM
//   auto best = fm.fill("Paris is the " + fm.mask_token() + " of France.")[0][0].token_str;
//
//   auto rtd = bertcpp::ReplacedTokenDetector::load("electra-small-discriminator");
//   for (const auto& t : rtd.detect("The chef ate the meal.")) if (t.replaced) std::cout << t.token << '\n';
//
// X::load(dir, options) loads the encoder, the tokenizer and the head's tensors from one Hugging Face checkpoint
// directory. X::load(model, dir) attaches the head of `dir` to an already loaded BertModel instead: the encoder's
// weights, its oneDNN engine, GEMM cache and workspaces are shared, not loaded again, so several heads on one model
// hold one copy of the encoder (dir must hold the head's tensors and a config.json of the same model_type; the
// model must have its tokenizer). Results are the same either way.
//
//   const auto model = bertcpp::BertModel::load("bert-multitask");    // copies of a BertModel share its weights
//   auto clf = bertcpp::SequenceClassifier::load(model, "bert-multitask/sentiment");  // head tensors + config.json
//   auto ner = bertcpp::TokenClassifier::load(model, "bert-multitask/ner");
//
// Every head runs on the encoder's packed output (the real tokens of the batch back to back) in one encoder pass
// per batch of inputs; recognize_with_logits / answer_with_logits give the results and the raw logits of the same
// pass. Character offsets (start, end) are code-point indices into the caller's text, as Python reports; byte
// offsets are given next to them. Pipelines are immutable after load; every const member is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bertcpp/model.hpp"
#include "bertcpp/tensor.hpp"

namespace bertcpp {

// ---- sequence classification (*ForSequenceClassification) --------------------------------------------------
// The head follows config.json's model_type: BERT / ALBERT classify the pooler output; RoBERTa / XLM-R / MPNet,
// ELECTRA and DistilBERT the first token through their two-layer heads (docs/pipelines.md).

// transformers' function_to_apply. automatic: sigmoid when num_labels == 1 or problem_type is
// "multi_label_classification", else softmax.
enum class ScoreFunction { automatic, softmax, sigmoid, none };

struct LabelScore {
  std::string label;  // id2label[i], or "LABEL_i"
  float score = 0.0f;
};

struct ClassifyOptions {
  // Labels returned, best first. 0 or more than num_labels: all of them.
  std::size_t top_k = 1;
  ScoreFunction function_to_apply = ScoreFunction::automatic;
};

struct Classification {
  std::vector<LabelScore> labels;  // best first, top_k of them
  std::vector<float> logits;       // [num_labels], raw
};

class SequenceClassifier {
 public:
  static SequenceClassifier load(const std::filesystem::path& dir, const LoadOptions& options = {});
  // The head of `dir` on a loaded model, sharing its encoder (see the top of this file).
  static SequenceClassifier load(const BertModel& model, const std::filesystem::path& dir);
  Classification classify(std::string_view text, const ClassifyOptions& options = {}) const;
  Classification classify(std::string_view text, std::string_view text_pair, const ClassifyOptions& options = {}) const;
  std::vector<Classification> classify_batch(std::span<const std::string> texts, const ClassifyOptions& options = {}) const;
  const std::vector<std::string>& labels() const noexcept;  // id2label in id order
  struct Impl;

 private:
  explicit SequenceClassifier(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// ---- token classification / NER (*ForTokenClassification: last_hidden_state -> classifier) ---------------

enum class Aggregation { none, simple, first, average, max };

struct Entity {
  std::string entity;        // aggregation none: the token's label, e.g. "B-PER"
  std::string entity_group;  // other aggregations: the label without its B-/I- prefix, e.g. "PER"
  float score = 0.0f;
  std::string word;          // the (decoded) text of the entity
  std::size_t start = 0, end = 0;            // code-point offsets into the text
  std::size_t byte_start = 0, byte_end = 0;  // byte offsets into the text
  std::int64_t index = -1;   // aggregation none: the token's index in the encoding; else -1
};

struct NerOptions {
  Aggregation aggregation = Aggregation::none;
  std::vector<std::string> ignore_labels = {"O"};
  // Unset (transformers' default): a text longer than the model's window is truncated. Set: it is split into
  // windows overlapping by `stride` tokens and their entities merged, as transformers' `stride` (which, like
  // transformers, requires an aggregation other than none: InvalidArgumentError otherwise).
  std::optional<std::size_t> stride;
  // Window length in tokens, special tokens included; 0: the tokenizer's model_max_length (as transformers).
  std::size_t max_length = 0;
};

class TokenClassifier {
 public:
  static TokenClassifier load(const std::filesystem::path& dir, const LoadOptions& options = {});
  // The head of `dir` on a loaded model, sharing its encoder (see the top of this file).
  static TokenClassifier load(const BertModel& model, const std::filesystem::path& dir);
  std::vector<Entity> recognize(std::string_view text, const NerOptions& options = {}) const;
  // Raw per-token logits [windows, tokens, num_labels] (windows as recognize() makes them; padded with zeros).
  Tensor logits(std::string_view text, const NerOptions& options = {}) const;
  // Both from one encoder pass per window batch: what recognize() and logits() return.
  struct Recognition {
    std::vector<Entity> entities;
    Tensor logits;  // [windows, tokens, num_labels]
  };
  Recognition recognize_with_logits(std::string_view text, const NerOptions& options = {}) const;
  const std::vector<std::string>& labels() const noexcept;
  struct Impl;

 private:
  explicit TokenClassifier(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// ---- extractive question answering (*ForQuestionAnswering: qa_outputs -> start/end logits) ----------------

struct QaOptions {
  std::size_t top_k = 1;
  // Context tokens shared by consecutive windows. Unset: min(max_seq_len / 2, 128), as transformers.
  std::optional<std::size_t> doc_stride;
  std::size_t max_answer_len = 15;
  // Window length in tokens (question + context + special tokens). Unset: min(model_max_length, 384).
  std::optional<std::size_t> max_seq_len;
  // Accepted for compatibility: like transformers' pipeline with a fast tokenizer, the question is not cut.
  std::size_t max_question_len = 64;
  bool handle_impossible_answer = false;
  // Widen each answer to the whole words its first and last tokens belong to (transformers' align_to_words).
  bool align_to_words = true;
};

struct Answer {
  float score = 0.0f;
  std::size_t start = 0, end = 0;            // code-point offsets into the context
  std::size_t byte_start = 0, byte_end = 0;  // byte offsets into the context
  std::string answer;                        // context[start, end)
};

class QuestionAnswerer {
 public:
  static QuestionAnswerer load(const std::filesystem::path& dir, const LoadOptions& options = {});
  // The head of `dir` on a loaded model, sharing its encoder (see the top of this file).
  static QuestionAnswerer load(const BertModel& model, const std::filesystem::path& dir);
  // Best first; an impossible answer (when allowed and most likely) is {score, 0, 0, ""}.
  std::vector<Answer> answer(std::string_view question, std::string_view context, const QaOptions& options = {}) const;
  // Raw start and end logits, [windows, tokens] each (padded windows are padded with zeros).
  struct Logits {
    Tensor start_logits, end_logits;
  };
  Logits logits(std::string_view question, std::string_view context, const QaOptions& options = {}) const;
  // Both from one encoder pass per window batch: what answer() and logits() return.
  struct Result {
    std::vector<Answer> answers;
    Logits logits;
  };
  Result answer_with_logits(std::string_view question, std::string_view context, const QaOptions& options = {}) const;
  struct Impl;

 private:
  explicit QuestionAnswerer(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// ---- fill-mask (*ForMaskedLM: BERT cls.predictions, RoBERTa / XLM-R / MPNet lm_head, ALBERT predictions, ELECTRA
// ---- generator_predictions + generator_lm_head, DistilBERT vocab_transform / vocab_layer_norm / vocab_projector) --

struct FillMaskOptions {
  std::size_t top_k = 5;
  std::vector<std::string> targets;  // restrict the candidates to these tokens (as transformers)
};

struct MaskPrediction {
  float score = 0.0f;
  std::int32_t token = 0;
  std::string token_str;
  std::string sequence;  // the input with this token in place of the mask, decoded
};

class FillMask {
 public:
  static FillMask load(const std::filesystem::path& dir, const LoadOptions& options = {});
  // The head of `dir` on a loaded model, sharing its encoder (see the top of this file).
  static FillMask load(const BertModel& model, const std::filesystem::path& dir);
  // One list per mask token in the text (in order); InvalidArgumentError when the text has none.
  std::vector<std::vector<MaskPrediction>> fill(std::string_view text, const FillMaskOptions& options = {}) const;
  // Raw vocabulary logits at each mask position: [masks, vocab_size].
  Tensor logits(std::string_view text) const;
  // How fill() reads FillMaskOptions::targets, as transformers: a vocabulary token is used as it is; any other
  // target is tokenized and its first piece used instead (noted in `replaced`, e.g. "Paris -> paris"); one that
  // tokenizes to nothing is dropped (noted in `dropped`). Ids are unique, in first-seen order.
  // InvalidArgumentError when no target is left.
  struct Targets {
    std::vector<std::int32_t> ids;
    std::vector<std::string> replaced, dropped;
  };
  Targets resolve_targets(std::span<const std::string> targets) const;
  // The tokenizer's mask token: "[MASK]" (BERT, ALBERT, ELECTRA, DistilBERT), "<mask>" (RoBERTa, XLM-R, MPNet).
  const std::string& mask_token() const noexcept;
  struct Impl;

 private:
  explicit FillMask(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// ---- next-sentence prediction (BertForNextSentencePrediction / BertForPreTraining: cls.seq_relationship) ----

struct NextSentence {
  float is_next = 0.0f;       // softmax probability that B follows A (index 0)
  std::vector<float> logits;  // [2]
};

class NextSentencePredictor {
 public:
  // A BERT checkpoint with cls.seq_relationship; UnsupportedError for other model types (ALBERT's pretraining
  // task is sentence order: SentenceOrderPredictor).
  static NextSentencePredictor load(const std::filesystem::path& dir, const LoadOptions& options = {});
  // The head of `dir` on a loaded model, sharing its encoder (see the top of this file).
  static NextSentencePredictor load(const BertModel& model, const std::filesystem::path& dir);
  NextSentence predict(std::string_view first, std::string_view second) const;
  struct Impl;

 private:
  explicit NextSentencePredictor(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// ---- sentence embeddings (sentence-transformers) --------------------------------------------------------------

// sentence-transformers' pooling modes: cls, mean, max, mean_sqrt_len_tokens, weightedmean (token i of n weighted
// i + 1 ... as positions 1..n: sum_i (i+1) x_i / sum_i (i+1)), lasttoken (the last token's row).
enum class Pooling { cls, mean, max, mean_sqrt_len, weighted_mean, last_token };

// sentence-transformers' similarity functions (config_sentence_transformers.json "similarity_fn_name"): cosine, dot
// product, and the negated euclidean / manhattan distance (larger is more similar for all four).
enum class Similarity { cosine, dot, euclidean, manhattan };

struct SentenceEmbedderConfig {
  Pooling pooling = Pooling::mean;  // pooling_modes.front()
  // The Pooling module's modes in order; with several, each is a hidden_size slice of the embedding, concatenated
  // as sentence-transformers does (e.g. ["cls", "mean"]: [CLS] row, then the mean).
  std::vector<Pooling> pooling_modes{Pooling::mean};
  bool normalize = false;
  std::size_t max_seq_length = 512;
  // Length of each embedding: the last Dense module's out_features, else hidden_size x the number of pooling modes.
  std::size_t dimension = 0;
  // config_sentence_transformers.json: named prompts (text prepended to every input, e.g. "query: "; "query" and
  // "document" are always there, empty unless the file sets them, as sentence-transformers has them) and the one
  // used when encode() names none; the Pooling config's include_prompt (false: the prompt's tokens, [CLS]
  // included, are left out of the pooling, as INSTRUCTOR-style models want).
  std::map<std::string, std::string> prompts;
  std::optional<std::string> default_prompt_name;
  bool include_prompt = true;
  Similarity similarity = Similarity::cosine;  // similarity_fn_name; cosine when the model names none
};

struct EmbedOptions {
  std::size_t batch_size = 32;
  // As SentenceTransformer.encode: `prompt` is prepended to every text; else `prompt_name` names one of
  // config().prompts (an unknown name is an InvalidArgumentError); else the default prompt, if the model has one.
  // An empty `prompt` turns the default off.
  std::optional<std::string> prompt = std::nullopt;
  std::optional<std::string> prompt_name = std::nullopt;
  // As SentenceTransformer.encode(truncate_dim=): keep the first truncate_dim values of each embedding (Matryoshka
  // models), after the model's own modules (Normalize included, so the kept part is not renormalized). Larger
  // than the embedding: no effect; 0 is an InvalidArgumentError.
  std::optional<std::size_t> truncate_dim = std::nullopt;
};

class SentenceEmbedder {
 public:
  // Reads modules.json, 1_Pooling/config.json (or the Pooling module's folder), sentence_bert_config.json, and
  // each Dense module's config.json and model.safetensors (LaBSE, distiluse-*); a plain checkpoint without them
  // gets mean pooling, no normalization, max_seq_length = model_max_length.
  static SentenceEmbedder load(const std::filesystem::path& dir, const LoadOptions& options = {});
  // The head of `dir` on a loaded model, sharing its encoder (see the top of this file).
  static SentenceEmbedder load(const BertModel& model, const std::filesystem::path& dir);
  // [texts, config().dimension] (or options.truncate_dim), as SentenceTransformer.encode.
  Tensor encode(std::span<const std::string> texts, const EmbedOptions& options = {}) const;
  Tensor encode(std::initializer_list<std::string> texts, const EmbedOptions& options = {}) const {
    const std::vector<std::string> v(texts);
    return encode(std::span<const std::string>(v), options);
  }
  // As sentence-transformers' encode_query / encode_document: encode() with prompt_name "query" (or "document")
  // when `options` names no prompt. Those two prompts are always in config().prompts, empty unless the model's
  // config_sentence_transformers.json sets them, so an empty one also keeps the default prompt off.
  Tensor encode_query(std::span<const std::string> texts, EmbedOptions options = {}) const;
  Tensor encode_query(std::initializer_list<std::string> texts, const EmbedOptions& options = {}) const {
    const std::vector<std::string> v(texts);
    return encode_query(std::span<const std::string>(v), options);
  }
  Tensor encode_document(std::span<const std::string> texts, EmbedOptions options = {}) const;
  Tensor encode_document(std::initializer_list<std::string> texts, const EmbedOptions& options = {}) const {
    const std::vector<std::string> v(texts);
    return encode_document(std::span<const std::string>(v), options);
  }
  // As SentenceTransformer.similarity: [a rows, b rows] scores of config().similarity between the rows of two
  // embedding tensors of the same width (a [N, D], b [M, D]; sums in double; cosine divides by max(norm, 1e-12)).
  // Different widths or a tensor that is not 2-D: InvalidArgumentError.
  Tensor similarity(const Tensor& a, const Tensor& b) const;
  // [N]: the score between row i of a and row i of b (same shapes), as SentenceTransformer.similarity_pairwise.
  Tensor similarity_pairwise(const Tensor& a, const Tensor& b) const;
  const SentenceEmbedderConfig& config() const noexcept;
  struct Impl;

 private:
  explicit SentenceEmbedder(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// ---- replaced-token detection (ElectraForPreTraining: discriminator_predictions) --------------------------------

// One token of the text as the ELECTRA discriminator judges it: logit > 0 means "this token was replaced" (by
// the generator, during pretraining).
struct TokenJudgement {
  std::string token;                         // the tokenizer's piece, e.g. "##s"; special tokens as "[CLS]"
  std::int32_t id = 0;
  std::size_t start = 0, end = 0;            // code-point offsets into the text ({0, 0} for special tokens)
  std::size_t byte_start = 0, byte_end = 0;  // byte offsets into the text
  float logit = 0.0f;                        // discriminator_predictions.dense_prediction
  float probability = 0.0f;                  // sigmoid(logit): the probability that the token was replaced
  bool replaced = false;                     // logit > 0
  bool special = false;                      // [CLS], [SEP] and the like
};

class ReplacedTokenDetector {
 public:
  // An ELECTRA discriminator checkpoint (discriminator_predictions.dense and .dense_prediction).
  static ReplacedTokenDetector load(const std::filesystem::path& dir, const LoadOptions& options = {});
  // The head of `dir` on a loaded model, sharing its encoder (see the top of this file).
  static ReplacedTokenDetector load(const BertModel& model, const std::filesystem::path& dir);
  // Every token of the encoded text in order, special tokens included; a text longer than the model's window
  // (min(model_max_length, ModelConfig::max_sequence_length)) is truncated, as tokenizer(text, truncation=True).
  std::vector<TokenJudgement> detect(std::string_view text) const;
  struct Impl;

 private:
  explicit ReplacedTokenDetector(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// ---- sentence-order prediction (AlbertForPreTraining: sop_classifier on the pooler output) ----------------------

struct SentenceOrder {
  float in_order = 0.0f;      // softmax probability of index 0: A then B is the original order (1: swapped)
  std::vector<float> logits;  // [2], transformers' sop_logits
};

class SentenceOrderPredictor {
 public:
  // An ALBERT checkpoint with sop_classifier.classifier (AlbertForPreTraining) and its pooler.
  static SentenceOrderPredictor load(const std::filesystem::path& dir, const LoadOptions& options = {});
  // The head of `dir` on a loaded model, sharing its encoder (see the top of this file).
  static SentenceOrderPredictor load(const BertModel& model, const std::filesystem::path& dir);
  // [CLS] A [SEP] B [SEP], truncated longest-first to the model's window. As transformers 5 runs
  // model(**tokenizer(first, second)): its ALBERT tokenizer returns no token_type_ids, so every segment id is 0.
  SentenceOrder predict(std::string_view first, std::string_view second) const;
  struct Impl;

 private:
  explicit SentenceOrderPredictor(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace bertcpp
