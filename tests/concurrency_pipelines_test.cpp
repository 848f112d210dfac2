// Thread safety of the tokenizers (tokenizer.hpp: encode() is const and may run concurrently) and of the
// pipelines (SentenceEmbedder, SequenceClassifier on one shared object): several std::threads run the same
// calls as a single thread did first, and every result must be identical - all Encoding fields, and the
// embeddings / logits bit for bit. Under ThreadSanitizer (.ci/tsan.sh) these tests also catch races that do not
// change the numbers.
#include <atomic>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "bertcpp/bertcpp.hpp"
#include "test_util.hpp"

namespace bertcpp::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kThreads = 4;

// Runs `round(t)` kRounds times on each of kThreads threads; `round` returns the number of mismatches.
int run_threads(int rounds, const std::function<int(int)>& round) {
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < rounds; ++r) mismatches += round(t + r);
    });
  }
  for (auto& th : threads) th.join();
  return mismatches.load();
}

bool same(const Encoding& a, const Encoding& b) {
  return a.input_ids == b.input_ids && a.token_type_ids == b.token_type_ids && a.attention_mask == b.attention_mask &&
         a.special_tokens_mask == b.special_tokens_mask && a.tokens == b.tokens && a.word_ids == b.word_ids &&
         a.sequence_ids == b.sequence_ids && a.byte_offsets == b.byte_offsets && a.char_offsets == b.char_offsets &&
         a.overflowing.size() == b.overflowing.size();
}

// Texts of every kind the pipelines handle, and one long text (tokenized in pieces when truncated).
std::vector<std::string> texts() {
  std::string long_text;
  while (long_text.size() < 100000) long_text += "The quick brown fox jumps over the lazy dog, d\xC3\xA9j\xC3\xA0 vu. ";
  return {"Hello world!", "na\xC3\xAFve caf\xC3\xA9 \xF0\x9F\x98\x80 \xE4\xB8\xAD\xE6\x96\x87", "don't  stop\tnow ",
          std::string(300, 'a') + " " + std::string(50, '!'), long_text};
}

void expect_concurrent_encodes_identical(const fs::path& dir) {
  const Tokenizer tokenizer = Tokenizer::load(dir);
  const auto inputs = texts();
  std::vector<EncodeOptions> options(3);
  options[1].truncation = Truncation::longest_first;
  options[1].max_length = 64;
  options[2].truncation = Truncation::longest_first;
  options[2].max_length = 32;
  options[2].stride = 8;
  options[2].return_overflowing_tokens = true;
  std::vector<Encoding> expected;  // [options][text]
  for (const auto& o : options)
    for (const auto& text : inputs) expected.push_back(tokenizer.encode(text, o));
  const int mismatches = run_threads(6, [&](int r) {
    int bad = 0;
    for (std::size_t k = 0; k < expected.size(); ++k) {
      const std::size_t i = (k + static_cast<std::size_t>(r)) % expected.size();  // threads in different orders
      bad += !same(tokenizer.encode(inputs[i % inputs.size()], options[i / inputs.size()]), expected[i]);
    }
    return bad;
  });
  EXPECT_EQ(mismatches, 0) << dir;
}

TEST(TokenizerConcurrency, WordPieceEncodesAgree) { expect_concurrent_encodes_identical(data_dir() / "tokenizer" / "wordpiece"); }
TEST(TokenizerConcurrency, ByteLevelBpeEncodesAgree) { expect_concurrent_encodes_identical(data_dir() / "tokenizer" / "roberta"); }
TEST(TokenizerConcurrency, SentencePieceEncodesAgree) { expect_concurrent_encodes_identical(data_dir() / "tokenizer" / "xlmr"); }

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape == b.shape && a.data.size() == b.data.size() &&
         std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)) == 0;
}

TEST(PipelineConcurrency, SentenceEmbedderResultsAgree) {
  const SentenceEmbedder embedder = SentenceEmbedder::load(data_dir() / "heads" / "sentence-embeddings-cls");
  const auto inputs = texts();
  const std::vector<std::vector<std::string>> batches = {{inputs[0]}, {inputs[1], inputs[2]}, {inputs[3], inputs[4], inputs[0]}};
  std::vector<Tensor> expected;
  for (const auto& b : batches) expected.push_back(embedder.encode(b));
  const int mismatches = run_threads(5, [&](int r) {
    int bad = 0;
    for (std::size_t k = 0; k < batches.size(); ++k) {
      const std::size_t i = (k + static_cast<std::size_t>(r)) % batches.size();
      bad += !same_bits(embedder.encode(batches[i]), expected[i]);
    }
    return bad;
  });
  EXPECT_EQ(mismatches, 0);
}

TEST(PipelineConcurrency, SequenceClassifierResultsAgree) {
  const SequenceClassifier classifier = SequenceClassifier::load(data_dir() / "heads" / "text-classification");
  const auto inputs = texts();
  std::vector<Classification> expected;
  for (const auto& text : inputs) expected.push_back(classifier.classify(text));
  const int mismatches = run_threads(5, [&](int r) {
    int bad = 0;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      const std::size_t i = (k + static_cast<std::size_t>(r)) % inputs.size();
      const Classification got = classifier.classify(inputs[i]);
      bad += got.logits.size() != expected[i].logits.size() ||
             std::memcmp(got.logits.data(), expected[i].logits.data(), got.logits.size() * sizeof(float)) != 0 ||
             got.labels.size() != expected[i].labels.size() || got.labels.at(0).label != expected[i].labels.at(0).label;
    }
    return bad;
  });
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace bertcpp::testing
