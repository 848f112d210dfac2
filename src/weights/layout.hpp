// Where each model type keeps its encoder tensors in a checkpoint: the prefix, the embedding tables, the names
// inside a transformer layer, and which stored layer runs at each depth (ALBERT shares them). The encoder is
// built from this data alone, which layout.cpp derives from the model-type registry (model_spec.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "bertcpp/model.hpp"

namespace bertcpp::weights {

// Scopes of the nn.Linear / nn.LayerNorm modules of one transformer layer, relative to the layer's scope;
// ".weight" / ".bias" are appended. Every model type has the same eight modules, under different names.
struct LayerTensorNames {
  std::string query, key, value;  // [hidden, hidden] each, fused into one QKV GEMM by the encoder
  std::string attention_output;   // [hidden, hidden]
  std::string attention_norm;     // LayerNorm after attention + residual
  std::string ffn_in;             // [intermediate, hidden], then the activation
  std::string ffn_out;            // [hidden, intermediate]
  std::string output_norm;        // LayerNorm after FFN + residual
};

struct CheckpointLayout {
  // Tried in order by Checkpoint::select_prefix with word_embeddings as the probe: the *For<Task> prefix of
  // the model type ("bert.", "roberta.", "albert.", "electra.", "distilbert."), then "" (a bare *Model).
  std::vector<std::string> prefixes;
  std::string word_embeddings;        // tensor [vocab_size, embedding_size]; also what tied MLM decoders use
  std::string position_embeddings;    // tensor [max_position_embeddings, embedding_size]
  std::string token_type_embeddings;  // tensor [type_vocab_size, embedding_size]; empty: none (DistilBERT)
  std::string embedding_norm;         // LayerNorm scope, at embedding_size
  std::string embedding_projection;   // Linear scope embedding_size -> hidden_size; empty when there is none
  std::string pooler;                 // Linear scope of the tanh pooler; empty when the architecture has none
  // tensor [relative_attention_num_buckets, num_attention_heads] (MPNet encoder.relative_attention_bias.weight);
  // empty when the architecture has no relative position bias
  std::string relative_attention_bias;
  LayerTensorNames layer;
  // The distinct stored layers, e.g. "encoder.layer.3." or "encoder.albert_layer_groups.1.albert_layers.0.".
  std::vector<std::string> layer_scopes;
  // The layer_scopes index of each transformer layer in the order they run (config.layers_run() entries).
  std::vector<std::size_t> schedule;
};

// The layout of config.model_type (its ModelSpec; UnsupportedError for a type the registry lacks).
CheckpointLayout checkpoint_layout(const ModelConfig& config);

// ALBERT: the group layer i (0-based) of num_hidden_layers runs, exactly as transformers computes it:
// int(i / (num_hidden_layers / num_hidden_groups)) in double precision.
std::size_t albert_group_of_layer(std::int64_t i, std::int64_t num_hidden_layers, std::int64_t num_hidden_groups);

}  // namespace bertcpp::weights
