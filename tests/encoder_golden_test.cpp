// End-to-end: the encoder against transformers on tiny random checkpoints (tests/data/encoder, written by
// models/make_encoder_fixtures.py; see models/README.md for what each fixture covers).
// Tolerance: fp32 max-abs 1e-4 on last_hidden_state (positions with attention_mask 1), pooler_output and
// hidden_states; rows of masked-out tokens must be exactly zero.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "bertcpp/model.hpp"
#include "encoder_golden_util.hpp"
#include "test_util.hpp"

namespace bertcpp::testing {
namespace {

namespace fs = std::filesystem;

struct GoldenCase {
  const char* config;  // directory under tests/data/encoder
  const char* name;    // golden_<name>.safetensors
};

// Every fixture the script writes. Listed rather than discovered so that a missing file fails a test
// instead of silently shrinking the suite; EncoderGoldenFixtures.DirectoryHoldsExactlyTheListedConfigs
// catches the other direction.
const std::vector<GoldenCase> kCases = {
    {"bert_h48_gelu_f32", "mixed"},         {"bert_h48_gelu_f32", "len1"},
    {"bert_h48_gelu_f32", "maxpos"},        {"bert_h48_gelu_f32", "leftpad"},
    {"seqcls_h96_gelunew_f16", "mixed"},    {"seqcls_h96_gelunew_f16", "len1"},
    {"seqcls_h96_gelunew_f16", "maxpos"},   {"mlm_h64_tanh_bf16_sharded", "mixed"},
    {"mlm_h64_tanh_bf16_sharded", "len1"},  {"mlm_h64_tanh_bf16_sharded", "maxpos"},
    {"legacy_h48_relu_f32", "mixed"},       {"legacy_h48_relu_f32", "len1"},
    {"legacy_h48_relu_f32", "maxpos"},      {"bert_h96_silu_bf16", "mixed"},
    {"bert_h96_silu_bf16", "len1"},         {"bert_h96_silu_bf16", "maxpos"},
};

void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.config << "/golden_" << c.name; }

std::vector<std::string> config_names() {
  std::set<std::string> names;
  for (const auto& c : kCases) names.insert(c.config);
  return {names.begin(), names.end()};
}

fs::path config_dir(const std::string& config) { return data_dir() / "encoder" / config; }

// Whether the checkpoint has a pooler: its "mixed" golden holds a pooler_output exactly then.
bool fixture_has_pooler(const std::string& config) {
  return GoldenFile(config_dir(config) / "golden_mixed.safetensors").has("pooler_output");
}

void report(const std::string& what, double max_abs) {
  std::cout << "[ max-abs  ] " << what << ": " << max_abs << '\n';
}

class EncoderGolden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(EncoderGolden, MatchesTransformers) {
  const GoldenCase& param = GetParam();
  const fs::path dir = config_dir(param.config);
  const std::string label = std::string(param.config) + "/" + param.name;
  const GoldenFile golden(dir / ("golden_" + std::string(param.name) + ".safetensors"));

  LoadOptions options;
  options.hidden_states = golden.has("hidden_states.0");
  const BertModel model = BertModel::load(dir, options);
  const EncoderOutput out = model.forward(golden.padded_batch());

  const Tensor expected = golden.tensor("last_hidden_state");
  ASSERT_EQ(out.last_hidden_state.shape, expected.shape) << label;
  const MaskedDiff diff = compare_masked(out.last_hidden_state, expected, golden.attention_mask());
  report(label + " last_hidden_state", diff.max_abs);
  EXPECT_GT(diff.compared_rows, 0);
  EXPECT_LE(diff.max_abs, kGoldenTolerance) << label << ": last_hidden_state";
  EXPECT_EQ(diff.max_abs_at_masked, 0.0) << label << ": rows of masked-out tokens must be zero";
  EXPECT_EQ(out.lengths.size(), static_cast<std::size_t>(golden.batch()));

  const bool checkpoint_has_pooler = fixture_has_pooler(param.config);
  EXPECT_EQ(model.has_pooler(), checkpoint_has_pooler) << label;
  const std::int64_t hidden = expected.dim(2);
  if (golden.has("pooler_output")) {
    const Tensor expected_pooler = golden.tensor("pooler_output");
    ASSERT_EQ(out.pooler_output.shape, expected_pooler.shape) << label;
    const double pooler_diff = max_abs_diff(out.pooler_output, expected_pooler);
    report(label + " pooler_output", pooler_diff);
    EXPECT_LE(pooler_diff, kGoldenTolerance) << label << ": pooler_output";
  } else if (checkpoint_has_pooler) {
    // Left padding: transformers pools position 0, a padding token, so there is nothing to compare with;
    // the engine must still return one pooled row per sequence.
    EXPECT_EQ(out.pooler_output.shape, (std::vector<std::int64_t>{golden.batch(), hidden})) << label;
  } else {
    EXPECT_TRUE(out.pooler_output.empty()) << label << ": the checkpoint has no pooler";
  }

