// The BERT encoder: embeddings, a stack of transformer layers, and the optional pooler.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "bertcpp/model.hpp"
#include "encoder/workspace.hpp"
#include "kernels/linear.hpp"
#include "weights/checkpoint.hpp"

namespace bertcpp::encoder {

struct Embeddings {
  std::vector<float> word;        // embeddings.word_embeddings.weight        [vocab, hidden]
  std::vector<float> position;    // embeddings.position_embeddings.weight    [max_positions, hidden]
  std::vector<float> token_type;  // embeddings.token_type_embeddings.weight  [type_vocab, hidden]
  std::vector<float> ln_gamma;    // embeddings.LayerNorm.weight              [hidden]
  std::vector<float> ln_beta;     // embeddings.LayerNorm.bias                [hidden]
};

struct TransformerLayer {
  kernels::Linear qkv;            // attention.self.{query,key,value}: one fused [3*hidden, hidden] GEMM
  kernels::Linear attn_output;    // attention.output.dense (adds the residual)
  std::vector<float> attn_ln_gamma, attn_ln_beta;  // attention.output.LayerNorm
  kernels::Linear ffn_in;         // intermediate.dense, activation fused
  kernels::Linear ffn_out;        // output.dense (adds the residual)
  std::vector<float> out_ln_gamma, out_ln_beta;    // output.LayerNorm
};

class BertEncoder {
 public:
  // Reads every encoder tensor from the checkpoint (its prefix already selected), checking shapes.
  BertEncoder(const kernels::DnnlContext& ctx, const weights::Checkpoint& checkpoint, const ModelConfig& config,
              bool load_pooler);

  // Runs ws.packed through the encoder; the result is ws.hidden [tokens, hidden]. `on_hidden_state`, when set,
  // sees the embedding output and each layer's output (num_layers + 1 calls) in the same packed layout.
  using HiddenStateSink = std::function<void(std::int64_t index, const float* hidden)>;
  void run(Workspace& ws, const HiddenStateSink& on_hidden_state = nullptr) const;

  // pooled [batch, hidden] = tanh(dense(first token of each sequence)), from ws.hidden after run().
  void pool(Workspace& ws, float* pooled) const;

  bool has_pooler() const noexcept { return has_pooler_; }
  const ModelConfig& config() const noexcept { return config_; }

 private:
  void embed(Workspace& ws) const;

  const kernels::DnnlContext* ctx_;
  ModelConfig config_;
  Embeddings embeddings_;
  std::vector<TransformerLayer> layers_;
  bool has_pooler_ = false;
  kernels::Linear pooler_;  // pooler.dense, tanh fused
};

}  // namespace bertcpp::encoder
