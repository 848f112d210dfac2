// SequenceClassifier: *ForSequenceClassification of every variant (the head layouts below) scored as
// transformers' text-classification pipeline.
#include <algorithm>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "heads/head_common.hpp"
#include "kernels/softmax.hpp"

namespace bertcpp {

struct SequenceClassifier::Impl {
  BertModel model;
  std::vector<std::string> labels;  // id2label, [num_labels]
  std::string problem_type;         // config.json problem_type, "" when absent
  bool reads_pooler = false;        // pooler_output, else the first token's last hidden state
  // The registry's classifier steps in order (BERT: classifier; RoBERTa: classifier.dense -> tanh ->
  // classifier.out_proj; ...), each activation fused; the last has num_labels outputs.
  heads::DenseStack layers;
  std::size_t max_length = 0;       // truncation limit: min(tokenizer model_max_length, max_sequence_length)
};

namespace {

constexpr const char* kHead = "sequence-classification";

// transformers' default rule (TextClassificationPipeline.postprocess): regression -> none; multi-label or a
// single label -> sigmoid; otherwise softmax.
ScoreFunction resolve(ScoreFunction requested, const std::string& problem_type, std::size_t num_labels) {
  if (requested != ScoreFunction::automatic) return requested;
  if (problem_type == "regression") return ScoreFunction::none;
  if (problem_type == "multi_label_classification" || num_labels == 1) return ScoreFunction::sigmoid;
  return ScoreFunction::softmax;
}

Classification score(const SequenceClassifier::Impl& m, std::vector<float> logits, const ClassifyOptions& options) {
  std::vector<float> scores;
  switch (resolve(options.function_to_apply, m.problem_type, m.labels.size())) {
    case ScoreFunction::softmax:
      scores = logits;
      kernels::probabilities(scores);
      break;
    case ScoreFunction::sigmoid:
      scores = logits;
      kernels::sigmoid(scores);
      break;
    default: scores = logits; break;
  }
  // Best first; equal scores keep label order (Python's sort(reverse=True) is stable).
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  const std::size_t k = options.top_k == 0 ? order.size() : std::min(options.top_k, order.size());
  Classification out;
  out.labels.reserve(k);
  for (std::size_t i = 0; i < k; ++i) out.labels.push_back({m.labels[order[i]], scores[order[i]]});
  out.logits = std::move(logits);
  return out;
}

// One encoder pass over the batch and the head on each sequence's pooler output or first token.
std::vector<std::vector<float>> run(const SequenceClassifier::Impl& m, const Batch& batch) {
  const std::vector<float> logits = heads::first_token_logits(m.model, batch, m.reads_pooler, m.layers);  // [B, L]
  const auto L = static_cast<std::ptrdiff_t>(m.labels.size());
  std::vector<std::vector<float>> rows;
  for (std::size_t b = 0; b < batch.size(); ++b) {
    rows.emplace_back(logits.begin() + static_cast<std::ptrdiff_t>(b) * L,
                      logits.begin() + static_cast<std::ptrdiff_t>(b + 1) * L);
  }
  return rows;
}

EncodeOptions truncating(std::size_t max_length) {
  EncodeOptions options;
  options.truncation = Truncation::longest_first;
  options.max_length = max_length;
  return options;
}

}  // namespace

SequenceClassifier::SequenceClassifier(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

namespace {

SequenceClassifier::Impl make(const heads::HeadCheckpoint& ckpt) {
  const weights::ModelSpec& spec = *ckpt.spec;
  if (spec.classifier_reads_pooler) ckpt.require_pooler(kHead, ckpt.model.config().model_type + " classifier");
  SequenceClassifier::Impl impl{ckpt.model, heads::read_labels(ckpt.config), {}, spec.classifier_reads_pooler, {}, 0};
  if (const auto it = ckpt.config.find("problem_type"); it != ckpt.config.end() && it->is_string()) {
    impl.problem_type = it->get<std::string>();
  }
  const auto H = ckpt.model.config().hidden_size;
  const auto L = static_cast<std::int64_t>(impl.labels.size());
  std::vector<kernels::Linear> layers;
  for (std::size_t i = 0; i < spec.classifier.size(); ++i) {
    const weights::ClassifierStep& step = spec.classifier[i];
    const std::int64_t out = i + 1 == spec.classifier.size() ? L : H;
    layers.push_back(ckpt.linear(step.tensor, H, out, step.activation, kHead));
  }
  impl.layers = heads::DenseStack(std::move(layers));
  impl.max_length = ckpt.max_length();
  return impl;
}

}  // namespace

SequenceClassifier SequenceClassifier::load(const std::filesystem::path& dir, const LoadOptions& options) {
  // BERT and ALBERT classify the pooler output; a checkpoint without a pooler loads none either way.
  return SequenceClassifier(std::make_shared<Impl>(make(heads::HeadCheckpoint::open(dir, options, true))));
}

SequenceClassifier SequenceClassifier::load(const BertModel& model, const std::filesystem::path& dir) {
  return SequenceClassifier(std::make_shared<Impl>(make(heads::HeadCheckpoint::attach(model, dir))));
}

Classification SequenceClassifier::classify(std::string_view text, const ClassifyOptions& options) const {
  const Encoding enc = impl_->model.tokenizer().encode(text, truncating(impl_->max_length));
  Batch batch;
  batch.add(enc, impl_->model.config());
  return score(*impl_, std::move(run(*impl_, batch)[0]), options);
}

Classification SequenceClassifier::classify(std::string_view text, std::string_view text_pair,
                                            const ClassifyOptions& options) const {
  // An empty pair is no pair, as in transformers (its tokenizer tests text_pair for truth).
  const Tokenizer& tok = impl_->model.tokenizer();
  const EncodeOptions encode = truncating(impl_->max_length);
  const Encoding enc = text_pair.empty() ? tok.encode(text, encode) : tok.encode(text, text_pair, encode);
  Batch batch;
  batch.add(enc, impl_->model.config());
  return score(*impl_, std::move(run(*impl_, batch)[0]), options);
}

std::vector<Classification> SequenceClassifier::classify_batch(std::span<const std::string> texts,
                                                               const ClassifyOptions& options) const {
  std::vector<Classification> out;
  if (texts.empty()) return out;
  const EncodeOptions encode = truncating(impl_->max_length);
  Batch batch;
  for (const auto& text : texts) {
    const Encoding enc = impl_->model.tokenizer().encode(text, encode);
    batch.add(enc, impl_->model.config());
  }
  for (auto& logits : run(*impl_, batch)) out.push_back(score(*impl_, std::move(logits), options));
  return out;
}

const std::vector<std::string>& SequenceClassifier::labels() const noexcept { return impl_->labels; }

}  // namespace bertcpp
