// bertcpp/model.hpp - load a Hugging Face BERT checkpoint directory and run the encoder.
//
//   #include <bertcpp/bertcpp.hpp>
//
//   auto model = bertcpp::BertModel::load("models/cache/all-MiniLM-L6-v2");   // config.json + model.safetensors
//   auto from_text = model.forward(std::vector<std::string>{"Hello world!"});  // with the directory's tokenizer
//
//   bertcpp::Batch batch;
//   batch.add({101, 7592, 2088, 102});                 // [CLS] hello world [SEP]
//   batch.add({101, 2129, 2024, 2017, 1029, 102});     // sequences may differ in length
//   bertcpp::EncoderOutput out = model.forward(batch);
//   // out.last_hidden_state: [2, 6, 384] (row 0 is zero past its 4 tokens), out.pooler_output: [2, 384]
//
// Thread safety: a loaded BertModel is immutable. forward() is const and may be called concurrently from any
// number of threads on the same model; each call uses its own workspace. Copies of a BertModel share the
// same weights (copying is cheap).
//
// Errors: load() and forward() throw bertcpp::Error subclasses (see bertcpp/error.hpp), never crash on bad
// files or inputs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bertcpp/compute.hpp"
#include "bertcpp/tensor.hpp"
#include "bertcpp/tokenizer.hpp"

namespace bertcpp {

namespace internal {
struct ModelAccess;  // the task heads' view of a loaded model (src/api/model_access.hpp)
}  // namespace internal

// How the position id of each token is made (transformers' rule for the model type).
enum class PositionIds {
  // BERT, ALBERT, ELECTRA, DistilBERT: the token's index in its (padded) input row, 0, 1, 2, ...
  token_index,
  // RoBERTa, XLM-R, MPNet: pad_token_id + (number of non-pad tokens up to and including this one) for a token
  // whose id is not pad_token_id, pad_token_id for a pad token. Computed from input_ids, as transformers does,
  // not from attention_mask: with pad id 1 the first real token gets position 2.
  after_padding_idx,
};

// The architecture read from config.json (the fields that change the math). Supported model_type values:
// bert, roberta, xlm-roberta, albert, electra, distilbert, mpnet. DistilBERT's own keys are mapped onto these
// names (dim -> hidden_size, n_layers -> num_hidden_layers, n_heads -> num_attention_heads,
// hidden_dim -> intermediate_size, activation -> hidden_act).
struct ModelConfig {
  std::string model_type;            // "bert", "roberta", "xlm-roberta", "albert", "electra", "distilbert", "mpnet"
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t num_hidden_layers = 0;
  std::int64_t num_attention_heads = 0;
  std::int64_t intermediate_size = 0;
  std::string hidden_act;            // "gelu" (erf), "gelu_new" / "gelu_pytorch_tanh" (tanh), "relu", "silu"
  double layer_norm_eps = 1e-12;     // DistilBERT: always 1e-12 (transformers hard-codes it)
  std::int64_t max_position_embeddings = 0;
  // Rows of the token-type table. 0: the model has none (DistilBERT, MPNet); forward() then ignores
  // token_type_ids, as DistilBertModel and MPNetModel take none (their tokenizers do not produce them).
  std::int64_t type_vocab_size = 0;
  // The padding index of the position rule (PositionIds::after_padding_idx): config.json's pad_token_id, except
  // MPNet, whose embeddings use 1 whatever the config says.
  std::int64_t pad_token_id = 0;

