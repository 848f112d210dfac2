// The per-model-type tensor names (transformers 5 save_pretrained and the v4 hub checkpoints use the same
// names for these encoders; old TF-converted LayerNorm.gamma / .beta are handled by Checkpoint::resolve).
#include "weights/layout.hpp"

#include <string>

#include "bertcpp/error.hpp"

namespace bertcpp::weights {

namespace {

// BERT, RoBERTa, XLM-R and ELECTRA: BertLayer's module names.
const LayerTensorNames kBertLayer{"attention.self.query", "attention.self.key", "attention.self.value",
                                  "attention.output.dense", "attention.output.LayerNorm",
                                  "intermediate.dense", "output.dense", "output.LayerNorm"};
// ALBERT: AlbertLayer.
const LayerTensorNames kAlbertLayer{"attention.query", "attention.key", "attention.value", "attention.dense",
                                    "attention.LayerNorm", "ffn", "ffn_output", "full_layer_layer_norm"};
// DistilBERT: TransformerBlock.
const LayerTensorNames kDistilBertLayer{"attention.q_lin", "attention.k_lin", "attention.v_lin",
                                        "attention.out_lin", "sa_layer_norm", "ffn.lin1", "ffn.lin2",
                                        "output_layer_norm"};

// One stored layer per depth: "<stack>0.", "<stack>1.", ...
void one_layer_per_depth(CheckpointLayout& layout, const std::string& stack, std::int64_t layers) {
  for (std::int64_t i = 0; i < layers; ++i) {
    layout.layer_scopes.push_back(stack + std::to_string(i) + ".");
    layout.schedule.push_back(static_cast<std::size_t>(i));
  }
}

}  // namespace

std::size_t albert_group_of_layer(std::int64_t i, std::int64_t num_hidden_layers, std::int64_t num_hidden_groups) {
  const double layers_per_group = static_cast<double>(num_hidden_layers) / static_cast<double>(num_hidden_groups);
  return static_cast<std::size_t>(static_cast<double>(i) / layers_per_group);
}

CheckpointLayout checkpoint_layout(const ModelConfig& c) {
  CheckpointLayout l;
  l.word_embeddings = "embeddings.word_embeddings.weight";
  l.position_embeddings = "embeddings.position_embeddings.weight";
  l.token_type_embeddings = "embeddings.token_type_embeddings.weight";
  l.embedding_norm = "embeddings.LayerNorm";
  const std::string& type = c.model_type;
  if (type == "bert" || type == "roberta" || type == "xlm-roberta" || type == "electra") {
    l.prefixes = {type == "bert" ? "bert." : type == "electra" ? "electra." : "roberta.", ""};
    l.layer = kBertLayer;
    one_layer_per_depth(l, "encoder.layer.", c.num_hidden_layers);
    if (type == "electra") {
      // ElectraModel has no pooler; it projects only when the widths differ.
      if (c.embedding_size != c.hidden_size) l.embedding_projection = "embeddings_project";
    } else {
      l.pooler = "pooler.dense";
    }
  } else if (type == "albert") {
    l.prefixes = {"albert.", ""};
    l.layer = kAlbertLayer;
    l.embedding_projection = "encoder.embedding_hidden_mapping_in";
    l.pooler = "pooler";
    for (std::int64_t g = 0; g < c.num_hidden_groups; ++g)
      for (std::int64_t j = 0; j < c.inner_group_num; ++j)
        l.layer_scopes.push_back("encoder.albert_layer_groups." + std::to_string(g) + ".albert_layers." +
                                 std::to_string(j) + ".");
    for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) {
      const std::size_t group = albert_group_of_layer(i, c.num_hidden_layers, c.num_hidden_groups);
      for (std::int64_t j = 0; j < c.inner_group_num; ++j)
        l.schedule.push_back(group * static_cast<std::size_t>(c.inner_group_num) + static_cast<std::size_t>(j));
    }
  } else if (type == "distilbert") {
    l.prefixes = {"distilbert.", ""};
    l.token_type_embeddings.clear();
    l.layer = kDistilBertLayer;
    one_layer_per_depth(l, "transformer.layer.", c.num_hidden_layers);
  } else {
    throw UnsupportedError("model_type '" + type + "' has no checkpoint layout");
  }
  return l;
}

}  // namespace bertcpp::weights
