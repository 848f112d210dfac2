// End-to-end on the default model (sentence-transformers/all-MiniLM-L6-v2, fetched by
// models/fetch_default_model.sh): last_hidden_state against transformers for 16 real tokenized sentences
// (tests/data/minilm/golden.safetensors) and one 512-token sequence (golden_512.safetensors).
// Tolerance: fp32 max-abs 1e-4 over positions with attention_mask 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "bertcpp/model.hpp"
#include "encoder_golden_util.hpp"
#include "test_util.hpp"

namespace bertcpp::testing {
namespace {

namespace fs = std::filesystem;

// The default model, or a failure telling how to get it: these tests never skip silently.
std::optional<BertModel> load_default_model(std::string* why) {
  const fs::path dir = default_model_dir();
  if (!fs::exists(dir / "config.json") || !fs::exists(dir / "model.safetensors")) {
    *why = "the default model is missing from " + dir.string() +
           ": run `bash models/fetch_default_model.sh` (or set BERTCPP_DEFAULT_MODEL_DIR)";
    return std::nullopt;
  }
  return BertModel::load(dir);
}

void expect_matches(const BertModel& model, const GoldenFile& golden, const std::string& label) {
  const EncoderOutput out = model.forward(golden.padded_batch());
  const Tensor expected = golden.tensor("last_hidden_state");
  ASSERT_EQ(out.last_hidden_state.shape, expected.shape) << label;
  const MaskedDiff diff = compare_masked(out.last_hidden_state, expected, golden.attention_mask());
  std::cout << "[ max-abs  ] " << label << " last_hidden_state over " << diff.compared_rows
            << " tokens: " << diff.max_abs << '\n';
  EXPECT_LE(diff.max_abs, kGoldenTolerance) << label;
  EXPECT_EQ(diff.max_abs_at_masked, 0.0) << label << ": rows of padding tokens must be zero";
}

TEST(EncoderRealModel, SixteenSentencesMatchTransformers) {
  std::string why;
  const std::optional<BertModel> model = load_default_model(&why);
  ASSERT_TRUE(model.has_value()) << why;
  const GoldenFile golden(data_dir() / "minilm" / "golden.safetensors");
  ASSERT_GE(golden.batch(), 16);
  expect_matches(*model, golden, "minilm/golden (padded batch)");
}

// Each sentence alone and unpadded (no attention mask): the same numbers as in the padded batch.
TEST(EncoderRealModel, SentencesOneByOneMatchTransformers) {
  std::string why;
  const std::optional<BertModel> model = load_default_model(&why);
  ASSERT_TRUE(model.has_value()) << why;
  const GoldenFile golden(data_dir() / "minilm" / "golden.safetensors");
  const Tensor expected = golden.tensor("last_hidden_state");  // [B, T, H]
  const std::int64_t hidden = expected.dim(2);

  double worst = 0.0;
  for (std::int64_t b = 0; b < golden.batch(); ++b) {
    Batch batch;
    batch.add(golden.real_tokens(golden.input_ids(), b), golden.real_tokens(golden.token_type_ids(), b));
    const std::int64_t length = static_cast<std::int64_t>(batch.input_ids[0].size());
    const EncoderOutput out = model->forward(batch);
    ASSERT_EQ(out.last_hidden_state.shape, (std::vector<std::int64_t>{1, length, hidden})) << "sentence " << b;
    // Right padding only: the sentence's tokens are the first `length` rows of its golden rows.
    double max_abs = 0.0;
    const float* want = expected.row(b);
    for (std::int64_t i = 0; i < length * hidden; ++i) {
      max_abs = std::max(max_abs, abs_or_inf(double(out.last_hidden_state.data[i]) - double(want[i])));
    }
    EXPECT_LE(max_abs, kGoldenTolerance) << "sentence " << b << " (" << length << " tokens)";
    worst = std::max(worst, max_abs);
  }
  std::cout << "[ max-abs  ] minilm/golden one by one, worst sentence: " << worst << '\n';
}

TEST(EncoderRealModel, MaxPositionsSequenceMatchesTransformers) {
  std::string why;
  const std::optional<BertModel> model = load_default_model(&why);
  ASSERT_TRUE(model.has_value()) << why;
  const GoldenFile golden(data_dir() / "minilm" / "golden_512.safetensors");
  ASSERT_EQ(golden.seq_len(), model->config().max_position_embeddings);
  expect_matches(*model, golden, "minilm/golden_512");
}

}  // namespace
}  // namespace bertcpp::testing
