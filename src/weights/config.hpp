// config.json -> ModelConfig, with validation.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "bertcpp/model.hpp"

namespace bertcpp::weights {

// Reads the fields that change the math (see ModelConfig) for model_type bert (the default when absent),
// roberta, xlm-roberta, albert, electra, distilbert and mpnet, with the defaults of transformers' config class of
// that type for absent optional fields (hidden_act "gelu" - ALBERT "gelu_new"; layer_norm_eps 1e-12;
// type_vocab_size 2; pad_token_id 0 - RoBERTa / XLM-R / MPNet 1; num_hidden_groups and inner_group_num 1;
// sinusoidal_pos_embds false; MPNet relative_attention_num_buckets 32); a field set to null counts as absent, as
// in transformers. DistilBERT is read from its own keys (dim, n_layers, n_heads, hidden_dim, activation) and has
// no token types (type_vocab_size 0) and LayerNorm eps 1e-12; MPNet has no token types either.
// hidden_act "swish" (transformers' alias) is returned as "silu".
// `file` is only used in messages (its file name, e.g.
// "config.json: field 'hidden_size' has type string ("384"), expected an integer").
// Throws ConfigError naming the file and field when a required field (vocab_size, the four sizes,
// max_position_embeddings; embedding_size for ALBERT and ELECTRA) is missing, has the wrong JSON type or an
// invalid value (non-positive, hidden size not divisible by the head count, layer_norm_eps <= 0, pad_token_id
// outside [0, vocab_size), a RoBERTa position table with no room after pad_token_id, MPNet
// relative_attention_num_buckets below 32); UnsupportedError for a position_embedding_type other than
// "absolute", an unknown activation (listing the supported ones), or an unknown model_type (listing the
// supported ones).
ModelConfig parse_config(const nlohmann::json& json, const std::filesystem::path& file);

}  // namespace bertcpp::weights
