// Tensors a checkpoint stores under the encoder's prefix that the encoder of this config never reads: the layers
// past config.json's num_hidden_layers (a config cut down on purpose, or a wrong config), and names no model of
// this type has. transformers loads such a checkpoint too, and logs "Some weights of the model checkpoint were
// not used"; bertcpp returns the same finding as warnings (BertModel::load_warnings, LoadOptions::on_warning).
#pragma once

#include <string>
#include <vector>

#include "weights/checkpoint.hpp"
#include "weights/layout.hpp"

namespace bertcpp::weights {

// The stored names (prefix included, sorted) under checkpoint.prefix() that `layout` does not use. Tensors outside
// the prefix (a task head's "classifier.weight", "cls.predictions...") belong to heads and are not considered;
// with an empty prefix every tensor is. The non-persistent buffers transformers also skips silently
// ("embeddings.position_ids", "embeddings.token_type_ids") are not reported. Legacy LayerNorm.gamma / .beta
// count as the .weight / .bias they stand for.
std::vector<std::string> unused_encoder_tensors(const Checkpoint& checkpoint, const CheckpointLayout& layout);

// unused_encoder_tensors as messages for people, at most one per kind, e.g.
//   "model.safetensors: 2 stored layers beyond config.json num_hidden_layers 2 not used (32 tensors):
//    'bert.encoder.layer.2.attention.output.LayerNorm.bias', ..."   (ALBERT: "stored layer groups beyond
//    config.json num_hidden_groups N")
//   "model.safetensors: 1 tensor under 'bert.' not used by a bert encoder: 'bert.encoder.layer.0.x.weight'"
// Names are listed up to 64 per message, then "... and N more". Empty when every tensor is used.
std::vector<std::string> unused_tensor_warnings(const Checkpoint& checkpoint, const CheckpointLayout& layout,
                                                const ModelConfig& config);

}  // namespace bertcpp::weights
