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
  EXPECT_TRUE(rejects<UnsupportedError>(with("model_type", "roberta"),
                                        {"config.json: field 'model_type' is 'roberta'; supported: bert"}));
}

}  // namespace
}  // namespace bertcpp::weights
