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

// Numerically stable softmax / sigmoid of a vector.
std::vector<float> softmax(std::span<const float> logits);
std::vector<float> sigmoid(std::span<const float> logits);

}  // namespace bertcpp::heads
