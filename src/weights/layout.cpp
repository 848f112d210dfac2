// The encoder's tensor layout from the model type's registry entry (weights/model_spec.hpp). transformers 5
// save_pretrained and the v4 hub checkpoints use the same names for these encoders; old TF-converted
// LayerNorm.gamma / .beta are handled by Checkpoint::resolve.
#include "weights/layout.hpp"

#include <string>

#include "weights/model_spec.hpp"

namespace bertcpp::weights {

namespace {

LayerTensorNames layer_names(const LayerNames& n) {
  return {std::string(n.query),          std::string(n.key),    std::string(n.value),
          std::string(n.attention_output), std::string(n.attention_norm), std::string(n.ffn_in),
          std::string(n.ffn_out),        std::string(n.output_norm)};
}

}  // namespace

std::size_t albert_group_of_layer(std::int64_t i, std::int64_t num_hidden_layers, std::int64_t num_hidden_groups) {
  const double layers_per_group = static_cast<double>(num_hidden_layers) / static_cast<double>(num_hidden_groups);
  return static_cast<std::size_t>(static_cast<double>(i) / layers_per_group);
}

CheckpointLayout checkpoint_layout(const ModelConfig& c) {
  const ModelSpec& spec = model_spec(c.model_type);
  CheckpointLayout l;
  l.prefixes = {std::string(spec.prefix), ""};
  l.word_embeddings = "embeddings.word_embeddings.weight";
  l.position_embeddings = "embeddings.position_embeddings.weight";
  if (spec.token_type_table) l.token_type_embeddings = "embeddings.token_type_embeddings.weight";
  l.embedding_norm = "embeddings.LayerNorm";
  if (spec.projection == EmbeddingProjection::always ||
      (spec.projection == EmbeddingProjection::when_widths_differ && c.embedding_size != c.hidden_size)) {
    l.embedding_projection = std::string(spec.projection_scope);
  }
  l.pooler = std::string(spec.pooler);
  l.relative_attention_bias = std::string(spec.relative_attention_bias);
  l.layer = layer_names(spec.layer);
  switch (spec.sharing) {
    case LayerSharing::none:
      // One stored layer per depth: "<stack>0.", "<stack>1.", ...
      for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) {
        l.layer_scopes.push_back(std::string(spec.layer_stack) + std::to_string(i) + ".");
        l.schedule.push_back(static_cast<std::size_t>(i));
      }
      break;
    case LayerSharing::albert_groups:
      for (std::int64_t g = 0; g < c.num_hidden_groups; ++g)
        for (std::int64_t j = 0; j < c.inner_group_num; ++j)
          l.layer_scopes.push_back("encoder.albert_layer_groups." + std::to_string(g) + ".albert_layers." +
                                   std::to_string(j) + ".");
      for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) {
        const std::size_t group = albert_group_of_layer(i, c.num_hidden_layers, c.num_hidden_groups);
        for (std::int64_t j = 0; j < c.inner_group_num; ++j)
          l.schedule.push_back(group * static_cast<std::size_t>(c.inner_group_num) + static_cast<std::size_t>(j));
      }
      break;
  }
  return l;
}

}  // namespace bertcpp::weights