  if (!options.hidden_states) {
    EXPECT_TRUE(out.hidden_states.empty()) << label << ": hidden_states were not requested";
    return;
  }
  const std::int64_t layers = model.config().num_hidden_layers;
  ASSERT_FALSE(golden.has("hidden_states." + std::to_string(layers + 1))) << label << ": fixture mismatch";
  ASSERT_EQ(out.hidden_states.size(), static_cast<std::size_t>(layers + 1)) << label;
  for (std::int64_t i = 0; i <= layers; ++i) {
    const std::string name = "hidden_states." + std::to_string(i);
    const Tensor expected_i = golden.tensor(name);
    ASSERT_EQ(out.hidden_states[i].shape, expected_i.shape) << label << ": " << name;
    const MaskedDiff d = compare_masked(out.hidden_states[i], expected_i, golden.attention_mask());
    report(label + " " + name, d.max_abs);
    EXPECT_LE(d.max_abs, kGoldenTolerance) << label << ": " << name;
    EXPECT_EQ(d.max_abs_at_masked, 0.0) << label << ": " << name << " rows of masked-out tokens must be zero";
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EncoderGolden, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           return std::string(info.param.config) + "_" + info.param.name;
                         });

// The same sequences as the "mixed" case, handed over unpadded through Batch::add (no attention mask, the
// path most callers take): each sequence's rows match transformers and the rows past its end are zero.
class EncoderGoldenUnpadded : public ::testing::TestWithParam<std::string> {};

TEST_P(EncoderGoldenUnpadded, MatchesTransformers) {
  const std::string& config = GetParam();
  const fs::path dir = config_dir(config);
  const GoldenFile golden(dir / "golden_mixed.safetensors");
  const BertModel model = BertModel::load(dir);

  Batch batch;
  for (std::int64_t b = 0; b < golden.batch(); ++b) {
    batch.add(golden.real_tokens(golden.input_ids(), b), golden.real_tokens(golden.token_type_ids(), b));
  }
  const EncoderOutput out = model.forward(batch);

  const Tensor expected = golden.tensor("last_hidden_state");
  ASSERT_EQ(out.last_hidden_state.shape, expected.shape) << config;
  const MaskedDiff diff = compare_masked(out.last_hidden_state, expected, golden.attention_mask());
  report(config + "/mixed unpadded last_hidden_state", diff.max_abs);
  EXPECT_LE(diff.max_abs, kGoldenTolerance) << config;
  EXPECT_EQ(diff.max_abs_at_masked, 0.0) << config << ": rows past a sequence's end must be zero";

  std::vector<std::int64_t> expected_lengths;
  for (std::int64_t b = 0; b < golden.batch(); ++b) {
    expected_lengths.push_back(static_cast<std::int64_t>(batch.input_ids[b].size()));
  }
  EXPECT_EQ(out.lengths, expected_lengths) << config;

  if (golden.has("pooler_output")) {
    const Tensor expected_pooler = golden.tensor("pooler_output");
    ASSERT_EQ(out.pooler_output.shape, expected_pooler.shape) << config;
    EXPECT_LE(max_abs_diff(out.pooler_output, expected_pooler), kGoldenTolerance) << config;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EncoderGoldenUnpadded, ::testing::ValuesIn(config_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// LoadOptions::pooler_output = false: no pooler_output even though the checkpoint has a pooler, and the
// hidden states are unaffected.
TEST(EncoderGoldenOptions, PoolerCanBeTurnedOff) {
  const fs::path dir = config_dir("bert_h48_gelu_f32");
  const GoldenFile golden(dir / "golden_mixed.safetensors");
  LoadOptions options;
  options.pooler_output = false;
  const EncoderOutput out = BertModel::load(dir, options).forward(golden.padded_batch());
  EXPECT_TRUE(out.pooler_output.empty());
  ASSERT_EQ(out.last_hidden_state.shape, golden.tensor("last_hidden_state").shape);
  EXPECT_LE(compare_masked(out.last_hidden_state, golden.tensor("last_hidden_state"), golden.attention_mask()).max_abs,
            kGoldenTolerance);
}

// Every fixture directory is exercised above, and each is a checkpoint directory as transformers writes it.
TEST(EncoderGoldenFixtures, DirectoryHoldsExactlyTheListedConfigs) {
  std::vector<std::string> on_disk;
  for (const auto& entry : fs::directory_iterator(data_dir() / "encoder")) {
    if (entry.is_directory()) on_disk.push_back(entry.path().filename().string());
  }
  std::sort(on_disk.begin(), on_disk.end());
  EXPECT_EQ(on_disk, config_names());
  for (const auto& config : config_names()) {
    const fs::path dir = config_dir(config);
    EXPECT_TRUE(fs::exists(dir / "config.json")) << dir;
    EXPECT_TRUE(fs::exists(dir / "model.safetensors") || fs::exists(dir / "model.safetensors.index.json")) << dir;
  }
}

}  // namespace
}  // namespace bertcpp::testing
