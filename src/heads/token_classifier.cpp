// TokenClassifier: *ForTokenClassification of every variant (last_hidden_state -> classifier) with the entity post-processing
// of transformers' TokenClassificationPipeline (see ner_aggregation.hpp).
#include <string>
#include <utility>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "heads/head_common.hpp"
#include "heads/ner_aggregation.hpp"

namespace bertcpp {

struct TokenClassifier::Impl {
  BertModel model;                  // encoder + tokenizer
  std::vector<std::string> labels;  // id2label
  // classifier.weight [num_labels, hidden], classifier.bias [num_labels] (the registry's token_classifier)
  kernels::Linear classifier;
  // How the pipeline tells the tokens that continue a word (WordPiece prefix, or the space heuristic).
  heads::ner::SubwordRule subword_rule = heads::ner::SubwordRule::continuing_prefix;

  // The windows recognize() runs: one truncated window, or overlapping windows when options.stride is set.
  Encoding encode(std::string_view text, const NerOptions& options) const {
    const Tokenizer& tokenizer = model.tokenizer();
    EncodeOptions encode;
    encode.truncation = Truncation::longest_first;
    encode.max_length = options.max_length;
    if (options.stride) {
      const std::size_t max_length = options.max_length ? options.max_length : tokenizer.model_max_length();
      if (*options.stride >= max_length) {
        throw InvalidArgumentError("token classification: stride " + std::to_string(*options.stride) +
                                   " must be less than the maximum length " + std::to_string(max_length) +
                                   " (or even lower, as the tokenizer adds special tokens)");
      }
      if (options.aggregation == Aggregation::none) {
        throw InvalidArgumentError(
            "token classification: stride was given to process all the text, but aggregation none cannot merge "
            "the windows; choose simple, first, average or max");
      }
      encode.stride = *options.stride;
      encode.return_overflowing_tokens = true;
    }
    return tokenizer.encode(text, encode);
  }
};

TokenClassifier::TokenClassifier(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

namespace {

TokenClassifier::Impl make(const heads::HeadCheckpoint& ckpt) {
  TokenClassifier::Impl impl{ckpt.model, heads::read_labels(ckpt.config), {}, heads::ner::subword_rule(ckpt.model.tokenizer())};
  const auto num_labels = static_cast<std::int64_t>(impl.labels.size());
  impl.classifier = ckpt.linear(ckpt.spec->token_classifier, ckpt.model.config().hidden_size, num_labels,
                                Activation::none, "token-classification");
  return impl;
}

}  // namespace

TokenClassifier TokenClassifier::load(const std::filesystem::path& dir, const LoadOptions& options) {
  return TokenClassifier(std::make_shared<Impl>(make(heads::HeadCheckpoint::open(dir, options, false))));
}

TokenClassifier TokenClassifier::load(const BertModel& model, const std::filesystem::path& dir) {
  return TokenClassifier(std::make_shared<Impl>(make(heads::HeadCheckpoint::attach(model, dir))));
}

const std::vector<std::string>& TokenClassifier::labels() const noexcept { return impl_->labels; }

Tensor TokenClassifier::logits(std::string_view text, const NerOptions& options) const {
  const Encoding encoding = impl_->encode(text, options);
  return heads::token_logits(impl_->model, heads::windows_of(encoding), impl_->classifier);
}

std::vector<Entity> TokenClassifier::recognize(std::string_view text, const NerOptions& options) const {
  return recognize_with_logits(text, options).entities;
}

TokenClassifier::Recognition TokenClassifier::recognize_with_logits(std::string_view text,
                                                                    const NerOptions& options) const {
  const Impl& impl = *impl_;
  const Tokenizer& tokenizer = impl.model.tokenizer();
  const Encoding encoding = impl.encode(text, options);
  const std::vector<const Encoding*> windows = heads::windows_of(encoding);
  Recognition result;
  result.logits = heads::token_logits(impl.model, windows, impl.classifier);  // [W, T, L]
  Tensor scores = result.logits;
  const std::size_t num_labels = impl.labels.size();
  const auto window_stride = static_cast<std::size_t>(scores.dim(1)) * num_labels;
  heads::ner::softmax_rows(scores.data, num_labels);

  const heads::ner::TokensToString to_string = [&tokenizer](std::span<const std::string> tokens) {
    return tokenizer.convert_tokens_to_string(tokens);
  };
  const bool grouped = options.aggregation != Aggregation::none;
  std::vector<Entity>& entities = result.entities;
  for (std::size_t w = 0; w < windows.size(); ++w) {
    const std::span<const float> window_scores(scores.data.data() + w * window_stride,
                                               windows[w]->size() * num_labels);
    const auto pre = heads::ner::gather_pre_entities(text, *windows[w], window_scores, num_labels, tokenizer,
                                                       impl.subword_rule);
    std::vector<Entity> found = heads::ner::aggregate(pre, options.aggregation, impl.labels, to_string);
    heads::ner::drop_ignored(found, options.ignore_labels, grouped);
    entities.insert(entities.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
  }
  if (windows.size() > 1) entities = heads::ner::merge_overlapping(std::move(entities));
  return result;
}

}  // namespace bertcpp
