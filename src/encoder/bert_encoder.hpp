// The encoder of every supported model type: embeddings (optionally projected to hidden_size), a schedule of
// transformer layers over a set of stored layers (shared when ALBERT reuses them), and the optional pooler.
// What differs between model types is data - config (ModelConfig) and tensor names (weights::CheckpointLayout).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "bertcpp/model.hpp"
#include "encoder/workspace.hpp"
#include "kernels/attention.hpp"
#include "kernels/dense.hpp"
#include "kernels/linear.hpp"
#include "weights/checkpoint.hpp"
#include "weights/layout.hpp"

namespace bertcpp::encoder {

// E = embedding_size (hidden_size except ALBERT / ELECTRA). Names are CheckpointLayout's, e.g. BERT's.
struct Embeddings {
  std::vector<float> word;        // embeddings.word_embeddings.weight        [vocab, E]
  std::vector<float> position;    // embeddings.position_embeddings.weight    [max_positions, E] (DistilBERT
                                  //   sinusoidal: generated when the checkpoint does not store it)
  std::vector<float> token_type;  // embeddings.token_type_embeddings.weight  [type_vocab, E]; empty: none
  std::vector<float> ln_gamma;    // embeddings.LayerNorm.weight              [E]
  std::vector<float> ln_beta;     // embeddings.LayerNorm.bias                [E]
  bool projected = false;
  kernels::Linear projection;     // ALBERT encoder.embedding_hidden_mapping_in / ELECTRA embeddings_project [H, E]
};

// One stored transformer layer (BERT names; see weights::LayerTensorNames for the others). The four GEMMs run
// in the model's compute type (LoadOptions::compute).
struct TransformerLayer {
  kernels::Dense qkv;             // attention.self.{query,key,value}: one fused [3*hidden, hidden] GEMM
  kernels::Dense attn_output;     // attention.output.dense (adds the residual)
  std::vector<float> attn_ln_gamma, attn_ln_beta;  // attention.output.LayerNorm
  kernels::Dense ffn_in;          // intermediate.dense, activation fused
  kernels::Dense ffn_out;         // output.dense (adds the residual)
  std::vector<float> out_ln_gamma, out_ln_beta;    // output.LayerNorm
};

// Tokens one pass of the transformer layers runs over at most (a single longer sequence makes a pass of its
// own). run() splits a larger batch into passes of whole sequences, so that the per-pass buffers - about
// 3 * hidden + hidden + intermediate floats per token, 12 KiB for MiniLM-L6, 24 KiB for BERT-base - stay
// bounded whatever the batch size (BERT-base, 64 x 512 tokens in one pass: 768 MiB), and a stream of large
// batches reaches their high-water mark in its first call. 2048 rows keep the GEMMs as efficient as larger M.
inline constexpr std::int64_t kMaxTokensPerPass = 2048;

// Splits the sequences of a packed batch (offsets [batch + 1]) into consecutive passes of at most `max_tokens`
// tokens, each holding at least one sequence: `starts` = the first sequence of each pass, then the batch size
// ({0} for an empty batch).
void plan_passes(std::span<const std::int64_t> offsets, std::int64_t max_tokens, std::vector<std::int64_t>& starts);

class BertEncoder {
 public:
  // Reads every encoder tensor named by `layout` from the checkpoint (its prefix already selected), checking
  // shapes; each stored layer is packed once however often the schedule runs it. `compute` is the arithmetic
  // of the transformer layers' GEMMs (the embedding projection and the pooler, small, stay fp32).
  BertEncoder(const kernels::DnnlContext& ctx, const weights::Checkpoint& checkpoint, const ModelConfig& config,
              const weights::CheckpointLayout& layout, bool load_pooler,
              ComputeType compute = ComputeType::fp32);

  // Runs ws.packed through the encoder; the result is ws.hidden [tokens, hidden]. A batch of more than
  // kMaxTokensPerPass tokens runs through all layers one pass of sequences at a time (plan_passes): each
  // sequence's numbers are those of a forward over its pass's sequences alone. `on_hidden_state`, when set,
  // sees the embedding output (after any projection) and each scheduled layer's output (layers_run() + 1
  // calls) in the same packed layout; the batch is then a single pass.
  using HiddenStateSink = std::function<void(std::int64_t index, const float* hidden)>;
  void run(Workspace& ws, const HiddenStateSink& on_hidden_state = nullptr) const;

  // pooled [batch, hidden] = tanh(dense(first token of each sequence)), from ws.hidden after run().
  void pool(Workspace& ws, float* pooled) const;

  bool has_pooler() const noexcept { return has_pooler_; }
  const ModelConfig& config() const noexcept { return config_; }
  ComputeType compute() const noexcept { return compute_; }
  // Distinct stored layers (ALBERT: num_hidden_groups * inner_group_num) and layers run per call.
  std::size_t stored_layers() const noexcept { return layers_.size(); }
  std::size_t layers_run() const noexcept { return schedule_.size(); }

 private:
  // Grows the buffers that hold the whole batch (hidden, embedded) to ws.packed's token count.
  void reserve_batch(Workspace& ws) const;
  // Makes sequences [first, last) of ws.packed the current pass and grows the per-pass buffers to hold it.
  void begin_pass(Workspace& ws, std::int64_t first, std::int64_t last) const;
  void embed(Workspace& ws, kernels::GemmExec& exec) const;
  // MPNet: builds ws.relative_bias for ws.packed and returns it for the whole batch (positions: the packed
  // columns); {} (no bias) for the other model types. RelativeBias::positions is rebased per pass.
  kernels::RelativeBias relative_bias(Workspace& ws) const;
  // Grows ws's activation buffers to ws.packed's token count.
  void reserve(Workspace& ws) const;
  // int8: finds each GEMM's outlier channels on a fixed batch through the fp32 layers, then quantizes each layer.
  void load_int8_layers(const weights::Checkpoint& checkpoint, const weights::CheckpointLayout& layout,
                        kernels::Epilogue act);

  const kernels::DnnlContext* ctx_;
  ModelConfig config_;
  ComputeType compute_ = ComputeType::fp32;
  Embeddings embeddings_;
  std::vector<TransformerLayer> layers_;  // the stored layers
  std::vector<std::size_t> schedule_;     // index into layers_ of each layer run, in order
  bool has_pooler_ = false;
  kernels::Linear pooler_;  // pooler.dense (ALBERT: pooler), tanh fused
  // MPNet encoder.relative_attention_bias.weight [relative_attention_num_buckets, heads]; empty: no relative bias
  std::vector<float> relative_attention_bias_;
};

// DistilBERT's fixed table [positions, dim]: sin(pos / 10000^(2*(j/2)/dim)) at even j, cos at odd j,
// computed in double and rounded to float, as transformers' create_sinusoidal_embeddings.
std::vector<float> sinusoidal_position_table(std::int64_t positions, std::int64_t dim);

}  // namespace bertcpp::encoder