  // Width of the embedding tables: hidden_size, except ALBERT and ELECTRA ("embedding_size"), whose embeddings
  // are projected to hidden_size (ALBERT: encoder.embedding_hidden_mapping_in, ELECTRA: embeddings_project).
  std::int64_t embedding_size = 0;
  // ALBERT's weight sharing: layer i runs group int(i / (num_hidden_layers / num_hidden_groups)), and each
  // group is inner_group_num transformer layers. 1 and 1 for every other model type.
  std::int64_t num_hidden_groups = 1;
  std::int64_t inner_group_num = 1;
  PositionIds position_ids = PositionIds::token_index;
  // Whether the model type's inputs include token_type_ids, as transformers 5's tokenizer of that type returns
  // them (model_input_names): true for BERT and ELECTRA; false for RoBERTa, XLM-R, ALBERT, DistilBERT and MPNet,
  // whose encoder then runs with segment id 0 everywhere (or none), even for a text pair. forward(texts),
  // add_encoding() and every pipeline follow it; forward(batch) uses whatever token_type_ids the batch holds.
  bool feeds_token_type_ids = true;
  // DistilBERT: the position table is the fixed sinusoidal one; used when the checkpoint does not store it.
  bool sinusoidal_pos_embds = false;
  // MPNet: rows of the relative position bias table (encoder.relative_attention_bias.weight), added to the
  // attention scores of every layer by the bucket of the key - query distance. transformers always buckets into
  // 32 (config default 32; fewer is rejected). 0: the model type has no relative position bias.
  std::int64_t relative_attention_num_buckets = 0;
  // The longest sequence forward() accepts (and forward(texts) truncates to): max_position_embeddings, or
  // max_position_embeddings - pad_token_id - 1 for PositionIds::after_padding_idx (RoBERTa 514 -> 512).
  // Task heads should truncate to this, not to max_position_embeddings.
  std::int64_t max_sequence_length = 0;

  // Transformer layers one forward() runs: num_hidden_layers * inner_group_num.
  std::int64_t layers_run() const noexcept { return num_hidden_layers * inner_group_num; }
};

struct LoadOptions {
  // Threads used by one forward() call. 0: the calling thread's OpenMP setting (all cores, OMP_NUM_THREADS or
  // the caller's omp_set_num_threads). forward() applies it for the call only and restores the caller's setting.
  int threads = 0;
  // Compute pooler_output (dense + tanh on the first token). Ignored when the checkpoint has no pooler.
  bool pooler_output = true;
  // Also return the embedding output (after any projection to hidden_size) and every transformer layer's
  // output: config().layers_run() + 1 tensors, as transformers' output_hidden_states (for ALBERT one per
  // inner layer run: num_hidden_layers * inner_group_num + 1).
  bool hidden_states = false;
  // Load the tokenizer of the checkpoint directory too, when it has one of the files Tokenizer::load reads
  // (tokenizer.json, vocab.txt, vocab.json + merges.txt, spiece.model, sentencepiece.bpe.model).
  bool tokenizer = true;
  // Arithmetic of the encoder's matrix products (see bertcpp/compute.hpp); heads with large products (the
  // fill-mask vocabulary projection) follow it. bf16 on a CPU without AVX512-BF16/AMX: load() throws
  // UnsupportedError.
  ComputeType compute = ComputeType::fp32;
  // Called by load() once for each of its warnings (BertModel::load_warnings()), e.g. to log them; the task
  // pipelines pass it on to the BertModel they load. Empty: warnings are only recorded.
  std::function<void(const std::string&)> on_warning;
};

// A batch of token-id sequences. Sequences may have different lengths; nothing needs padding.
// token_type_ids may be left empty (all zeros). attention_mask may be left empty (all ones); when given,
// tokens with mask 0 are dropped before the encoder runs (no computation is spent on them), while the
// remaining tokens keep their original positions, which reproduces transformers' result for the masked
// tokens exactly. Their rows in the output are zero.
struct Batch {
  std::vector<std::vector<std::int32_t>> input_ids;       // [B][T_b]
  std::vector<std::vector<std::int32_t>> token_type_ids;  // empty, or [B][T_b]
  std::vector<std::vector<std::int32_t>> attention_mask;  // empty, or [B][T_b] of 0/1

