// End-to-end: the encoder of RoBERTa, XLM-R, ALBERT, ELECTRA, DistilBERT and MPNet against transformers on tiny random
// checkpoints (tests/data/variants, written by models/make_variant_fixtures.py; its SPECS table says what each
// fixture covers). Tolerance: fp32 max-abs 1e-4 on last_hidden_state (positions with attention_mask 1),
// pooler_output and hidden_states; rows of masked-out tokens must be exactly zero.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "bertcpp/model.hpp"
#include "encoder/bert_encoder.hpp"
#include "encoder/relative_position.hpp"
#include "encoder_golden_util.hpp"
#include "test_util.hpp"
#include "weights/checkpoint.hpp"
#include "weights/config.hpp"
#include "weights/layout.hpp"
#include "weights_test_writer.hpp"

namespace bertcpp::testing {
namespace {

namespace fs = std::filesystem;

struct VariantCase {
  const char* dir;   // directory under tests/data/variants
  const char* name;  // golden_<name>.safetensors
};

// Every fixture the script writes, listed so that a missing file fails (VariantFixtures.* checks the other way).
const std::vector<VariantCase> kCases = {
    {"roberta_h48_f16", "mixed"},
    {"roberta_h48_f16", "len1"},
    {"roberta_h48_f16", "maxpos"},
    {"roberta_h48_f16", "leftpad"},
    {"roberta_h48_f16", "padids"},
    {"xlmr_seqcls_bf16", "mixed"},
    {"xlmr_seqcls_bf16", "len1"},
    {"xlmr_seqcls_bf16", "maxpos"},
    {"xlmr_seqcls_bf16", "leftpad"},
    {"xlmr_seqcls_bf16", "padids"},
    {"albert_e24_g2_i2_f16", "mixed"},
    {"albert_e24_g2_i2_f16", "len1"},
    {"albert_e24_g2_i2_f16", "maxpos"},
    {"albert_e24_g2_i2_f16", "leftpad"},
    {"albert_mlm_l3_g2_legacy_f16", "mixed"},
    {"albert_mlm_l3_g2_legacy_f16", "len1"},
    {"albert_mlm_l3_g2_legacy_f16", "maxpos"},
    {"electra_e24_proj_f16", "mixed"},
    {"electra_e24_proj_f16", "len1"},
    {"electra_e24_proj_f16", "maxpos"},
    {"electra_e24_proj_f16", "leftpad"},
    {"electra_seqcls_noproj_bf16", "mixed"},
    {"electra_seqcls_noproj_bf16", "len1"},
    {"electra_seqcls_noproj_bf16", "maxpos"},
    {"distilbert_sinusoidal_bf16", "mixed"},
    {"distilbert_sinusoidal_bf16", "len1"},
    {"distilbert_sinusoidal_bf16", "maxpos"},
    {"distilbert_sinusoidal_bf16", "leftpad"},
    {"distilbert_seqcls_relu_f32", "mixed"},
    {"distilbert_seqcls_relu_f32", "len1"},
    {"distilbert_seqcls_relu_f32", "maxpos"},
    {"mpnet_h48_f16", "mixed"},
    {"mpnet_h48_f16", "len1"},
    {"mpnet_h48_f16", "maxpos"},
    {"mpnet_h48_f16", "leftpad"},
    {"mpnet_h48_f16", "padids"},
    {"mpnet_h48_f16", "long"},
    {"mpnet_h48_f16", "holes"},
    {"mpnet_seqcls_b40_bf16", "mixed"},
    {"mpnet_seqcls_b40_bf16", "len1"},
    {"mpnet_seqcls_b40_bf16", "maxpos"},
    {"mpnet_seqcls_b40_bf16", "padids"},
    {"mpnet_seqcls_b40_bf16", "holes"},
};

// The directories that carry a tokenizer, texts.json and golden_text.safetensors.
const std::vector<std::string> kTextDirs = {"roberta_h48_f16", "xlmr_seqcls_bf16", "albert_e24_g2_i2_f16",
                                            "electra_e24_proj_f16", "distilbert_sinusoidal_bf16",
                                            "mpnet_seqcls_b40_bf16"};

const LoadOptions kNoTokenizer = [] {
  LoadOptions options;
  options.tokenizer = false;
  return options;
}();

void PrintTo(const VariantCase& c, std::ostream* os) { *os << c.dir << "/golden_" << c.name; }

fs::path variant_dir(const std::string& dir) { return data_dir() / "variants" / dir; }

std::vector<std::string> dir_names() {
  std::set<std::string> names;
  for (const auto& c : kCases) names.insert(c.dir);
  return {names.begin(), names.end()};
}

void report(const std::string& what, double max_abs) {
  std::cout << "[ max-abs  ] " << what << ": " << max_abs << '\n';
}

// Compares an EncoderOutput with a golden file: last_hidden_state (masked), pooler_output, hidden_states.
void expect_matches(const EncoderOutput& out, const GoldenFile& golden, const std::string& label) {
  const Tensor expected = golden.tensor("last_hidden_state");
  ASSERT_EQ(out.last_hidden_state.shape, expected.shape) << label;
  const MaskedDiff diff = compare_masked(out.last_hidden_state, expected, golden.attention_mask());
  report(label + " last_hidden_state", diff.max_abs);
  EXPECT_GT(diff.compared_rows, 0) << label;
  EXPECT_LE(diff.max_abs, kGoldenTolerance) << label << ": last_hidden_state";
  EXPECT_EQ(diff.max_abs_at_masked, 0.0) << label << ": rows of masked-out tokens must be zero";
  if (golden.has("pooler_output")) {
    const Tensor expected_pooler = golden.tensor("pooler_output");
    ASSERT_EQ(out.pooler_output.shape, expected_pooler.shape) << label;
    const double d = max_abs_diff(out.pooler_output, expected_pooler);
    report(label + " pooler_output", d);
    EXPECT_LE(d, kGoldenTolerance) << label << ": pooler_output";
  }
}

class EncoderVariant : public ::testing::TestWithParam<VariantCase> {};

TEST_P(EncoderVariant, MatchesTransformers) {
  const VariantCase& param = GetParam();
  const fs::path dir = variant_dir(param.dir);
  const std::string label = std::string(param.dir) + "/" + param.name;
  const GoldenFile golden(dir / ("golden_" + std::string(param.name) + ".safetensors"));

  LoadOptions options;
  options.tokenizer = false;  // ids in, no text: the tokenizer is tested by EncoderVariantText
  options.hidden_states = golden.has("hidden_states.0");
  const BertModel model = BertModel::load(dir, options);
  const EncoderOutput out = model.forward(golden.padded_batch());
  expect_matches(out, golden, label);

  // The pooler exists exactly when transformers' model has one (RoBERTa, ALBERT); ELECTRA, DistilBERT and
  // *ForSequenceClassification RoBERTa files have none. Left padding has no golden pooler (position 0 is a pad).
  const GoldenFile mixed(dir / "golden_mixed.safetensors");
  EXPECT_EQ(model.has_pooler(), mixed.has("pooler_output")) << label;
  if (!model.has_pooler()) {
    EXPECT_TRUE(out.pooler_output.empty()) << label;
  }

  if (!options.hidden_states) {
    EXPECT_TRUE(out.hidden_states.empty()) << label;
    return;
  }
  const std::int64_t runs = model.config().layers_run();
  ASSERT_FALSE(golden.has("hidden_states." + std::to_string(runs + 1))) << label << ": more states than layers run";
  ASSERT_EQ(out.hidden_states.size(), static_cast<std::size_t>(runs + 1)) << label;
  for (std::int64_t i = 0; i <= runs; ++i) {
    const std::string name = "hidden_states." + std::to_string(i);
    const Tensor expected_i = golden.tensor(name);
    ASSERT_EQ(out.hidden_states[static_cast<std::size_t>(i)].shape, expected_i.shape) << label << ": " << name;
    const MaskedDiff d = compare_masked(out.hidden_states[static_cast<std::size_t>(i)], expected_i,
                                        golden.attention_mask());
    EXPECT_LE(d.max_abs, kGoldenTolerance) << label << ": " << name;
    EXPECT_EQ(d.max_abs_at_masked, 0.0) << label << ": " << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EncoderVariant, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<VariantCase>& info) {
                           return std::string(info.param.dir) + "_" + info.param.name;
                         });

// The "mixed" sequences handed over unpadded through Batch::add (no attention mask): the RoBERTa position
// rule then sees no pad ids at all, and every row must still match.
class EncoderVariantUnpadded : public ::testing::TestWithParam<std::string> {};

TEST_P(EncoderVariantUnpadded, MatchesTransformers) {
  const std::string& name = GetParam();
  const fs::path dir = variant_dir(name);
  const GoldenFile golden(dir / "golden_mixed.safetensors");
  const BertModel model = BertModel::load(dir, kNoTokenizer);
  Batch batch;
  for (std::int64_t b = 0; b < golden.batch(); ++b) {
    batch.add(golden.real_tokens(golden.input_ids(), b), golden.real_tokens(golden.token_type_ids(), b));
  }
  expect_matches(model.forward(batch), golden, name + "/mixed unpadded");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EncoderVariantUnpadded, ::testing::ValuesIn(dir_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// forward(texts): the directory's tokenizer (special tokens, truncation to max_sequence_length) then the
// encoder, against transformers' tokenizer + model on the same sentences (one of them longer than the limit).
class EncoderVariantText : public ::testing::TestWithParam<std::string> {};

TEST_P(EncoderVariantText, MatchesTransformers) {
  const std::string& name = GetParam();
  const fs::path dir = variant_dir(name);
  const GoldenFile golden(dir / "golden_text.safetensors");
  const auto texts = nlohmann::json::parse(read_file(dir / "texts.json")).get<std::vector<std::string>>();
  // The SentencePiece (Unigram) tokenizers of XLM-R and ALBERT are being written as this test lands: until the
  // tokenizer loader knows the family, the case is skipped (it runs, and can fail, as soon as it does).
  std::optional<BertModel> loaded;
  try {
    loaded.emplace(BertModel::load(dir));
  } catch (const UnsupportedError& e) {
    if (std::string(e.what()).find("tokenizer.json: field 'model.type'") == std::string::npos) throw;
    GTEST_SKIP() << "tokenizer family not supported yet: " << e.what();
  }
  const BertModel& model = *loaded;
  ASSERT_TRUE(model.has_tokenizer()) << name;
  EXPECT_EQ(golden.seq_len(), model.config().max_sequence_length) << name << ": the long text reaches the limit";
  const EncoderOutput out = model.forward(std::span<const std::string>(texts));
  // transformers pads on the right: each sequence's length is its mask's sum.
  for (std::int64_t b = 0; b < golden.batch(); ++b) {
    std::int64_t n = 0;
    for (std::int64_t t = 0; t < golden.seq_len(); ++t) n += golden.attention_mask()[b * golden.seq_len() + t];
    ASSERT_EQ(out.lengths[static_cast<std::size_t>(b)], n) << name << ": text " << b;
  }
  expect_matches(out, golden, name + "/text");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EncoderVariantText, ::testing::ValuesIn(kTextDirs),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// What parse_config reads from each fixture's config.json.
TEST(EncoderVariantConfig, FixtureConfigs) {
  const auto config = [](const std::string& name) { return BertModel::load(variant_dir(name), kNoTokenizer).config(); };
  const ModelConfig roberta = config("roberta_h48_f16");
  EXPECT_EQ(roberta.model_type, "roberta");
  EXPECT_EQ(roberta.position_ids, PositionIds::after_padding_idx);
  EXPECT_EQ(roberta.max_sequence_length, 40 - 1 - 1);
  EXPECT_EQ(roberta.type_vocab_size, 1);
  const ModelConfig xlmr = config("xlmr_seqcls_bf16");
  EXPECT_EQ(xlmr.model_type, "xlm-roberta");
  EXPECT_EQ(xlmr.max_sequence_length, 32);
  const ModelConfig albert = config("albert_e24_g2_i2_f16");
  EXPECT_EQ(albert.embedding_size, 24);
  EXPECT_EQ(albert.num_hidden_groups, 2);
  EXPECT_EQ(albert.inner_group_num, 2);
  EXPECT_EQ(albert.layers_run(), 8);
  EXPECT_EQ(albert.position_ids, PositionIds::token_index);
  const ModelConfig electra = config("electra_e24_proj_f16");
  EXPECT_EQ(electra.embedding_size, 24);
  EXPECT_EQ(electra.hidden_size, 48);
  const ModelConfig distil = config("distilbert_sinusoidal_bf16");
  EXPECT_EQ(distil.model_type, "distilbert");
  EXPECT_EQ(distil.hidden_size, 48);
  EXPECT_EQ(distil.num_hidden_layers, 2);
  EXPECT_EQ(distil.num_attention_heads, 3);
  EXPECT_EQ(distil.intermediate_size, 100);
  EXPECT_EQ(distil.type_vocab_size, 0);
  EXPECT_TRUE(distil.sinusoidal_pos_embds);
  EXPECT_EQ(distil.layer_norm_eps, 1e-12);
  EXPECT_EQ(config("distilbert_seqcls_relu_f32").hidden_act, "relu");
  EXPECT_EQ(distil.relative_attention_num_buckets, 0);
  const ModelConfig mpnet = config("mpnet_h48_f16");
  EXPECT_EQ(mpnet.model_type, "mpnet");
  EXPECT_EQ(mpnet.position_ids, PositionIds::after_padding_idx);
  EXPECT_EQ(mpnet.max_sequence_length, 302 - 1 - 1);
  EXPECT_EQ(mpnet.type_vocab_size, 0);
  EXPECT_FALSE(mpnet.feeds_token_type_ids);
  EXPECT_EQ(mpnet.relative_attention_num_buckets, 32);
  EXPECT_EQ(config("mpnet_seqcls_b40_bf16").relative_attention_num_buckets, 40);
}

// MPNet's bucket of a key - query distance: the first distance of each bucket as transformers 5.24's
// MPNetEncoder.relative_position_bucket computes it (torch, fp32 log), both directions, and the saturation past
// max_distance 128.
TEST(EncoderVariantMpnet, RelativeBucketsMatchTransformers) {
  const std::vector<std::pair<std::int64_t, std::int64_t>> first_of_bucket = {
      {0, 0},    {-1, 1},   {-2, 2},   {-3, 3},   {-4, 4},   {-5, 5},   {-6, 6},   {-7, 7},  {-8, 8},  {-12, 9},
      {-16, 10}, {-23, 11}, {-32, 12}, {-46, 13}, {-64, 14}, {-91, 15}, {1, 17},   {2, 18},  {3, 19},  {4, 20},
      {5, 21},   {6, 22},   {7, 23},   {8, 24},   {12, 25},  {16, 26},  {23, 27},  {32, 28}, {46, 29}, {64, 30},
      {91, 31}};
  for (const auto& [distance, bucket] : first_of_bucket) {
    EXPECT_EQ(encoder::relative_bucket(distance), bucket) << "distance " << distance;
    // The distance one step closer to 0 is in the previous bucket (the bucket starts exactly here).
    if (distance != 0) {
      const std::int64_t closer = distance > 0 ? distance - 1 : distance + 1;
      EXPECT_EQ(encoder::relative_bucket(closer), closer == 0 ? 0 : bucket - 1) << "distance " << closer;
    }
  }
  for (const std::int64_t far : {127, 128, 129, 300, 5000}) {
    EXPECT_EQ(encoder::relative_bucket(far), 31) << far;
    EXPECT_EQ(encoder::relative_bucket(-far), 15) << -far;
  }
}

// The goldens depend on the relative position bias: the same checkpoint with encoder.relative_attention_bias
// zeroed moves last_hidden_state far beyond the tolerance (the figure is printed). Guards against a test set
// that would pass without the bias.
TEST(EncoderVariantMpnet, GoldensDependOnTheRelativeBias) {
  const fs::path source = variant_dir("mpnet_h48_f16");
  TempDir dir;
  fs::copy_file(source / "config.json", dir.path() / "config.json");
  std::string bytes = read_file(source / "model.safetensors");
  // Zero the tensor's bytes in place: safetensors = u64 header length, JSON header, data.
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i)
    header_len = header_len << 8 | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  const auto header = nlohmann::json::parse(bytes.substr(8, header_len));
  const auto& where = header.at("encoder.relative_attention_bias.weight").at("data_offsets");
  const std::size_t begin = 8 + header_len + where[0].get<std::size_t>();
  const std::size_t end = 8 + header_len + where[1].get<std::size_t>();
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(begin), bytes.begin() + static_cast<std::ptrdiff_t>(end), '\0');
  write_file(dir.path() / "model.safetensors", bytes);

  for (const std::string name : {"mixed", "long", "maxpos", "holes"}) {
    const GoldenFile golden(source / ("golden_" + name + ".safetensors"));
    const EncoderOutput without = BertModel::load(dir.path(), kNoTokenizer).forward(golden.padded_batch());
    const MaskedDiff diff = compare_masked(without.last_hidden_state, golden.tensor("last_hidden_state"),
                                           golden.attention_mask());
    report("mpnet_h48_f16/" + name + " without the relative bias", diff.max_abs);
    EXPECT_GT(diff.max_abs, 100 * kGoldenTolerance) << name;
  }
}

// MPNetEmbeddings' padding index is 1 whatever pad_token_id says (the position rule follows the model class).
TEST(EncoderVariantMpnet, PositionPaddingIndexIsAlwaysOne) {
  auto json = nlohmann::json::parse(read_file(variant_dir("mpnet_h48_f16") / "config.json"));
  json["pad_token_id"] = 0;
  const ModelConfig config = weights::parse_config(json, "config.json");
  EXPECT_EQ(config.pad_token_id, 1);
  EXPECT_EQ(config.max_sequence_length, 302 - 1 - 1);
}

// A relative bias table smaller than the 32 buckets transformers always uses is refused when the config is read.
TEST(EncoderVariantMpnet, FewerThan32BucketsIsAConfigError) {
  auto json = nlohmann::json::parse(read_file(variant_dir("mpnet_h48_f16") / "config.json"));
  json["relative_attention_num_buckets"] = 16;
  expect_error<ConfigError>([&] { weights::parse_config(json, "config.json"); },
                            "config.json: field 'relative_attention_num_buckets' = 16, expected at least 32");
}

// ALBERT's shared layers are stored (and packed) once: 2 groups x 2 inner layers = 4 stored, 8 run; with 3 layers
// over 2 groups transformers runs groups int(i / 1.5) = 0, 0, 1.
TEST(EncoderVariantAlbert, SharedLayersArePackedOnce) {
  const fs::path dir = variant_dir("albert_e24_g2_i2_f16");
  weights::Checkpoint ckpt = weights::Checkpoint::open(dir);
  const ModelConfig config = weights::parse_config(ckpt.config(), dir / "config.json");
  const weights::CheckpointLayout layout = weights::checkpoint_layout(config);
  EXPECT_EQ(layout.layer_scopes.size(), 4u);
  EXPECT_EQ(layout.schedule, (std::vector<std::size_t>{0, 1, 0, 1, 2, 3, 2, 3}));
  ckpt.select_prefix({"albert.", ""}, layout.word_embeddings);
  const kernels::DnnlContext ctx;
  const encoder::BertEncoder enc(ctx, ckpt, config, layout, true);
  EXPECT_EQ(enc.stored_layers(), 4u);
  EXPECT_EQ(enc.layers_run(), 8u);

  EXPECT_EQ(weights::albert_group_of_layer(0, 3, 2), 0u);
  EXPECT_EQ(weights::albert_group_of_layer(1, 3, 2), 0u);
  EXPECT_EQ(weights::albert_group_of_layer(2, 3, 2), 1u);
  EXPECT_EQ(weights::albert_group_of_layer(11, 12, 1), 0u);
  EXPECT_EQ(weights::albert_group_of_layer(5, 12, 4), 1u);
  EXPECT_EQ(weights::albert_group_of_layer(11, 12, 12), 11u);
}

// RoBERTa's limit is max_position_embeddings - pad_token_id - 1 (here 40 - 1 - 1 = 38): 38 tokens run, 39 are
// rejected, naming the limit.
TEST(EncoderVariantRoberta, SequenceLimitFollowsPaddingIdx) {
  const BertModel model = BertModel::load(variant_dir("roberta_h48_f16"), kNoTokenizer);
  Batch ok;
  ok.add(std::vector<std::int32_t>(38, 5));
  EXPECT_NO_THROW(model.forward(ok));
  Batch too_long;
  too_long.add(std::vector<std::int32_t>(39, 5));
  EXPECT_TRUE(throws<InvalidArgumentError>([&] { model.forward(too_long); },
                                           {"input 0", "39 tokens", "38", "max_position_embeddings 40"}));
}

// DistilBERT has no token types: token_type_ids given by the caller are ignored (DistilBertModel takes none),
// even values that would be out of range for a model with types.
TEST(EncoderVariantDistilBert, TokenTypeIdsAreIgnored) {
  const fs::path dir = variant_dir("distilbert_seqcls_relu_f32");
  const GoldenFile golden(dir / "golden_mixed.safetensors");
  const BertModel model = BertModel::load(dir, kNoTokenizer);
  Batch with_types;
  std::mt19937 rng(7);
  for (std::int64_t b = 0; b < golden.batch(); ++b) {
    auto ids = golden.real_tokens(golden.input_ids(), b);
    std::vector<std::int32_t> types(ids.size());
    for (auto& t : types) t = static_cast<std::int32_t>(rng() % 5);
    with_types.add(std::move(ids), std::move(types));
  }
  expect_matches(model.forward(with_types), golden, "distilbert_seqcls_relu_f32/mixed with token types");
}

// DistilBERT's sinusoidal table, generated when the file lacks it, equals transformers' formula at a few points.
TEST(EncoderVariantDistilBert, SinusoidalTable) {
  const std::vector<float> table = encoder::sinusoidal_position_table(5, 6);
  ASSERT_EQ(table.size(), 30u);
  for (std::int64_t pos = 0; pos < 5; ++pos) {
    for (std::int64_t j = 0; j < 6; ++j) {
      const double angle = static_cast<double>(pos) / std::pow(10000.0, 2.0 * static_cast<double>(j / 2) / 6.0);
      const double expected = j % 2 == 0 ? std::sin(angle) : std::cos(angle);
      EXPECT_NEAR(table[static_cast<std::size_t>(pos * 6 + j)], expected, 1e-7) << pos << "," << j;
    }
  }
  EXPECT_EQ(table[1], 1.0f);  // cos(0)
}

// Every directory under tests/data/variants is exercised above and is a checkpoint directory.
TEST(VariantFixtures, DirectoryHoldsExactlyTheListedFixtures) {
  std::vector<std::string> on_disk;
  for (const auto& entry : fs::directory_iterator(data_dir() / "variants")) {
    if (entry.is_directory()) on_disk.push_back(entry.path().filename().string());
  }
  std::sort(on_disk.begin(), on_disk.end());
  EXPECT_EQ(on_disk, dir_names());
  for (const auto& name : dir_names()) {
    EXPECT_TRUE(fs::exists(variant_dir(name) / "config.json")) << name;
    EXPECT_TRUE(fs::exists(variant_dir(name) / "model.safetensors")) << name;
    const bool has_text = std::find(kTextDirs.begin(), kTextDirs.end(), name) != kTextDirs.end();
    EXPECT_EQ(fs::exists(variant_dir(name) / "golden_text.safetensors"), has_text) << name;
  }
}

}  // namespace
}  // namespace bertcpp::testing
