// What every task head shares: the encoder + tokenizer of a checkpoint directory, its head tensors, its labels,
// and small dense layers applied to encoder outputs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertcpp/model.hpp"
#include "weights/checkpoint.hpp"

namespace bertcpp::heads {

// A checkpoint opened for a head: the encoder (BertModel, with its tokenizer), the raw config.json, and the
// checkpoint itself for the head's own tensors (names as transformers writes them, e.g. "classifier.weight";
// Checkpoint::resolve() also tries them with the encoder's prefix). Throws like BertModel::load, and
// InvalidArgumentError when the directory has no tokenizer.
struct HeadCheckpoint {
  BertModel model;
  weights::Checkpoint checkpoint;
  nlohmann::json config;

  static HeadCheckpoint open(const std::filesystem::path& dir, const LoadOptions& options);
  // Like Checkpoint::load_f32, but a missing tensor is a FormatError that also says which head needed it:
  // "model.safetensors: missing tensor 'qa_outputs.weight' needed by the question-answering head".
  std::vector<float> head_tensor(std::string_view name, std::initializer_list<std::int64_t> shape,
                                 std::string_view head) const;
};

// id2label of config.json in id order; "LABEL_<i>" for ids it lacks; num_labels from config (or id2label's size,
// or `fallback`). ConfigError on non-integer keys or a negative/huge num_labels.
std::vector<std::string> read_labels(const nlohmann::json& config, std::size_t fallback = 2);

// y[rows, out] = x[rows, in] * W^T + b with W as nn.Linear stores it ([out, in]). Eigen; for the small
// matrices of the heads.
void dense(const float* x, std::int64_t rows, std::int64_t in, const std::vector<float>& weight,
           const std::vector<float>& bias, std::int64_t out, float* y);

// Activations of the heads' hidden layers: tanh (RoBERTa / XLM-R classifier), gelu in its erf form (ELECTRA's
// classifier: transformers' get_activation("gelu")), relu (DistilBERT's pre_classifier).
enum class Activation { none, tanh, gelu, relu };
void activate(std::span<float> x, Activation activation);

// Whether a variant's encoder is fed token_type_ids by transformers 5's pipelines (its tokenizer's
// model_input_names): BERT and ELECTRA yes; RoBERTa, XLM-R, ALBERT and DistilBERT no (their segment ids stay 0).
bool feeds_token_type_ids(const ModelConfig& config);

// Appends one encoding to `batch` as transformers 5 feeds the model: input ids, the token types only when
// feeds_token_type_ids(config), and the attention mask when `with_attention_mask`.
void add_encoding(Batch& batch, const Encoding& encoding, const ModelConfig& config, bool with_attention_mask = false);

// The longest input the encoder takes, as a size: ModelConfig::max_sequence_length (max_position_embeddings,
// less pad_token_id + 1 for RoBERTa / XLM-R, whose positions start after the padding index: 514 -> 512).
std::size_t max_input_tokens(const ModelConfig& config);

// Numerically stable softmax / sigmoid of a vector.
std::vector<float> softmax(std::span<const float> logits);
std::vector<float> sigmoid(std::span<const float> logits);

}  // namespace bertcpp::heads
