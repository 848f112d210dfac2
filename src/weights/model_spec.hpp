// The model-type registry: one ModelSpec per config.json model_type holds everything that differs between the
// BERT-family encoders and their task heads - the config keys, the encoder's tensor names, the position-id and
// token-type rules, the embedding projection, layer sharing, the pooler, and each head's tensors. The config
// parser, the checkpoint layout (layout.cpp) and every head read it; no other code compares model_type strings.
// Adding a model type is one entry in model_spec.cpp plus its fixtures (docs/architecture.md, "Adding a model
// type").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bertcpp/model.hpp"
#include "common/activation.hpp"

namespace bertcpp::weights {

// config.json keys of the sizes and the activation (DistilBERT has its own names).
struct ConfigKeys {
  std::string_view hidden, layers, heads, intermediate, activation;
};

// Scopes of the eight nn.Linear / nn.LayerNorm modules of one transformer layer, relative to the layer's scope.
struct LayerNames {
  std::string_view query, key, value, attention_output, attention_norm, ffn_in, ffn_out, output_norm;
};

enum class EmbeddingProjection {
  none,                // embeddings are hidden_size wide
  always,              // ALBERT: encoder.embedding_hidden_mapping_in, embedding_size -> hidden_size
  when_widths_differ,  // ELECTRA: embeddings_project, only when embedding_size != hidden_size
};

// How the stored transformer layers are laid out and scheduled.
enum class LayerSharing {
  none,          // "<layer_stack><i>." runs at depth i
  albert_groups  // "encoder.albert_layer_groups.<g>.albert_layers.<j>.", layer i runs group
                 // int(i / (num_hidden_layers / num_hidden_groups)) (albert_group_of_layer)
};

// One dense layer of the sequence-classification head: y = activation(x W^T + b), W ".weight" [out, in].
struct ClassifierStep {
  std::string_view tensor;
  Activation activation = Activation::none;
};

// The masked-LM head (fill-mask): dense [E, H] -> activation -> LayerNorm [E] -> decoder [V, E] + bias [V], where
// E is the word-embedding width because the decoder is tied to the word embeddings.
struct MlmHead {
  std::string_view dense;           // Linear scope
  std::string_view layer_norm;      // LayerNorm scope
  std::string_view decoder_weight;  // [V, E]; tied to the word embeddings and usually absent from the file
  std::string_view decoder_bias;    // [V]; preferred when stored (transformers ties it to `bias`)
  std::string_view bias;            // [V]: the head's output bias
  // The activation after `dense`: fixed (RoBERTa's lm_head and the ELECTRA generator use erf gelu whatever the
  // config says), or follow_config: config hidden_act (BERT, ALBERT, DistilBERT's "activation").
  bool follow_config = true;
  Activation fixed = Activation::none;
};

// Which SentencePiece tokenizer a spiece.model / sentencepiece.bpe.model directory of this type gets when no
// tokenizer_config.json names one (special tokens and normalisation differ: tokenizer/sentencepiece/).
enum class SentencePieceStyle { none, albert, xlm_roberta };

// The tokenizer a vocab.txt-only directory of this type gets when no tokenizer_config.json names a class:
// BERT's ([CLS] A [SEP] B [SEP]) or MPNet's (<s> A </s></s> B </s>, RoBERTa's post-processor over WordPiece).
enum class VocabTxtStyle { bert, mpnet };

struct ModelSpec {
  std::string_view model_type;  // config.json model_type
  std::string_view display;     // "BERT", "RoBERTa", ... for messages
  SentencePieceStyle sentencepiece = SentencePieceStyle::none;
  VocabTxtStyle vocab_txt = VocabTxtStyle::bert;

  // ---- config.json
  ConfigKeys keys;
  std::string_view default_activation;  // hidden_act when absent (ALBERT: gelu_new)
  std::int64_t default_pad_token_id = 0;
  // >= 0: the padding index of the position rule whatever config.json's pad_token_id says (MPNetEmbeddings
  // hard-codes 1); -1: pad_token_id.
  std::int64_t fixed_padding_idx = -1;
  bool token_types = true;              // reads type_vocab_size (default 2); false: none (DistilBERT)
  bool reads_layer_norm_eps = true;     // false: 1e-12 whatever the config says (DistilBERT)
  bool sinusoidal_option = false;       // sinusoidal_pos_embds is read (DistilBERT)
  // ---- encoder rules
  PositionIds position_ids = PositionIds::token_index;
  // Whether transformers 5 feeds the encoder token_type_ids from its tokenizer (model_input_names): BERT and
  // ELECTRA yes; RoBERTa, XLM-R, ALBERT, DistilBERT, MPNet no (segment ids stay 0 even for a text pair).
  bool feeds_token_type_ids = true;
  EmbeddingProjection projection = EmbeddingProjection::none;  // embedding_size is read unless none
  std::string_view projection_scope;
  LayerSharing sharing = LayerSharing::none;
  // ---- tensor names
  std::string_view prefix;       // of the encoder in *For<Task> checkpoints ("bert."); bare *Model: none
  std::string_view layer_stack;  // LayerSharing::none: "encoder.layer."
  LayerNames layer;
  bool token_type_table = true;  // embeddings.token_type_embeddings.weight exists
  std::string_view pooler;       // Linear scope of the tanh pooler; empty: the architecture has none
  // MPNet's encoder.relative_attention_bias.weight [relative_attention_num_buckets, heads]: a score bias per head
  // and relative-distance bucket, shared by every layer (encoder/relative_position.hpp); empty: none.
  std::string_view relative_attention_bias;
  // ---- heads
  bool classifier_reads_pooler = false;  // else the first token's last hidden state
  std::vector<ClassifierStep> classifier;  // every step but the last maps hidden -> hidden
  MlmHead mlm;
  std::string_view token_classifier = "classifier";  // [num_labels, H]
  std::string_view qa_outputs = "qa_outputs";        // [2, H]: start, end
  std::string_view next_sentence;   // BERT cls.seq_relationship [2, H] on the pooler; empty: none
  std::string_view sentence_order;  // ALBERT sop_classifier.classifier [2, H] on the pooler; empty: none
  std::string_view rtd_dense;       // ELECTRA discriminator_predictions.dense [H, H], hidden_act; empty: none
  std::string_view rtd_prediction;  // ELECTRA discriminator_predictions.dense_prediction [1, H]
};

// Every supported model type, in the order messages list them.
std::span<const ModelSpec> model_specs();
// "bert, roberta, xlm-roberta, albert, electra, distilbert, mpnet".
const std::string& supported_model_types();
// The entry of a model_type, or nullptr.
const ModelSpec* find_model_spec(std::string_view model_type);
// The entry of a model_type; UnsupportedError naming the supported ones otherwise.
const ModelSpec& model_spec(std::string_view model_type);
// "bert", "albert", ...: the model types whose spec has a non-empty `member`, quoted and joined by " or ".
std::string model_types_with(std::string_view ModelSpec::*member);

// transformers' ACT2FN names bertcpp computes: "gelu" (erf), "gelu_new" / "gelu_pytorch_tanh" (tanh), "relu",
// "silu" / "swish". False for any other name.
bool activation_from_name(std::string_view name, Activation& out);
// The names activation_from_name accepts, for messages.
inline constexpr std::string_view kActivationNames = "gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish";

}  // namespace bertcpp::weights
