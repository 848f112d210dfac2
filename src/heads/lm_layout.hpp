// Where each model type keeps its language-model heads: the masked-LM head (fill-mask) as its *ForMaskedLM
// stores it, and the activation the heads' dense layers apply. Data, one row per model type; the heads are
// written once against it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kernels/linear.hpp"

namespace bertcpp::heads {

// dense [E, H] -> activation -> LayerNorm [E] -> decoder [V, E] + bias [V], where E is the width of the word
// embeddings (hidden_size, or embedding_size for ALBERT and the ELECTRA generator) because the decoder is tied to
// them. Names are relative to the checkpoint root (Checkpoint::resolve also tries them with the encoder prefix).
struct MlmLayout {
  std::string dense;           // Linear scope, ".weight" [E, H] / ".bias" [E]
  std::string layer_norm;      // LayerNorm scope, [E]
  std::string decoder_weight;  // [V, E]; tied to the word embeddings and usually absent from the file
  std::string decoder_bias;    // [V]; preferred when stored (transformers ties it to `bias`)
  std::string bias;            // [V]: the head's output bias
  // The activation after `dense`: a fixed one (RoBERTa's lm_head and the ELECTRA generator use erf gelu whatever
  // the config says), or unset: config hidden_act (BERT, ALBERT, DistilBERT's "activation").
  std::optional<std::string> activation;
};

// The layout for config.json's model_type; UnsupportedError naming the supported types for any other.
MlmLayout mlm_layout(std::string_view model_type);

// transformers' ACT2FN names as the fused epilogue of a head's dense layer; UnsupportedError naming the head
// for one bertcpp has no kernel for.
kernels::Epilogue activation_epilogue(const std::string& hidden_act, std::string_view head);

}  // namespace bertcpp::heads
