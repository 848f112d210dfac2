// Thread safety of BertModel::forward (model.hpp: a loaded model is immutable, forward() is const and may run
// concurrently): 8 std::threads x 50 forwards on one shared model must give results bit-identical to the same
// forwards run on a single thread, both when every thread runs the same batch and when threads run different
// batches at the same time.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <algorithm>
#include <cmath>
#include <vector>

#include <omp.h>

#include "bertcpp/model.hpp"
#include "encoder_golden_util.hpp"
#include "test_util.hpp"

namespace bertcpp::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kThreads = 8;
constexpr int kForwardsPerThread = 50;

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape == b.shape && a.data.size() == b.data.size() &&
         std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)) == 0;
}

// Empty when identical, else what differs.
std::string difference(const EncoderOutput& got, const EncoderOutput& want) {
  if (!same_bits(got.last_hidden_state, want.last_hidden_state)) return "last_hidden_state differs";
  if (!same_bits(got.pooler_output, want.pooler_output)) return "pooler_output differs";
  if (got.hidden_states.size() != want.hidden_states.size()) return "number of hidden_states differs";
  for (std::size_t i = 0; i < want.hidden_states.size(); ++i) {
    if (!same_bits(got.hidden_states[i], want.hidden_states[i])) return "hidden_states." + std::to_string(i) + " differs";
  }
  if (got.lengths != want.lengths) return "lengths differ";
  return {};
}

// Runs kThreads x kForwardsPerThread forwards; thread t's i-th forward uses batch (rotate ? t + i : 0) % n.
// Every result is compared with the single-thread result of its batch.
void expect_concurrent_forwards_identical(const BertModel& model, const std::vector<Batch>& batches, bool rotate) {
  std::vector<EncoderOutput> reference;
  for (const Batch& batch : batches) reference.push_back(model.forward(batch));
  // The single-thread result must itself be reproducible, else the comparison below means nothing.
  for (std::size_t k = 0; k < batches.size(); ++k) {
    ASSERT_EQ(difference(model.forward(batches[k]), reference[k]), "") << "batch " << k << " run twice on one thread";
  }

  std::atomic<int> mismatches{0}, failures{0}, done{0};
  std::mutex first_error_mutex;
  std::string first_error;
  auto record = [&](const std::string& message) {
    std::lock_guard<std::mutex> lock(first_error_mutex);
    if (first_error.empty()) first_error = message;
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kForwardsPerThread; ++i) {
        const std::size_t k = rotate ? static_cast<std::size_t>(t + i) % batches.size() : 0;
        try {
          const std::string diff = difference(model.forward(batches[k]), reference[k]);
          if (!diff.empty()) {
            ++mismatches;
            record("thread " + std::to_string(t) + ", forward " + std::to_string(i) + ", batch " +
                   std::to_string(k) + ": " + diff);
          }
        } catch (const std::exception& e) {
          ++failures;
          record("thread " + std::to_string(t) + ", forward " + std::to_string(i) + " threw: " + e.what());
        }
        ++done;
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(done.load(), kThreads * kForwardsPerThread);
  EXPECT_EQ(failures.load(), 0) << first_error;
  EXPECT_EQ(mismatches.load(), 0) << first_error;
}

// Random sequences of the given lengths, with token types, for a model with `vocab` ids and `types` types.
Batch random_batch(std::mt19937& rng, const std::vector<int>& lengths, std::int64_t vocab, std::int64_t types) {
  std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(vocab - 1));
  std::uniform_int_distribution<std::int32_t> type(0, static_cast<std::int32_t>(types - 1));
  Batch batch;
  for (int n : lengths) {
    std::vector<std::int32_t> ids(n), type_ids(n);
    for (int i = 0; i < n; ++i) {
      ids[i] = id(rng);
      type_ids[i] = type(rng);
    }
    batch.add(std::move(ids), std::move(type_ids));
  }
  return batch;
}

// The tiny F16 checkpoint with a pooler, all hidden states requested, batches of every shape the goldens use
// plus random ones (one with masked-out tokens in the middle).
std::vector<Batch> tiny_batches(const BertModel& model) {
  const fs::path dir = data_dir() / "encoder" / "seqcls_h96_gelunew_f16";
  std::vector<Batch> batches;
  batches.push_back(GoldenFile(dir / "golden_mixed.safetensors").padded_batch());
  batches.push_back(GoldenFile(dir / "golden_maxpos.safetensors").padded_batch());
  std::mt19937 rng(20240601);
  const ModelConfig& c = model.config();
  batches.push_back(random_batch(rng, {20, 9, 33}, c.vocab_size, c.type_vocab_size));
  const Batch unmasked = random_batch(rng, {12, 17}, c.vocab_size, c.type_vocab_size);
  Batch masked;
  for (std::size_t b = 0; b < unmasked.size(); ++b) {
    std::vector<std::int32_t> mask(unmasked.input_ids[b].size(), 1);
    mask[0] = mask[3] = mask[mask.size() - 1] = 0;
    masked.add(unmasked.input_ids[b], unmasked.token_type_ids[b], std::move(mask));
  }
  batches.push_back(std::move(masked));
  return batches;
}

BertModel tiny_model() {
  LoadOptions options;
  options.hidden_states = true;
  return BertModel::load(data_dir() / "encoder" / "seqcls_h96_gelunew_f16", options);
}

TEST(EncoderConcurrency, TinyModelSameBatchInEveryThread) {
  const BertModel model = tiny_model();
  expect_concurrent_forwards_identical(model, tiny_batches(model), /*rotate=*/false);
}

TEST(EncoderConcurrency, TinyModelDifferentBatchesInDifferentThreads) {
  const BertModel model = tiny_model();
  expect_concurrent_forwards_identical(model, tiny_batches(model), /*rotate=*/true);
}

// The default model (real GEMM sizes, 6 layers) with short real sentences from tests/data/minilm: sentences
// 0, 2, 1, 15 have 5, 3, 12, 12 tokens, so 400 forwards stay within a few seconds.
std::vector<Batch> minilm_batches() {
  const GoldenFile golden(data_dir() / "minilm" / "golden.safetensors");
  const std::vector<std::vector<std::int64_t>> groups = {{0}, {2, 0}, {1}, {15, 2}};
  std::vector<Batch> batches;
  for (const auto& group : groups) {
    Batch batch;
    for (std::int64_t b : group) {
      batch.add(golden.real_tokens(golden.input_ids(), b), golden.real_tokens(golden.token_type_ids(), b));
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

TEST(EncoderConcurrency, DefaultModelDifferentBatchesInDifferentThreads) {
  const fs::path dir = default_model_dir();
  ASSERT_TRUE(fs::exists(dir / "model.safetensors"))
      << "the default model is missing from " << dir << ": run `bash models/fetch_default_model.sh`";
  const BertModel model = BertModel::load(dir);
  expect_concurrent_forwards_identical(model, minilm_batches(), /*rotate=*/true);
}

}  // namespace
}  // namespace bertcpp::testing
