// config.json -> ModelConfig, with validation.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "bertcpp/model.hpp"

namespace bertcpp::weights {

// Reads the fields that change the math (see ModelConfig), with transformers' defaults for absent optional
// fields (hidden_act "gelu", layer_norm_eps 1e-12, type_vocab_size 2, pad_token_id 0,
// position_embedding_type "absolute", model_type "bert"); a field set to null counts as absent, as in
// transformers. hidden_act "swish" (transformers' alias) is returned as "silu". `file` is only used in
// messages (its file name, e.g. "config.json: field 'hidden_size' has type string ("384"), expected an integer").
// Throws ConfigError naming the file and field when a required field (vocab_size, hidden_size,
// num_hidden_layers, num_attention_heads, intermediate_size, max_position_embeddings) is missing, has the
// wrong JSON type or an invalid value (non-positive, hidden_size not divisible by num_attention_heads,
// layer_norm_eps <= 0, pad_token_id outside [0, vocab_size)); UnsupportedError for a
// position_embedding_type other than "absolute", an unknown hidden_act (listing the supported ones), or a
// model_type other than "bert" (listing the supported ones).
ModelConfig parse_config(const nlohmann::json& json, const std::filesystem::path& file);

}  // namespace bertcpp::weights
