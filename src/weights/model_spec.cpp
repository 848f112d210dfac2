// The registry entries: transformers 5.24's modeling_*.py / configuration_*.py of each model type.
#include "weights/model_spec.hpp"

#include "bertcpp/error.hpp"

namespace bertcpp::weights {

namespace {

constexpr ConfigKeys kBertKeys{"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                               "hidden_act"};
// BertLayer (BERT, RoBERTa, XLM-R, ELECTRA).
constexpr LayerNames kBertLayer{"attention.self.query", "attention.self.key", "attention.self.value",
                                "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense",
                                "output.dense", "output.LayerNorm"};

// BertModel: pooler; BertForSequenceClassification classifies the pooler output; BertOnlyMLMHead;
// BertForNextSentencePrediction / BertForPreTraining: cls.seq_relationship.
ModelSpec bert() {
  ModelSpec s;
  s.model_type = "bert";
  s.display = "BERT";
  s.keys = kBertKeys;
  s.default_activation = "gelu";
  s.prefix = "bert.";
  s.layer_stack = "encoder.layer.";
  s.layer = kBertLayer;
  s.pooler = "pooler.dense";
  s.classifier_reads_pooler = true;
  s.classifier = {{"classifier", Activation::none}};
  s.mlm = {"cls.predictions.transform.dense", "cls.predictions.transform.LayerNorm", "cls.predictions.decoder.weight",
           "cls.predictions.decoder.bias", "cls.predictions.bias", true, Activation::none};
  s.next_sentence = "cls.seq_relationship";
  return s;
}

// RobertaEmbeddings: positions after the padding index; RobertaClassificationHead: first token -> dense -> tanh
// -> out_proj; RobertaLMHead with erf gelu. Its tokenizer returns no token_type_ids.
ModelSpec roberta(std::string_view type, std::string_view display, SentencePieceStyle sentencepiece) {
  ModelSpec s = bert();
  s.model_type = type;
  s.display = display;
  s.sentencepiece = sentencepiece;
  s.default_pad_token_id = 1;
  s.position_ids = PositionIds::after_padding_idx;
  s.feeds_token_type_ids = false;
  s.prefix = "roberta.";
  s.classifier_reads_pooler = false;
  s.classifier = {{"classifier.dense", Activation::tanh}, {"classifier.out_proj", Activation::none}};
  s.mlm = {"lm_head.dense", "lm_head.layer_norm", "lm_head.decoder.weight", "lm_head.decoder.bias", "lm_head.bias",
           false, Activation::gelu_erf};
  s.next_sentence = {};
  return s;
}

// AlbertModel: shared layer groups, embeddings projected by encoder.embedding_hidden_mapping_in, pooler "pooler";
// AlbertForSequenceClassification classifies the pooler output; AlbertMLMHead; AlbertForPreTraining's
// sop_classifier. transformers 5's ALBERT tokenizer returns no token_type_ids.
ModelSpec albert() {
  ModelSpec s = bert();
  s.model_type = "albert";
  s.display = "ALBERT";
  s.sentencepiece = SentencePieceStyle::albert;
  s.default_activation = "gelu_new";
  s.feeds_token_type_ids = false;
  s.projection = EmbeddingProjection::always;
  s.projection_scope = "encoder.embedding_hidden_mapping_in";
  s.sharing = LayerSharing::albert_groups;
  s.prefix = "albert.";
  s.layer_stack = {};
  s.layer = {"attention.query", "attention.key", "attention.value", "attention.dense", "attention.LayerNorm",
             "ffn", "ffn_output", "full_layer_layer_norm"};
  s.pooler = "pooler";
  s.mlm = {"predictions.dense", "predictions.LayerNorm", "predictions.decoder.weight", "predictions.decoder.bias",
           "predictions.bias", true, Activation::none};
  s.next_sentence = {};
  s.sentence_order = "sop_classifier.classifier";
  return s;
}

// ElectraModel: no pooler, embeddings_project when the widths differ; ElectraClassificationHead: first token ->
// dense -> erf gelu -> out_proj; the generator's MLM head; the discriminator's replaced-token head.
ModelSpec electra() {
  ModelSpec s = bert();
  s.model_type = "electra";
  s.display = "ELECTRA";
  s.projection = EmbeddingProjection::when_widths_differ;
  s.projection_scope = "embeddings_project";
  s.prefix = "electra.";
  s.pooler = {};
  s.classifier_reads_pooler = false;
  s.classifier = {{"classifier.dense", Activation::gelu_erf}, {"classifier.out_proj", Activation::none}};
  s.mlm = {"generator_predictions.dense", "generator_predictions.LayerNorm", "generator_lm_head.weight",
           "generator_lm_head.bias", "generator_lm_head.bias", false, Activation::gelu_erf};
  s.next_sentence = {};
  s.rtd_dense = "discriminator_predictions.dense";
  s.rtd_prediction = "discriminator_predictions.dense_prediction";
  return s;
}

// DistilBertModel: own config keys, no token types, LayerNorm eps fixed at 1e-12, optional sinusoidal positions,
// no pooler; the classifier is first token -> pre_classifier -> relu -> classifier; vocab_* MLM modules.
ModelSpec distilbert() {
  ModelSpec s = bert();
  s.model_type = "distilbert";
  s.display = "DistilBERT";
  s.keys = {"dim", "n_layers", "n_heads", "hidden_dim", "activation"};
  s.token_types = false;
  s.reads_layer_norm_eps = false;
  s.sinusoidal_option = true;
  s.feeds_token_type_ids = false;
  s.prefix = "distilbert.";
  s.layer_stack = "transformer.layer.";
  s.layer = {"attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin", "sa_layer_norm",
             "ffn.lin1", "ffn.lin2", "output_layer_norm"};
  s.token_type_table = false;
  s.pooler = {};
  s.classifier_reads_pooler = false;
  s.classifier = {{"pre_classifier", Activation::relu}, {"classifier", Activation::none}};
  s.mlm = {"vocab_transform", "vocab_layer_norm", "vocab_projector.weight", "vocab_projector.bias",
           "vocab_projector.bias", true, Activation::none};
  s.next_sentence = {};
  return s;
}

// MPNetModel: RoBERTa's embeddings without a token-type table (positions after padding index 1), the layer names
// of MPNetLayer, and a relative position bias added to the attention scores of every layer
// (encoder.relative_attention_bias); pooler.dense; MPNetClassificationHead is RoBERTa's (first token -> dense ->
// tanh -> out_proj), MPNetLMHead RoBERTa's with erf gelu. Its tokenizer returns no token_type_ids.
ModelSpec mpnet() {
  ModelSpec s = roberta("mpnet", "MPNet", SentencePieceStyle::none);
  s.vocab_txt = VocabTxtStyle::mpnet;
  s.fixed_padding_idx = 1;
  s.token_types = false;
  s.token_type_table = false;
  s.prefix = "mpnet.";
  s.layer = {"attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o", "attention.LayerNorm",
             "intermediate.dense", "output.dense", "output.LayerNorm"};
  s.relative_attention_bias = "encoder.relative_attention_bias.weight";
  return s;
}

const std::vector<ModelSpec>& registry() {
  static const std::vector<ModelSpec> specs = {bert(),
                                               roberta("roberta", "RoBERTa", SentencePieceStyle::none),
                                               roberta("xlm-roberta", "XLM-R", SentencePieceStyle::xlm_roberta),
                                               albert(), electra(), distilbert(), mpnet()};
  return specs;
}

}  // namespace

std::span<const ModelSpec> model_specs() { return registry(); }

const std::string& supported_model_types() {
  static const std::string list = [] {
    std::string s;
    for (const ModelSpec& spec : registry()) s += (s.empty() ? "" : ", ") + std::string(spec.model_type);
    return s;
  }();
  return list;
}

const ModelSpec* find_model_spec(std::string_view model_type) {
  for (const ModelSpec& spec : registry()) {
    if (spec.model_type == model_type) return &spec;
  }
  return nullptr;
}

const ModelSpec& model_spec(std::string_view model_type) {
  if (const ModelSpec* spec = find_model_spec(model_type)) return *spec;
  throw UnsupportedError("model_type '" + std::string(model_type) + "' is not supported; supported: " +
                         supported_model_types());
}

std::string model_types_with(std::string_view ModelSpec::*member) {
  std::string out;
  for (const ModelSpec& spec : registry()) {
    if ((spec.*member).empty()) continue;
    out += (out.empty() ? "'" : " or '") + std::string(spec.model_type) + "'";
  }
  return out;
}

bool activation_from_name(std::string_view name, Activation& out) {
  if (name == "gelu") {
    out = Activation::gelu_erf;
  } else if (name == "gelu_new" || name == "gelu_pytorch_tanh") {
    out = Activation::gelu_tanh;
  } else if (name == "relu") {
    out = Activation::relu;
  } else if (name == "silu" || name == "swish") {
    out = Activation::silu;
  } else {
    return false;
  }
  return true;
}

}  // namespace bertcpp::weights
