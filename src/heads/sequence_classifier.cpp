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

namespace bertcpp {

namespace heads {

// One dense layer of a classification head: y = act(x W^T + b), W [out, in] as nn.Linear stores it.
struct ClassifierLayer {
  std::vector<float> weight;  // <tensor>.weight [out, in]
  std::vector<float> bias;    // <tensor>.bias [out]
  std::int64_t out = 0;
  Activation activation = Activation::none;
};

// Where a variant's classification head reads from and which layers it runs (transformers 5.24 modeling_*.py):
//   bert, albert        pooler_output -> classifier
//   roberta, xlm-roberta   first token -> classifier.dense -> tanh -> classifier.out_proj
//   electra                first token -> classifier.dense -> gelu -> classifier.out_proj
//   distilbert             first token -> pre_classifier -> relu -> classifier
// Every layer but the last maps hidden -> hidden; the last maps to num_labels.
struct ClassifierLayout {
  std::string_view model_types;  // space-separated
  bool reads_pooler = false;     // else the first token's last hidden state
  struct Step {
    std::string_view tensor;
    Activation activation;
  };
  std::vector<Step> steps;
};

const std::vector<ClassifierLayout>& classifier_layouts() {
  static const std::vector<ClassifierLayout> layouts = {
      {"bert albert", true, {{"classifier", Activation::none}}},
      {"roberta xlm-roberta", false, {{"classifier.dense", Activation::tanh}, {"classifier.out_proj", Activation::none}}},
      {"electra", false, {{"classifier.dense", Activation::gelu}, {"classifier.out_proj", Activation::none}}},
      {"distilbert", false, {{"pre_classifier", Activation::relu}, {"classifier", Activation::none}}},
  };
  return layouts;
}

const ClassifierLayout& classifier_layout(const std::string& model_type) {
  std::string known;
  for (const ClassifierLayout& layout : classifier_layouts()) {
    std::string_view types = layout.model_types;
    while (!types.empty()) {
      const std::size_t space = types.find(' ');
      if (types.substr(0, space) == model_type) return layout;
      types = space == std::string_view::npos ? std::string_view{} : types.substr(space + 1);
    }
    if (!known.empty()) known += ' ';
    known += layout.model_types;
  }
  throw UnsupportedError("config.json: model_type '" + model_type + "' has no sequence-classification head layout; " +
                         "supported: " + known);
}

}  // namespace heads

struct SequenceClassifier::Impl {
  BertModel model;
  std::vector<std::string> labels;  // id2label, [num_labels]
  std::string problem_type;         // config.json problem_type, "" when absent
  bool reads_pooler = false;        // pooler_output, else the first token's last hidden state
  std::vector<heads::ClassifierLayer> layers;  // the head, in order; the last has num_labels outputs
  std::size_t max_length = 0;       // truncation limit: min(tokenizer model_max_length, the encoder's maximum)
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

// Runs the encoder on the tokenized inputs and the head's layers on each sequence's pooler output or first token.
std::vector<std::vector<float>> run(const SequenceClassifier::Impl& m, const Batch& batch) {
  const EncoderOutput out = m.model.forward(batch);
  const auto H = m.model.config().hidden_size;
  const auto L = static_cast<std::int64_t>(m.labels.size());
  const auto B = static_cast<std::int64_t>(batch.size());
  std::vector<float> x(static_cast<std::size_t>(B * H));  // [B, H]: the head's input
  if (m.reads_pooler) {
    std::copy_n(out.pooler_output.data.begin(), x.size(), x.begin());
  } else {
    for (std::int64_t b = 0; b < B; ++b) std::copy_n(out.last_hidden_state.row(b), H, x.begin() + b * H);
  }
  std::int64_t width = H;
  for (const heads::ClassifierLayer& layer : m.layers) {
    std::vector<float> y(static_cast<std::size_t>(B * layer.out));  // [B, out]
    heads::dense(x.data(), B, width, layer.weight, layer.bias, layer.out, y.data());
    heads::activate(y, layer.activation);
    x = std::move(y);
    width = layer.out;
  }
  const std::vector<float>& logits = x;  // [B, num_labels]
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
  // The layout depends on model_type only: read it before loading the encoder, to ask for the pooler or not.
  const heads::ClassifierLayout& layout =
      heads::classifier_layout(weights::Checkpoint::open(dir).config().value("model_type", std::string("bert")));
  LoadOptions encoder_options = options;
  encoder_options.pooler_output = layout.reads_pooler;
  heads::HeadCheckpoint ckpt = heads::HeadCheckpoint::open(dir, encoder_options);
  if (layout.reads_pooler && !ckpt.model.has_pooler()) {
    throw FormatError(dir.filename().string() + ": missing tensor 'pooler.dense.weight' needed by the " + kHead +
                      " head (" + ckpt.model.config().model_type + " classifies the pooler output)");
  }
  auto impl = std::make_shared<Impl>(Impl{ckpt.model, heads::read_labels(ckpt.config), {}, false, {}, 0});
  if (const auto it = ckpt.config.find("problem_type"); it != ckpt.config.end() && it->is_string()) {
    impl->problem_type = it->get<std::string>();
  }
  impl->reads_pooler = layout.reads_pooler;
  const auto H = ckpt.model.config().hidden_size;
  const auto L = static_cast<std::int64_t>(impl->labels.size());
  for (std::size_t i = 0; i < layout.steps.size(); ++i) {
    const auto& step = layout.steps[i];
    const std::int64_t out = i + 1 == layout.steps.size() ? L : H;
    const std::string name(step.tensor);
    heads::ClassifierLayer layer;
    layer.weight = ckpt.head_tensor(name + ".weight", {out, H}, kHead);
    layer.bias = ckpt.head_tensor(name + ".bias", {out}, kHead);
    layer.out = out;
    layer.activation = step.activation;
    impl->layers.push_back(std::move(layer));
  }
  impl->max_length = std::min(ckpt.model.tokenizer().model_max_length(), heads::max_input_tokens(ckpt.model.config()));
  return SequenceClassifier(std::move(impl));
}

Classification SequenceClassifier::classify(std::string_view text, const ClassifyOptions& options) const {
  const Encoding enc = impl_->model.tokenizer().encode(text, truncating(impl_->max_length));
  Batch batch;
  heads::add_encoding(batch, enc, impl_->model.config());
  return score(*impl_, std::move(run(*impl_, batch)[0]), options);
}

Classification SequenceClassifier::classify(std::string_view text, std::string_view text_pair,
                                            const ClassifyOptions& options) const {
  // An empty pair is no pair, as in transformers (its tokenizer tests text_pair for truth).
  const Tokenizer& tok = impl_->model.tokenizer();
  const EncodeOptions encode = truncating(impl_->max_length);
  const Encoding enc = text_pair.empty() ? tok.encode(text, encode) : tok.encode(text, text_pair, encode);
  Batch batch;
  heads::add_encoding(batch, enc, impl_->model.config());
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
    heads::add_encoding(batch, enc, impl_->model.config());
  }
  for (auto& logits : run(*impl_, batch)) out.push_back(score(*impl_, std::move(logits), options));
  return out;
}

const std::vector<std::string>& SequenceClassifier::labels() const noexcept { return impl_->labels; }

}  // namespace bertcpp