  // Appends one sequence. token_type_ids and attention_mask may be empty; if one is given for any sequence
  // it must then be given (or left empty, meaning defaults) consistently - see forward() validation.
  void add(std::vector<std::int32_t> ids, std::vector<std::int32_t> type_ids = {},
           std::vector<std::int32_t> mask = {});
  // Appends a tokenizer's encoding as transformers 5 feeds it to a model of `config`'s type: input_ids, the
  // attention_mask, and token_type_ids only when config.feeds_token_type_ids (else the segment ids stay 0).
  void add(const Encoding& encoding, const ModelConfig& config);

  // A batch from padded row-major [batch, seq_len] arrays, as a Python caller would hand them over.
  // token_type_ids and attention_mask may be null.
  static Batch from_padded(std::int64_t batch, std::int64_t seq_len, const std::int64_t* input_ids,
                           const std::int64_t* token_type_ids, const std::int64_t* attention_mask);

  std::size_t size() const noexcept { return input_ids.size(); }
};

struct EncoderOutput {
  // [B, T, H], T = the longest input sequence; rows past a sequence's end (or masked out) are zero.
  Tensor last_hidden_state;
  // [B, H]: tanh(dense(first token)). Empty when not requested or the checkpoint has no pooler.
  Tensor pooler_output;
  // config.layers_run() + 1 tensors of [B, T, H] when LoadOptions::hidden_states; else empty.
  std::vector<Tensor> hidden_states;
  // Number of tokens of each sequence (its length in the batch, including masked-out tokens).
  std::vector<std::int64_t> lengths;
};

class BertModel {
 public:
  // Loads config.json and model.safetensors (or a sharded model.safetensors.index.json) from `dir`.
  // Any supported model_type (see ModelConfig), from a bare *Model checkpoint (no prefix, as transformers 5 and
  // sentence-transformers save it) or a *For<Task> one (prefix bert., roberta., albert., electra.,
  // distilbert., mpnet.; the task head's tensors are ignored here). Weights stored as F32, F16 or BF16 are converted
  // once to the engine's packed fp32 layout; shared ALBERT layers are packed once.
  // Throws ConfigError / UnsupportedError for config.json, FormatError naming a missing or misshapen tensor.
  static BertModel load(const std::filesystem::path& dir, const LoadOptions& options = {});

  // Runs the encoder. Throws InvalidArgumentError on an empty batch or sequence, a token id outside the
  // vocabulary, a token type outside type_vocab_size, mismatched lengths, or a sequence longer than
  // config().max_sequence_length. Position ids follow config().position_ids.
  EncoderOutput forward(const Batch& batch) const;

  // Tokenizes each text (special tokens added, truncated to config().max_sequence_length) and runs forward(),
  // with token types as Batch::add(encoding, config) feeds them.
  // Throws InvalidArgumentError when the model has no tokenizer.
  EncoderOutput forward(std::span<const std::string> texts) const;

  // The tokenizer found next to the weights (see LoadOptions::tokenizer).
  bool has_tokenizer() const noexcept;
  const Tokenizer& tokenizer() const;  // throws InvalidArgumentError when has_tokenizer() is false

  const ModelConfig& config() const noexcept;
  const LoadOptions& options() const noexcept;
  // What load() accepted but transformers would warn about: checkpoint tensors under the encoder's prefix that
  // this config does not use (layers past num_hidden_layers, names unknown to the model type), one message per
  // kind naming the file and the tensors. Empty for a checkpoint that matches its config.
  const std::vector<std::string>& load_warnings() const noexcept;
  bool has_pooler() const noexcept;

  BertModel(const BertModel&) = default;
  BertModel(BertModel&&) noexcept = default;
  BertModel& operator=(const BertModel&) = default;
  BertModel& operator=(BertModel&&) noexcept = default;
  ~BertModel();

  struct Impl;

 private:
  friend struct internal::ModelAccess;
  explicit BertModel(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace bertcpp
