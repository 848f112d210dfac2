// config.json -> ModelConfig. Every failure is a bertcpp error naming the file and the field; no nlohmann
// exception escapes (values are type-checked before they are read).
#include "weights/config.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "bertcpp/error.hpp"
#include "common/json_fields.hpp"
#include "weights/model_spec.hpp"

namespace bertcpp::weights {

namespace {


// config.json's fields through common::Fields, bound to the config object; ConfigError worded as config.json
// errors have always been ("field 'hidden_size' has type string ("384"), expected an integer").
class Fields {
 public:
  Fields(const nlohmann::json& json, const std::filesystem::path& file)
      : json_(json), f_(file.filename().string(), ErrorCode::config, common::Fields::Wording::has_type) {}

  [[noreturn]] void fail_config(std::string_view field, const std::string& what) const { f_.fail(field, what); }
  [[noreturn]] void fail_unsupported(std::string_view field, const std::string& what) const {
    f_.fail(field, what, ErrorCode::unsupported);
  }
  // The value, or nullptr when absent or JSON null (transformers treats null as "use the default").
  const nlohmann::json* get(std::string_view field) const { return f_.find(json_, field, field); }
  std::int64_t required_int(std::string_view field) const { return f_.required_int(json_, field, field); }
  std::int64_t optional_int(std::string_view field, std::int64_t fallback) const {
    return f_.optional_int(json_, field, field, fallback);
  }
  std::string optional_string(std::string_view field, std::string fallback) const {
    return f_.optional_string(json_, field, field, std::move(fallback));
  }
  bool optional_bool(std::string_view field, bool fallback) const {
    return f_.optional_bool(json_, field, field, fallback);
  }
  double optional_number(std::string_view field, double fallback) const {
    return f_.optional_number(json_, field, field, fallback);
  }

