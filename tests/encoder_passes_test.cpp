// A batch larger than one pass (encoder::kMaxTokensPerPass tokens) runs through the layers a pass of whole
// sequences at a time, and the workspace grows geometrically: a long-running process reaches its memory
// high-water mark in its first batches and then stays flat (docs/reliability.md, "Soak").
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bertcpp/compute.hpp"
#include "bertcpp/model.hpp"
#include "encoder/bert_encoder.hpp"
#include "encoder/packing.hpp"
#include "encoder/workspace.hpp"
#include "encoder_golden_util.hpp"
#include "test_util.hpp"
#include "weights/checkpoint.hpp"
#include "weights/config.hpp"
#include "weights/layout.hpp"

namespace bertcpp::testing {
namespace {

namespace fs = std::filesystem;

fs::path fixture_dir() { return data_dir() / "encoder" / "bert_h48_gelu_f32"; }  // H 48, I 100, 32 positions

std::vector<std::int64_t> offsets_of(const std::vector<std::int64_t>& lengths) {
  std::vector<std::int64_t> offsets{0};
  for (const std::int64_t n : lengths) offsets.push_back(offsets.back() + n);
  return offsets;
}

std::vector<std::int64_t> passes(const std::vector<std::int64_t>& lengths, std::int64_t max_tokens) {
  std::vector<std::int64_t> starts{-1};  // plan_passes must replace what was there
  encoder::plan_passes(offsets_of(lengths), max_tokens, starts);
  return starts;
}

TEST(EncoderPasses, PlanSplitsAtSequencesUpToTheBudget) {
  EXPECT_EQ(passes({3, 4, 2, 5}, 100), (std::vector<std::int64_t>{0, 4}));  // all fits: one pass
  EXPECT_EQ(passes({3, 4, 2, 5}, 9), (std::vector<std::int64_t>{0, 3, 4}));  // 3 + 4 + 2 = 9, then 5
  EXPECT_EQ(passes({3, 4, 2, 5}, 7), (std::vector<std::int64_t>{0, 2, 4}));  // 3 + 4, 2 + 5
  EXPECT_EQ(passes({3, 4, 2, 5}, 6), (std::vector<std::int64_t>{0, 1, 3, 4}));  // 3 | 4 + 2 | 5
  // A sequence longer than the budget makes a pass of its own.
  EXPECT_EQ(passes({2, 10, 1, 1}, 4), (std::vector<std::int64_t>{0, 1, 2, 4}));
  EXPECT_EQ(passes({}, 4), (std::vector<std::int64_t>{0}));
}

// Random lengths; every pass holds at most max_tokens tokens or one sequence, and the passes cover the batch.
TEST(EncoderPasses, PlanCoversTheBatchWithinTheBudget) {
  std::mt19937 rng(14);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::int64_t> lengths(1 + rng() % 100);
    for (auto& n : lengths) n = 1 + static_cast<std::int64_t>(rng() % 300);
    const std::int64_t budget = 1 + static_cast<std::int64_t>(rng() % 2000);
    const auto offsets = offsets_of(lengths);
    const auto starts = passes(lengths, budget);
    ASSERT_GE(starts.size(), 2u);
    EXPECT_EQ(starts.front(), 0);
    EXPECT_EQ(starts.back(), static_cast<std::int64_t>(lengths.size()));
    for (std::size_t p = 0; p + 1 < starts.size(); ++p) {
      ASSERT_LT(starts[p], starts[p + 1]);
      const std::int64_t tokens = offsets[starts[p + 1]] - offsets[starts[p]];
      EXPECT_TRUE(tokens <= budget || starts[p + 1] == starts[p] + 1) << "trial " << trial << " pass " << p;
      // Greedy: the next sequence would not have fitted.
      if (starts[p + 1] < static_cast<std::int64_t>(lengths.size())) {
        EXPECT_GT(offsets[starts[p + 1] + 1] - offsets[starts[p]], budget) << "trial " << trial << " pass " << p;
      }
    }
  }
}

Batch random_batch(std::mt19937& rng, int sequences, int min_len, int max_len, std::int64_t* tokens = nullptr) {
  Batch batch;
  std::int64_t total = 0;
  for (int b = 0; b < sequences; ++b) {
    const int length = min_len + static_cast<int>(rng() % static_cast<unsigned>(max_len - min_len + 1));
    std::vector<std::int32_t> ids(static_cast<std::size_t>(length));
    for (auto& id : ids) id = static_cast<std::int32_t>(1 + rng() % 119);
    std::vector<std::int32_t> types(ids.size(), 0);
    for (std::size_t t = ids.size() / 2; t < ids.size(); ++t) types[t] = 1;
    total += static_cast<std::int64_t>(ids.size());
    batch.add(std::move(ids), std::move(types));
  }
  if (tokens) *tokens = total;
  return batch;
}

Batch sub_batch(const Batch& batch, std::size_t first, std::size_t last) {
  Batch sub;
  for (std::size_t b = first; b < last; ++b) sub.add(batch.input_ids[b], batch.token_type_ids[b]);
  return sub;
}

// Sequence b of out [B, T, H] (its first `length` rows).
std::vector<float> rows(const Tensor& out, std::int64_t b, std::int64_t length) {
  const std::int64_t T = out.dim(1), H = out.dim(2);
  const float* p = out.data.data() + b * T * H;
  return {p, p + length * H};
}

// A batch of ~3 passes gives each sequence's hidden states bit for bit what a forward over its pass's sequences
// alone gives (the pooler output within 1e-6: it runs once over the whole batch), and
// (within 1e-5) what one pass over the whole batch gives (hidden_states: a single pass); fp32 and int8 (whose
// per-token input quantization and scratch rows follow the pass).
class EncoderPassesCompute : public ::testing::TestWithParam<ComputeType> {};

TEST_P(EncoderPassesCompute, BatchLargerThanAPassMatchesItsPassesRunAlone) {
  LoadOptions options;
  options.threads = 1;
  options.compute = GetParam();
  const BertModel model = BertModel::load(fixture_dir(), options);
  options.hidden_states = true;
  const BertModel single_pass = BertModel::load(fixture_dir(), options);

  std::mt19937 rng(2026);
  std::int64_t tokens = 0;
  const Batch batch = random_batch(rng, 240, 8, 32, &tokens);
  ASSERT_GT(tokens, 2 * encoder::kMaxTokensPerPass);
  std::vector<std::int64_t> lengths;
  for (const auto& ids : batch.input_ids) lengths.push_back(static_cast<std::int64_t>(ids.size()));
  const auto starts = passes(lengths, encoder::kMaxTokensPerPass);
  ASSERT_GE(starts.size(), 4u);  // at least 3 passes

  const EncoderOutput whole = model.forward(batch);
  const EncoderOutput one_pass = single_pass.forward(batch);
  ASSERT_EQ(one_pass.hidden_states.size(), 3u);
  EXPECT_LE(max_abs_diff(whole.last_hidden_state, one_pass.last_hidden_state), 1e-5);
  for (std::size_t p = 0; p + 1 < starts.size(); ++p) {
    const auto first = static_cast<std::size_t>(starts[p]), last = static_cast<std::size_t>(starts[p + 1]);
    const EncoderOutput alone = model.forward(sub_batch(batch, first, last));
    for (std::size_t b = first; b < last; ++b) {
      const auto got = rows(whole.last_hidden_state, static_cast<std::int64_t>(b), lengths[b]);
      const auto want = rows(alone.last_hidden_state, static_cast<std::int64_t>(b - first), lengths[b]);
      ASSERT_EQ(got.size(), want.size());
      EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
          << "pass " << p << " sequence " << b;
      const auto got_pooled = whole.pooler_output.row(static_cast<std::int64_t>(b));
      const auto want_pooled = alone.pooler_output.row(static_cast<std::int64_t>(b - first));
      // The pooler is one GEMM over the whole batch's [CLS] rows, not a pass's: its rows see another M than in
      // the pass alone, which oneDNN's AVX2 sgemm (gemm:jit) may sum in another order (1e-7 on an AVX2-only CPU).
      for (std::int64_t h = 0; h < 48; ++h) EXPECT_NEAR(got_pooled[h], want_pooled[h], 1e-6) << "pooler, sequence " << b;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Compute, EncoderPassesCompute, ::testing::Values(ComputeType::fp32, ComputeType::int8),
                         [](const auto& info) { return std::string(to_string(info.param)); });

struct Encoder {
  weights::Checkpoint checkpoint;
  ModelConfig config;
  kernels::DnnlContext ctx;
  std::optional<encoder::BertEncoder> encoder;
  explicit Encoder(const fs::path& dir) : checkpoint(weights::Checkpoint::open(dir)) {
    config = weights::parse_config(checkpoint.config(), dir / "config.json");
    const weights::CheckpointLayout layout = weights::checkpoint_layout(config);
    const std::vector<std::string_view> prefixes(layout.prefixes.begin(), layout.prefixes.end());
    checkpoint.select_prefix(prefixes, layout.word_embeddings);
    encoder.emplace(ctx, checkpoint, config, layout, false);
  }
};

// Batches whose size creeps up (the largest batch so far keeps being beaten, as in a long soak) grow the
// workspace a few times, not at every new largest batch; and batches of any size leave the per-pass buffers
// at kMaxTokensPerPass rows, reached in the first batch larger than a pass.
TEST(EncoderPasses, WorkspaceReachesItsHighWaterMarkEarly) {
  const Encoder e(fixture_dir());
  const std::size_t H = 48, I = 100;
  encoder::Workspace ws;
  std::mt19937 rng(7);
  std::set<std::size_t> hidden_sizes, qkv_sizes, intermediate_sizes;
  // 40 batches of 40..79 sequences of 16 tokens: 640..1264 tokens, each one larger than the last.
  for (int b = 0; b < 40; ++b) {
    Batch batch;
    for (int s = 0; s < 40 + b; ++s) batch.add(std::vector<std::int32_t>(16, 5 + s % 100));
    encoder::pack(batch, e.config, ws.packed);
    e.encoder->run(ws);
    ASSERT_GE(ws.hidden.size(), static_cast<std::size_t>(ws.packed.total_tokens()) * H);
    hidden_sizes.insert(ws.hidden.size());
    qkv_sizes.insert(ws.qkv.size());
    intermediate_sizes.insert(ws.intermediate.size());
  }
  // 640 rows, then 960 (x1.5), then 1440 (x1.5): three sizes where growing to the exact batch took 40.
  EXPECT_EQ(hidden_sizes, (std::set<std::size_t>{640 * H, 960 * H, 1440 * H}));
  EXPECT_EQ(qkv_sizes, (std::set<std::size_t>{640 * 3 * H, 960 * 3 * H, 1440 * 3 * H}));
  EXPECT_EQ(intermediate_sizes.size(), 3u);

  // Batches of 2 100 to 7 600 tokens: the first fills a pass; the per-pass buffers stay at one pass's rows.
  const auto pass_rows = static_cast<std::size_t>(encoder::kMaxTokensPerPass);
  std::size_t largest = 1264;
  for (int b = 0; b < 6; ++b) {
    std::int64_t tokens = 0;
    const Batch batch = random_batch(rng, 100 + 50 * b, 16, 32, &tokens);
    encoder::pack(batch, e.config, ws.packed);
    e.encoder->run(ws);
    EXPECT_EQ(ws.qkv.size(), pass_rows * 3 * H) << "batch of " << tokens << " tokens";
    EXPECT_EQ(ws.context.size(), pass_rows * H) << "batch of " << tokens << " tokens";
    EXPECT_EQ(ws.intermediate.size(), pass_rows * I) << "batch of " << tokens << " tokens";
    largest = std::max(largest, static_cast<std::size_t>(tokens));
    EXPECT_GE(ws.hidden.size(), static_cast<std::size_t>(tokens) * H);
    EXPECT_LE(ws.hidden.size(), largest * 3 / 2 * H) << "batch of " << tokens << " tokens";
  }
}

}  // namespace
}  // namespace bertcpp::testing
