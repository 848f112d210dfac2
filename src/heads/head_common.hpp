// What every task head shares: a loaded (possibly shared) BertModel with its tokenizer, the registry entry of its
// model type, the head's checkpoint tensors and labels, dense layers on the model's engine, and the helpers that
// run a head on the encoder's packed output (api/model_access.hpp) without a second encoder pass.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/model_access.hpp"
#include "bertcpp/model.hpp"
#include "bertcpp/tensor.hpp"
#include "common/activation.hpp"
#include "kernels/linear.hpp"
#include "weights/checkpoint.hpp"
#include "weights/model_spec.hpp"

namespace bertcpp::heads {

// A head's checkpoint: the encoder (a BertModel with its tokenizer, loaded here or shared), the registry entry of
// its model type, the raw config.json, and the checkpoint itself for the head's own tensors (names as
// transformers writes them, e.g. "classifier.weight"; Checkpoint::resolve() also tries them with the encoder's
// prefix).
struct HeadCheckpoint {
  BertModel model;
  const weights::ModelSpec* spec = nullptr;
  weights::Checkpoint checkpoint;
  nlohmann::json config;

  // Loads the encoder and tokenizer of `dir` (throws like BertModel::load; InvalidArgumentError when the
  // directory has no tokenizer) and opens its head tensors: X::load(dir, options). `pooler`: load the pooler
  // (the heads that read the pooler output; the others skip its weights).
  static HeadCheckpoint open(const std::filesystem::path& dir, const LoadOptions& options, bool pooler);
  // The head tensors of `dir` on an already loaded model (shared, not copied). ConfigError when dir's model_type
  // differs from the model's (a hidden size that differs: FormatError from the tensor shapes); InvalidArgumentError
  // when the model has no tokenizer.
  static HeadCheckpoint attach(const BertModel& model, const std::filesystem::path& dir);

  // Like Checkpoint::load_f32, but a missing tensor is a FormatError that also says which head needed it:
  // "model.safetensors: missing tensor 'qa_outputs.weight' needed by the question-answering head".
  std::vector<float> head_tensor(std::string_view name, std::initializer_list<std::int64_t> shape,
                                 std::string_view head) const;
  // The nn.Linear `scope` (.weight [out, in], .bias [out]) as a kernels::Linear on the model's oneDNN engine and
  // GEMM cache, `activation` fused.
  kernels::Linear linear(std::string_view scope, std::int64_t in, std::int64_t out, Activation activation,
                         std::string_view head) const;
  // UnsupportedError when the model type has no such head (its registry entry `head_tensor` is empty):
  // "<dir>: <what>; model_type is 'distilbert', expected 'electra'<hint>".
  void require_head(std::string_view weights::ModelSpec::*head_tensor, const std::string& what,
                    const std::string& hint = {}) const;
  // FormatError when the head reads the pooler output and the model has none.
  void require_pooler(std::string_view head, std::string_view reader) const;
  // The truncation limit of the head's inputs: min(tokenizer model_max_length, config max_sequence_length).
  std::size_t max_length() const;
};

// id2label of config.json in id order; "LABEL_<i>" for ids it lacks; num_labels from config (or id2label's size,
// or `fallback`). ConfigError on non-integer keys or a negative/huge num_labels.
std::vector<std::string> read_labels(const nlohmann::json& config, std::size_t fallback = 2);

// The packed row of (sequence b, token index `column`), or -1 when that token was masked out.
std::int64_t packed_row(const internal::PackedOutput& run, std::int64_t b, std::int64_t column);

// Dense layers applied in order to rows of the encoder output (each activation fused into its GEMM): a
// classification head's steps, or a single Linear.
class DenseStack {
 public:
  DenseStack() = default;
  explicit DenseStack(std::vector<kernels::Linear> layers) : layers_(std::move(layers)) {}
  std::int64_t out_features() const noexcept { return layers_.empty() ? 0 : layers_.back().out_features(); }
  // y [m, out] from x [m, in]. Intermediate results go to the workspace's head buffers; x must not be one of
  // them unless reserve() sized them before x was written there.
  void forward(const internal::PackedOutput& run, const float* x, std::int64_t m, float* y) const;
  // Grows both head buffers of run.workspace to hold `m` rows of every layer's width (and of `in`).
  void reserve(const internal::PackedOutput& run, std::int64_t m) const;

 private:
  std::vector<kernels::Linear> layers_;
};

// Runs the encoder once on `batch` and `head` on the first token of each sequence (or on the pooler output):
// logits [batch, head.out_features()].
std::vector<float> first_token_logits(const BertModel& model, const Batch& batch, bool reads_pooler,
                                      const DenseStack& head);

// The encoding first, then its overflowing windows: the order transformers' fast tokenizers return them in.
std::vector<const Encoding*> windows_of(const Encoding& encoding);
// Per-token logits of one text's windows: the windows go through the encoder, at most `windows_per_forward` per
// pass, and `head` (token classifier [num_labels, H], QA outputs [2, H]) runs once on each pass's packed rows
// [tokens, H]. [windows, longest window, out], zero past each window's end (and at masked-out tokens).
Tensor token_logits(const BertModel& model, const std::vector<const Encoding*>& windows, const kernels::Linear& head,
                    std::size_t windows_per_forward = 8);

// A pair of texts -> [CLS] A [SEP] B [SEP] (longest-first truncation to `max_length`; an empty B is no pair, as in
// transformers) -> pooler output -> Linear [2, H] -> its two logits: next-sentence and sentence-order prediction.
struct PairHead {
  BertModel model;
  kernels::Linear linear;  // [2, H]
  std::size_t max_length = 0;
  std::vector<float> logits(std::string_view first, std::string_view second) const;
};

}  // namespace bertcpp::heads
