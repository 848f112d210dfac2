// parse_config: transformers' defaults, accepted values, and a typed error naming config.json and the field.
#include <gtest/gtest.h>

#include "bertcpp/error.hpp"
#include "weights/config.hpp"
#include "weights_test_writer.hpp"

namespace bertcpp::weights {
namespace {

using bertcpp::testing::small_config;
using bertcpp::testing::throws;

const std::filesystem::path kFile = "/some/model/config.json";

ModelConfig parse(const nlohmann::json& json) { return parse_config(json, kFile); }

// small_config() with one field replaced (or removed when `value` is the "<absent>" marker).
nlohmann::json with(const std::string& field, const nlohmann::json& value) {
  nlohmann::json c = small_config();
  if (value == "<absent>")
    c.erase(field);
  else
    c[field] = value;
  return c;
}

// `json` with one field replaced (or removed when `value` is the "<absent>" marker).
nlohmann::json with_field(nlohmann::json json, const std::string& field, const nlohmann::json& value) {
  if (value == "<absent>")
    json.erase(field);
  else
    json[field] = value;
  return json;
}

template <typename E>
::testing::AssertionResult rejects(const nlohmann::json& json, const std::vector<std::string>& fragments) {
  return throws<E>([&] { parse(json); }, fragments);
}

TEST(WeightsConfig, DefaultModelConfig) {
  const auto path = bertcpp::testing::default_model_dir() / "config.json";
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: run models/fetch_default_model.sh";
  const ModelConfig c = parse_config(nlohmann::json::parse(bertcpp::testing::read_file(path)), path);
  EXPECT_EQ(c.model_type, "bert");
  EXPECT_EQ(c.vocab_size, 30522);
  EXPECT_EQ(c.hidden_size, 384);
  EXPECT_EQ(c.num_hidden_layers, 6);
  EXPECT_EQ(c.num_attention_heads, 12);
  EXPECT_EQ(c.intermediate_size, 1536);
  EXPECT_EQ(c.hidden_act, "gelu");
  EXPECT_EQ(c.layer_norm_eps, 1e-12);
  EXPECT_EQ(c.max_position_embeddings, 512);
  EXPECT_EQ(c.type_vocab_size, 2);
  EXPECT_EQ(c.pad_token_id, 0);
}

TEST(WeightsConfig, TransformersDefaultsForAbsentOptionalFields) {
  nlohmann::json json = small_config();
  for (const char* field : {"model_type", "hidden_act", "type_vocab_size", "layer_norm_eps", "pad_token_id"})
    json.erase(field);
  const ModelConfig c = parse(json);
  EXPECT_EQ(c.model_type, "bert");
  EXPECT_EQ(c.hidden_act, "gelu");
  EXPECT_EQ(c.layer_norm_eps, 1e-12);
  EXPECT_EQ(c.type_vocab_size, 2);
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_EQ(c.hidden_size, 4);
}

TEST(WeightsConfig, ExplicitValuesAndNulls) {
  nlohmann::json json = small_config();
  json["layer_norm_eps"] = 1e-5;
  json["type_vocab_size"] = 1;
  json["pad_token_id"] = 9;
  json["position_embedding_type"] = "absolute";
  json["architectures"] = {"BertForMaskedLM"};  // unknown fields are ignored
  EXPECT_EQ(parse(json).layer_norm_eps, 1e-5);
  EXPECT_EQ(parse(json).type_vocab_size, 1);
  EXPECT_EQ(parse(json).pad_token_id, 9);
  // transformers treats null as "not set".
  json["pad_token_id"] = nullptr;
  json["position_embedding_type"] = nullptr;
  EXPECT_EQ(parse(json).pad_token_id, 0);
  // An integer-typed epsilon is still a number.
  json["layer_norm_eps"] = 1;
  EXPECT_EQ(parse(json).layer_norm_eps, 1.0);
}

TEST(WeightsConfig, SupportedActivations) {
  for (const char* act : {"gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu"})
    EXPECT_EQ(parse(with("hidden_act", act)).hidden_act, act);
  EXPECT_EQ(parse(with("hidden_act", "swish")).hidden_act, "silu");
}

// ---- errors -------------------------------------------------------------------------------------------------

TEST(WeightsConfig, NotAnObject) {
  EXPECT_TRUE(rejects<ConfigError>(nlohmann::json::array({1, 2}), {"config.json: expected a JSON object, found array"}));
}

TEST(WeightsConfig, RequiredFieldMissing) {
  for (const char* field : {"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                            "intermediate_size", "max_position_embeddings"}) {
    SCOPED_TRACE(field);
    EXPECT_TRUE(rejects<ConfigError>(with(field, "<absent>"), {"config.json: field '" + std::string(field) + "' is missing"}));
    EXPECT_TRUE(rejects<ConfigError>(with(field, nullptr), {"field '" + std::string(field) + "' is missing"}));
  }
}

TEST(WeightsConfig, FieldWithWrongJsonType) {
  EXPECT_TRUE(rejects<ConfigError>(with("hidden_size", "384"),
                                   {"config.json: field 'hidden_size' has type string (\"384\"), expected an integer"}));
  EXPECT_TRUE(rejects<ConfigError>(with("num_hidden_layers", 6.5), {"field 'num_hidden_layers' has type number (6.5)"}));
  EXPECT_TRUE(rejects<ConfigError>(with("vocab_size", true), {"field 'vocab_size' has type boolean"}));
  EXPECT_TRUE(rejects<ConfigError>(with("type_vocab_size", nlohmann::json::array({2})), {"field 'type_vocab_size' has type array"}));
  EXPECT_TRUE(rejects<ConfigError>(with("layer_norm_eps", "1e-12"), {"field 'layer_norm_eps' has type string, expected a number"}));
  EXPECT_TRUE(rejects<ConfigError>(with("hidden_act", 3), {"field 'hidden_act' has type number, expected a string"}));
  EXPECT_TRUE(rejects<ConfigError>(with("model_type", nlohmann::json::object()), {"field 'model_type' has type object"}));
  EXPECT_TRUE(rejects<ConfigError>(with("position_embedding_type", false), {"field 'position_embedding_type' has type boolean"}));
  EXPECT_TRUE(rejects<ConfigError>(with("vocab_size", 18446744073709551615ull), {"field 'vocab_size' = 18446744073709551615 is out of range"}));
}

TEST(WeightsConfig, NonPositiveSizes) {
  EXPECT_TRUE(rejects<ConfigError>(with("hidden_size", 0), {"config.json: field 'hidden_size' = 0, expected a positive integer"}));
  EXPECT_TRUE(rejects<ConfigError>(with("num_attention_heads", -2), {"field 'num_attention_heads' = -2, expected a positive"}));
  EXPECT_TRUE(rejects<ConfigError>(with("type_vocab_size", 0), {"field 'type_vocab_size' = 0"}));
  EXPECT_TRUE(rejects<ConfigError>(with("max_position_embeddings", -1), {"field 'max_position_embeddings' = -1"}));
}

TEST(WeightsConfig, HiddenNotDivisibleByHeads) {
  EXPECT_TRUE(rejects<ConfigError>(with("num_attention_heads", 3),
                                   {"config.json: field 'hidden_size' = 4 is not divisible by num_attention_heads = 3"}));
}

TEST(WeightsConfig, InvalidEpsilonAndPadId) {
  EXPECT_TRUE(rejects<ConfigError>(with("layer_norm_eps", 0.0), {"config.json: field 'layer_norm_eps' = 0.000000, expected a finite value > 0"}));
  EXPECT_TRUE(rejects<ConfigError>(with("layer_norm_eps", -1e-5), {"field 'layer_norm_eps'"}));
  EXPECT_TRUE(rejects<ConfigError>(with("pad_token_id", 10), {"field 'pad_token_id' = 10, expected a token id in [0, 10)"}));
  EXPECT_TRUE(rejects<ConfigError>(with("pad_token_id", -1), {"field 'pad_token_id' = -1"}));
}

TEST(WeightsConfig, UnsupportedPositionEmbeddingType) {
  EXPECT_TRUE(rejects<UnsupportedError>(with("position_embedding_type", "relative_key"),
                                        {"config.json: field 'position_embedding_type' is 'relative_key'; supported: absolute"}));
}

TEST(WeightsConfig, UnknownActivation) {
  EXPECT_TRUE(rejects<UnsupportedError>(
      with("hidden_act", "quick_gelu"),
      {"config.json: field 'hidden_act' is 'quick_gelu'; supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu"}));
}

TEST(WeightsConfig, UnsupportedModelType) {
  EXPECT_TRUE(rejects<UnsupportedError>(
      with("model_type", "deberta-v2"),
      {"config.json: field 'model_type' is 'deberta-v2'; supported: bert, roberta, xlm-roberta, albert, electra, "
       "distilbert"}));
}

// ---- the variants -------------------------------------------------------------------------------------------

// small_config() as another model type (BERT keys; DistilBERT's are below).
nlohmann::json as_type(const std::string& type) {
  nlohmann::json c = small_config();
  c["model_type"] = type;
  if (type == "albert" || type == "electra") c["embedding_size"] = 2;
  return c;
}

// A small DistilBERT config.json as transformers writes it.
nlohmann::json distilbert_config() {
  return {{"model_type", "distilbert"}, {"vocab_size", 10},     {"dim", 4},         {"n_layers", 2},
          {"n_heads", 2},               {"hidden_dim", 8},      {"activation", "gelu"},
          {"max_position_embeddings", 16}, {"sinusoidal_pos_embds", false}, {"pad_token_id", 0}};
}

TEST(WeightsConfig, BertDefaultsOfTheNewFields) {
  const ModelConfig c = parse(small_config());
  EXPECT_EQ(c.embedding_size, c.hidden_size);
  EXPECT_EQ(c.num_hidden_groups, 1);
  EXPECT_EQ(c.inner_group_num, 1);
  EXPECT_EQ(c.position_ids, PositionIds::token_index);
  EXPECT_FALSE(c.sinusoidal_pos_embds);
  EXPECT_EQ(c.max_sequence_length, 16);
  EXPECT_EQ(c.layers_run(), 1);
}

TEST(WeightsConfig, RobertaAndXlmRoberta) {
  for (const char* type : {"roberta", "xlm-roberta"}) {
    SCOPED_TRACE(type);
    nlohmann::json json = as_type(type);
    json.erase("pad_token_id");
    ModelConfig c = parse(json);
    EXPECT_EQ(c.model_type, type);
    EXPECT_EQ(c.pad_token_id, 1);  // RobertaConfig's default
    EXPECT_EQ(c.position_ids, PositionIds::after_padding_idx);
    EXPECT_EQ(c.max_sequence_length, 16 - 1 - 1);
    json["pad_token_id"] = 3;
    EXPECT_EQ(parse(json).max_sequence_length, 16 - 3 - 1);
    // 514 positions with pad id 1: 512 tokens, as transformers' tokenizers cap them.
    json["max_position_embeddings"] = 514;
    json["vocab_size"] = 600;
    json["pad_token_id"] = 1;
    EXPECT_EQ(parse(json).max_sequence_length, 512);
    // No position left after the padding index.
    json["max_position_embeddings"] = 2;
    EXPECT_TRUE(rejects<ConfigError>(json, {"config.json: field 'max_position_embeddings' = 2 leaves no position "
                                            "after pad_token_id = 1"}));
  }
}

TEST(WeightsConfig, Albert) {
  nlohmann::json json = as_type("albert");
  json.erase("hidden_act");
  json["num_hidden_groups"] = 1;
  json["inner_group_num"] = 3;
  ModelConfig c = parse(json);
  EXPECT_EQ(c.embedding_size, 2);
  EXPECT_EQ(c.hidden_act, "gelu_new");  // AlbertConfig's default
  EXPECT_EQ(c.inner_group_num, 3);
  EXPECT_EQ(c.layers_run(), 3);
  EXPECT_EQ(c.position_ids, PositionIds::token_index);
  json.erase("num_hidden_groups");
  json.erase("inner_group_num");
  c = parse(json);
  EXPECT_EQ(c.num_hidden_groups, 1);
  EXPECT_EQ(c.inner_group_num, 1);
  EXPECT_TRUE(rejects<ConfigError>(with_field(json, "num_hidden_groups", 0), {"field 'num_hidden_groups' = 0"}));
  EXPECT_TRUE(rejects<ConfigError>(with_field(json, "inner_group_num", "2"), {"field 'inner_group_num' has type string"}));
  EXPECT_TRUE(rejects<ConfigError>(with_field(json, "num_attention_heads", 3),
                                   {"field 'hidden_size' = 4 is not divisible by num_attention_heads = 3"}));
}

TEST(WeightsConfig, AlbertAndElectraNeedEmbeddingSize) {
  for (const char* type : {"albert", "electra"}) {
    SCOPED_TRACE(type);
    nlohmann::json json = as_type(type);
    EXPECT_EQ(parse(json).embedding_size, 2);
    EXPECT_TRUE(rejects<ConfigError>(with_field(json, "embedding_size", "<absent>"),
                                     {"config.json: field 'embedding_size' is missing"}));
    EXPECT_TRUE(rejects<ConfigError>(with_field(json, "embedding_size", 1.5), {"field 'embedding_size' has type number"}));
    EXPECT_TRUE(rejects<ConfigError>(with_field(json, "embedding_size", -4), {"field 'embedding_size' = -4"}));
  }
  // Other types ignore the key: their embeddings are hidden_size wide.
  nlohmann::json bert = small_config();
  bert["embedding_size"] = 2;
  EXPECT_EQ(parse(bert).embedding_size, 4);
}

TEST(WeightsConfig, DistilBertKeys) {
  ModelConfig c = parse(distilbert_config());
  EXPECT_EQ(c.model_type, "distilbert");
  EXPECT_EQ(c.hidden_size, 4);
  EXPECT_EQ(c.num_hidden_layers, 2);
  EXPECT_EQ(c.num_attention_heads, 2);
  EXPECT_EQ(c.intermediate_size, 8);
  EXPECT_EQ(c.hidden_act, "gelu");
  EXPECT_EQ(c.type_vocab_size, 0);  // no token types
  EXPECT_EQ(c.layer_norm_eps, 1e-12);
  EXPECT_FALSE(c.sinusoidal_pos_embds);
  EXPECT_EQ(c.max_sequence_length, 16);

  nlohmann::json json = distilbert_config();
  json["activation"] = "relu";
  json["sinusoidal_pos_embds"] = true;
  json["layer_norm_eps"] = 1e-5;  // not a DistilBERT key: its LayerNorms are hard-coded to 1e-12
  c = parse(json);
  EXPECT_EQ(c.hidden_act, "relu");
  EXPECT_TRUE(c.sinusoidal_pos_embds);
  EXPECT_EQ(c.layer_norm_eps, 1e-12);
}

TEST(WeightsConfig, DistilBertErrorsNameItsOwnKeys) {
  for (const char* field : {"vocab_size", "dim", "n_layers", "n_heads", "hidden_dim", "max_position_embeddings"}) {
    SCOPED_TRACE(field);
    EXPECT_TRUE(rejects<ConfigError>(with_field(distilbert_config(), field, "<absent>"),
                                     {"config.json: field '" + std::string(field) + "' is missing"}));
  }
  EXPECT_TRUE(rejects<ConfigError>(with_field(distilbert_config(), "dim", "768"), {"field 'dim' has type string"}));
  EXPECT_TRUE(rejects<ConfigError>(with_field(distilbert_config(), "n_heads", 3),
                                   {"field 'dim' = 4 is not divisible by n_heads = 3"}));
  EXPECT_TRUE(rejects<ConfigError>(with_field(distilbert_config(), "sinusoidal_pos_embds", 1),
                                   {"field 'sinusoidal_pos_embds' has type number, expected true or false"}));
  EXPECT_TRUE(rejects<UnsupportedError>(with_field(distilbert_config(), "activation", "gelu_fast"),
                                        {"field 'activation' is 'gelu_fast'; supported:"}));
  EXPECT_TRUE(rejects<ConfigError>(with_field(distilbert_config(), "hidden_dim", 0), {"field 'hidden_dim' = 0"}));
}

TEST(WeightsConfig, RelativePositionsUnsupportedForEveryType) {
  for (const char* type : {"bert", "roberta", "xlm-roberta", "albert", "electra"}) {
    SCOPED_TRACE(type);
    EXPECT_TRUE(rejects<UnsupportedError>(with_field(as_type(type), "position_embedding_type", "relative_key_query"),
                                          {"field 'position_embedding_type' is 'relative_key_query'"}));
  }
}

}  // namespace
}  // namespace bertcpp::weights
