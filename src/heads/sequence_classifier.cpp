// SequenceClassifier: BertForSequenceClassification (pooler -> classifier) scored as transformers'
// text-classification pipeline.
#include <algorithm>
#include <numeric>
#include <string>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "heads/head_common.hpp"

namespace bertcpp {

struct SequenceClassifier::Impl {
  BertModel model;
  std::vector<std::string> labels;  // id2label, [num_labels]
  std::string problem_type;         // config.json problem_type, "" when absent
  std::vector<float> weight;        // classifier.weight [num_labels, H]
  std::vector<float> bias;          // classifier.bias [num_labels]
  std::size_t max_length = 0;       // truncation limit: min(tokenizer model_max_length, max_position_embeddings)
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
    case ScoreFunction::softmax: scores = heads::softmax(logits); break;
    case ScoreFunction::sigmoid: scores = heads::sigmoid(logits); break;
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

// Runs the encoder on the tokenized inputs and applies the classifier to each pooler output.
std::vector<std::vector<float>> run(const SequenceClassifier::Impl& m, const Batch& batch) {
  const EncoderOutput out = m.model.forward(batch);
  const auto H = m.model.config().hidden_size;
  const auto L = static_cast<std::int64_t>(m.labels.size());
  const auto B = static_cast<std::int64_t>(batch.size());
  std::vector<float> logits(static_cast<std::size_t>(B * L));  // [B, num_labels]
  heads::dense(out.pooler_output.data.data(), B, H, m.weight, m.bias, L, logits.data());
  std::vector<std::vector<float>> rows;
  for (std::int64_t b = 0; b < B; ++b) rows.emplace_back(logits.begin() + b * L, logits.begin() + (b + 1) * L);
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

SequenceClassifier SequenceClassifier::load(const std::filesystem::path& dir, const LoadOptions& options) {
  LoadOptions with_pooler = options;
  with_pooler.pooler_output = true;
  heads::HeadCheckpoint ckpt = heads::HeadCheckpoint::open(dir, with_pooler);
  if (!ckpt.model.has_pooler()) {
    throw FormatError(dir.filename().string() + ": missing tensor 'pooler.dense.weight' needed by the " + kHead +
                      " head (BertForSequenceClassification classifies the pooler output)");
  }
  auto impl = std::make_shared<Impl>(Impl{ckpt.model, heads::read_labels(ckpt.config), {}, {}, {}, 0});
  if (const auto it = ckpt.config.find("problem_type"); it != ckpt.config.end() && it->is_string()) {
    impl->problem_type = it->get<std::string>();
  }
  const auto H = ckpt.model.config().hidden_size;
  const auto L = static_cast<std::int64_t>(impl->labels.size());
  impl->weight = ckpt.head_tensor("classifier.weight", {L, H}, kHead);
  impl->bias = ckpt.head_tensor("classifier.bias", {L}, kHead);
  impl->max_length = std::min(ckpt.model.tokenizer().model_max_length(),
                              static_cast<std::size_t>(ckpt.model.config().max_position_embeddings));
  return SequenceClassifier(std::move(impl));
}

Classification SequenceClassifier::classify(std::string_view text, const ClassifyOptions& options) const {
  const Encoding enc = impl_->model.tokenizer().encode(text, truncating(impl_->max_length));
  Batch batch;
  batch.add(enc.input_ids, enc.token_type_ids);
  return score(*impl_, std::move(run(*impl_, batch)[0]), options);
}

Classification SequenceClassifier::classify(std::string_view text, std::string_view text_pair,
                                            const ClassifyOptions& options) const {
  // An empty pair is no pair, as in transformers (its tokenizer tests text_pair for truth).
  const Tokenizer& tok = impl_->model.tokenizer();
  const EncodeOptions encode = truncating(impl_->max_length);
  const Encoding enc = text_pair.empty() ? tok.encode(text, encode) : tok.encode(text, text_pair, encode);
  Batch batch;
  batch.add(enc.input_ids, enc.token_type_ids);
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
    batch.add(enc.input_ids, enc.token_type_ids);
  }
  for (auto& logits : run(*impl_, batch)) out.push_back(score(*impl_, std::move(logits), options));
  return out;
}

const std::vector<std::string>& SequenceClassifier::labels() const noexcept { return impl_->labels; }

}  // namespace bertcpp
