#include "heads/head_common.hpp"

#include <algorithm>
#include <cmath>
#include <span>

#include <Eigen/Core>

#include "bertcpp/error.hpp"

namespace bertcpp::heads {

HeadCheckpoint HeadCheckpoint::open(const std::filesystem::path& dir, const LoadOptions& options) {
  LoadOptions with_tokenizer = options;
  with_tokenizer.tokenizer = true;
  BertModel model = BertModel::load(dir, with_tokenizer);
  if (!model.has_tokenizer()) {
    throw InvalidArgumentError(dir.string() + ": no tokenizer.json or vocab.txt; a task head needs the tokenizer");
  }
  weights::Checkpoint checkpoint = weights::Checkpoint::open(dir);
  // The encoder's prefix in *For* checkpoints of every variant; head tensors ("classifier.weight") sit outside it.
  checkpoint.select_prefix({"bert.", "roberta.", "albert.", "electra.", "distilbert.", ""},
                           "embeddings.word_embeddings.weight");
  nlohmann::json config = checkpoint.config();
  return HeadCheckpoint{std::move(model), std::move(checkpoint), std::move(config)};
}

std::vector<float> HeadCheckpoint::head_tensor(std::string_view name, std::initializer_list<std::int64_t> shape,
                                               std::string_view head) const {
  if (!checkpoint.resolve(name)) {
    throw FormatError(checkpoint.dir().filename().string() + ": missing tensor '" + std::string(name) +
                      "' needed by the " + std::string(head) + " head");
  }
  return checkpoint.load_f32(name, shape);
}

std::vector<std::string> read_labels(const nlohmann::json& config, std::size_t fallback) {
  std::size_t n = fallback;
  const auto id2label = config.find("id2label");
  const bool has_map = id2label != config.end() && id2label->is_object();
  if (has_map) n = id2label->size();
  if (const auto it = config.find("num_labels"); it != config.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() <= 0 || it->get<std::int64_t>() > 1000000) {
      throw ConfigError("config.json: num_labels must be a positive integer");
    }
    n = it->get<std::size_t>();
  }
  std::vector<std::string> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = "LABEL_" + std::to_string(i);
  if (has_map) {
    for (const auto& [key, value] : id2label->items()) {
      std::size_t pos = 0;
      long long id = -1;
      try {
        id = std::stoll(key, &pos);
      } catch (const std::exception&) {
        pos = 0;
      }
      if (pos != key.size() || id < 0) throw ConfigError("config.json: id2label key '" + key + "' is not a label id");
      if (!value.is_string()) throw ConfigError("config.json: id2label['" + key + "'] is not a string");
      if (static_cast<std::size_t>(id) >= labels.size()) labels.resize(static_cast<std::size_t>(id) + 1);
      labels[static_cast<std::size_t>(id)] = value.get<std::string>();
    }
  }
  return labels;
}

void dense(const float* x, std::int64_t rows, std::int64_t in, const std::vector<float>& weight,
           const std::vector<float>& bias, std::int64_t out, float* y) {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const RowMajor> X(x, rows, in), W(weight.data(), out, in);
  Eigen::Map<RowMajor> Y(y, rows, out);
  Y.noalias() = X * W.transpose();
  if (!bias.empty()) Y.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(bias.data(), out);
}

void activate(std::span<float> x, Activation activation) {
  switch (activation) {
    case Activation::none: break;
    case Activation::tanh:
      for (float& v : x) v = std::tanh(v);
      break;
    case Activation::gelu:
      for (float& v : x) v = 0.5f * v * (1.0f + std::erf(v * 0.70710678118654752f));
      break;
    case Activation::relu:
      for (float& v : x) v = std::max(v, 0.0f);
      break;
  }
}

bool feeds_token_type_ids(const ModelConfig& config) {
  const std::string& t = config.model_type;
  return !(t == "roberta" || t == "xlm-roberta" || t == "albert" || t == "distilbert");
}

void add_encoding(Batch& batch, const Encoding& encoding, const ModelConfig& config, bool with_attention_mask) {
  batch.add(encoding.input_ids, feeds_token_type_ids(config) ? encoding.token_type_ids : std::vector<std::int32_t>{},
            with_attention_mask ? encoding.attention_mask : std::vector<std::int32_t>{});
}

std::size_t max_input_tokens(const ModelConfig& config) {
  return static_cast<std::size_t>(std::max<std::int64_t>(config.max_sequence_length, 0));
}

std::vector<float> softmax(std::span<const float> logits) {
  std::vector<float> p(logits.begin(), logits.end());
  if (p.empty()) return p;
  const float mx = *std::max_element(p.begin(), p.end());
  double sum = 0;
  for (float& v : p) sum += (v = std::exp(v - mx));
  for (float& v : p) v = static_cast<float>(v / sum);
  return p;
}

std::vector<float> sigmoid(std::span<const float> logits) {
  std::vector<float> p(logits.begin(), logits.end());
  for (float& v : p) v = 1.0f / (1.0f + std::exp(-v));
  return p;
}

}  // namespace bertcpp::heads
