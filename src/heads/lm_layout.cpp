#include "heads/lm_layout.hpp"

#include "bertcpp/error.hpp"

namespace bertcpp::heads {

MlmLayout mlm_layout(std::string_view model_type) {
  // transformers 5.24: BertOnlyMLMHead, RobertaLMHead (also XLM-R), AlbertMLMHead, ElectraGeneratorPredictions +
  // generator_lm_head, DistilBertForMaskedLM's vocab_* modules.
  if (model_type == "bert") {
    return {"cls.predictions.transform.dense", "cls.predictions.transform.LayerNorm", "cls.predictions.decoder.weight",
            "cls.predictions.decoder.bias", "cls.predictions.bias", std::nullopt};
  }
  if (model_type == "roberta" || model_type == "xlm-roberta") {
    return {"lm_head.dense", "lm_head.layer_norm", "lm_head.decoder.weight", "lm_head.decoder.bias", "lm_head.bias",
            "gelu"};
  }
  if (model_type == "albert") {
    return {"predictions.dense", "predictions.LayerNorm", "predictions.decoder.weight", "predictions.decoder.bias",
            "predictions.bias", std::nullopt};
  }
  if (model_type == "electra") {
    return {"generator_predictions.dense", "generator_predictions.LayerNorm", "generator_lm_head.weight",
            "generator_lm_head.bias", "generator_lm_head.bias", "gelu"};
  }
  if (model_type == "distilbert") {
    return {"vocab_transform", "vocab_layer_norm", "vocab_projector.weight", "vocab_projector.bias",
            "vocab_projector.bias", std::nullopt};
  }
  throw UnsupportedError("config.json: model_type '" + std::string(model_type) +
                         "' has no masked-LM head layout; supported: bert, roberta, xlm-roberta, albert, electra, "
                         "distilbert");
}

kernels::Epilogue activation_epilogue(const std::string& hidden_act, std::string_view head) {
  if (hidden_act == "gelu") return kernels::Epilogue::gelu_erf;
  if (hidden_act == "gelu_new" || hidden_act == "gelu_pytorch_tanh") return kernels::Epilogue::gelu_tanh;
  if (hidden_act == "relu") return kernels::Epilogue::relu;
  if (hidden_act == "silu" || hidden_act == "swish") return kernels::Epilogue::silu;
  throw UnsupportedError("config.json: hidden_act '" + hidden_act + "' is not supported by the " + std::string(head) +
                         " head; supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu");
}

}  // namespace bertcpp::heads