 private:
  const nlohmann::json& json_;
  common::Fields f_;
};

}  // namespace

ModelConfig parse_config(const nlohmann::json& json, const std::filesystem::path& file) {
  if (!json.is_object())
    throw ConfigError(file.filename().string() + ": expected a JSON object, found " + json.type_name());
  const Fields f(json, file);
  ModelConfig c;

  // Everything that differs between model types comes from the registry (model_spec.hpp); absent model_type
  // is BERT, as in transformers' BertConfig.
  c.model_type = f.optional_string("model_type", std::string(model_specs().front().model_type));
  const ModelSpec* found = find_model_spec(c.model_type);
  if (!found) f.fail_unsupported("model_type", "is '" + c.model_type + "'; supported: " + supported_model_types());
  const ModelSpec& spec = *found;
  const ConfigKeys& keys = spec.keys;
  const bool projected = spec.projection != EmbeddingProjection::none;  // embedding_size is its own field
  c.feeds_token_type_ids = spec.feeds_token_type_ids;

  // transformers' defaults of each config class for the optional fields.
  c.vocab_size = f.required_int("vocab_size");
  c.hidden_size = f.required_int(keys.hidden);
  c.num_hidden_layers = f.required_int(keys.layers);
  c.num_attention_heads = f.required_int(keys.heads);
  c.intermediate_size = f.required_int(keys.intermediate);
  c.max_position_embeddings = f.required_int("max_position_embeddings");
  c.type_vocab_size = spec.token_types ? f.optional_int("type_vocab_size", 2) : 0;
  c.pad_token_id = spec.fixed_padding_idx >= 0 ? spec.fixed_padding_idx
                                               : f.optional_int("pad_token_id", spec.default_pad_token_id);
  // DistilBERT's LayerNorms use eps 1e-12 whatever the config says.
  c.layer_norm_eps = spec.reads_layer_norm_eps ? f.optional_number("layer_norm_eps", 1e-12) : 1e-12;
  c.embedding_size = projected ? f.required_int("embedding_size") : c.hidden_size;
  if (spec.sharing == LayerSharing::albert_groups) {
    c.num_hidden_groups = f.optional_int("num_hidden_groups", 1);
    c.inner_group_num = f.optional_int("inner_group_num", 1);
  }
  c.position_ids = spec.position_ids;
  if (!spec.relative_attention_bias.empty()) {
    // MPNetConfig's default. MPNetEncoder buckets distances into 32 buckets whatever this says (the table may
    // have more rows, never used; fewer would be indexed out of range).
    c.relative_attention_num_buckets = f.optional_int("relative_attention_num_buckets", 32);
    if (c.relative_attention_num_buckets < 32 || c.relative_attention_num_buckets > (std::int64_t{1} << 24))
      f.fail_config("relative_attention_num_buckets",
                    "= " + std::to_string(c.relative_attention_num_buckets) + ", expected at least 32 (" +
                        c.model_type + " buckets relative positions into 32 buckets)");
  }
  c.sinusoidal_pos_embds = spec.sinusoidal_option && f.optional_bool("sinusoidal_pos_embds", false);

  const std::pair<std::string_view, std::int64_t> positive[] = {
      {"vocab_size", c.vocab_size},
      {keys.hidden, c.hidden_size},
      {keys.layers, c.num_hidden_layers},
      {keys.heads, c.num_attention_heads},
      {keys.intermediate, c.intermediate_size},
      {"max_position_embeddings", c.max_position_embeddings},
      {"type_vocab_size", spec.token_types ? c.type_vocab_size : 1},
      {"embedding_size", c.embedding_size},
      {"num_hidden_groups", c.num_hidden_groups},
      {"inner_group_num", c.inner_group_num},
  };
  for (const auto& [field, value] : positive)
    if (value <= 0) f.fail_config(field, "= " + std::to_string(value) + ", expected a positive integer");
  if (c.hidden_size % c.num_attention_heads != 0)
    f.fail_config(keys.hidden, "= " + std::to_string(c.hidden_size) + " is not divisible by " +
                                   std::string(keys.heads) + " = " + std::to_string(c.num_attention_heads));
  // Sizes multiply into buffer sizes later: keep them far from overflow.
  constexpr std::int64_t kMaxDim = std::int64_t{1} << 24;
  for (const auto& [field, value] : positive)
    if (value > kMaxDim) f.fail_config(field, "= " + std::to_string(value) + " is implausibly large");
  if (c.pad_token_id < 0 || c.pad_token_id >= c.vocab_size)
    f.fail_config("pad_token_id", "= " + std::to_string(c.pad_token_id) + ", expected a token id in [0, " +
                                      std::to_string(c.vocab_size) + ")");
  if (!(c.layer_norm_eps > 0.0) || !std::isfinite(c.layer_norm_eps))
    f.fail_config("layer_norm_eps", "= " + std::to_string(c.layer_norm_eps) + ", expected a finite value > 0");

  c.max_sequence_length = c.max_position_embeddings;
  if (c.position_ids == PositionIds::after_padding_idx) {
    // Positions run from pad_token_id + 1 to max_position_embeddings - 1.
    c.max_sequence_length = c.max_position_embeddings - c.pad_token_id - 1;
    if (c.max_sequence_length <= 0)
      f.fail_config("max_position_embeddings", "= " + std::to_string(c.max_position_embeddings) +
                                                   " leaves no position after pad_token_id = " +
                                                   std::to_string(c.pad_token_id) + " (" + c.model_type +
                                                   " positions start at pad_token_id + 1)");
  }

  c.hidden_act = f.optional_string(keys.activation, std::string(spec.default_activation));
  if (c.hidden_act == "swish") c.hidden_act = "silu";
  Activation activation = Activation::none;
  if (!activation_from_name(c.hidden_act, activation))
    f.fail_unsupported(keys.activation, "is '" + c.hidden_act + "'; supported: " + std::string(kActivationNames));

  const std::string position = f.optional_string("position_embedding_type", "absolute");
  if (position != "absolute")
    f.fail_unsupported("position_embedding_type", "is '" + position + "'; supported: absolute");
  return c;
}

}  // namespace bertcpp::weights
