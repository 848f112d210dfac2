// NextSentencePredictor: against BertForNextSentencePrediction on tests/data/heads/next-sentence (made by
// models/make_head_fixtures.py: token ids equal, logits and p(is next) within 1e-4), against a double-precision twin
// on a checkpoint built here (the tiny shared encoder plus a random NSP head), pair encoding, truncation, errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "test_util.hpp"
#include "weights_test_writer.hpp"

namespace bertcpp::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::int64_t kHidden = 32;

fs::path heads_dir(const std::string& name) { return data_dir() / "heads" / name; }

struct NspHead {
  std::vector<float> weight, bias;  // [2, H], [2]
};

// The shared tiny encoder (through the text-classification fixture's index and tokenizer) with `head` as
// cls.seq_relationship, or with no NSP tensors when `head` is null.
void write_nsp_checkpoint(const fs::path& dir, const NspHead* head) {
  const fs::path base = heads_dir("text-classification");
  for (const char* f : {"encoder.safetensors", "tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"}) {
    fs::create_symlink(fs::canonical(base / f), dir / f);
  }
  json config = json::parse(read_file(base / "config.json"));
  config["architectures"] = {"BertForNextSentencePrediction"};
  write_file(dir / "config.json", config.dump());
  json index = json::parse(read_file(base / "model.safetensors.index.json"));
  json& map = index["weight_map"];
  map.erase("classifier.weight");
  map.erase("classifier.bias");
  std::vector<StTensor> tensors;
  if (head) {
    tensors.push_back({"cls.seq_relationship.weight", "F32", {2, kHidden}, f32_bytes(head->weight)});
    tensors.push_back({"cls.seq_relationship.bias", "F32", {2}, f32_bytes(head->bias)});
  } else {
    tensors.push_back({"classifier.weight", "F32", {2, kHidden}, f32_bytes(std::vector<float>(2 * kHidden, 0.1f))});
  }
  for (const auto& t : tensors) map[t.name] = "head.safetensors";
  write_file(dir / "head.safetensors", st_file(tensors));
  write_file(dir / "model.safetensors.index.json", index.dump());
}

NspHead random_head() {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  NspHead h{std::vector<float>(2 * kHidden), {0.3f, -0.2f}};
  for (float& v : h.weight) v = normal(rng);
  return h;
}

class Nsp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    head_ = new NspHead(random_head());
    write_nsp_checkpoint(dir_->path(), head_);
    nsp_ = new NextSentencePredictor(NextSentencePredictor::load(dir_->path()));
    model_ = new BertModel(BertModel::load(dir_->path()));
  }
  static void TearDownTestSuite() {
    delete model_;
    delete nsp_;
    delete head_;
    delete dir_;
  }
  // Logits of the plain head on the model's pooler output for this pair's encoding.
  static std::vector<double> reference(const std::string& a, const std::string& b, std::size_t max_length = 128) {
    EncodeOptions o;
    o.truncation = Truncation::longest_first;
    o.max_length = max_length;
    // An empty second text is no pair (as transformers' tokenizer treats it; see NspGolden case2).
    const Encoding enc = b.empty() ? model_->tokenizer().encode(a, o) : model_->tokenizer().encode(a, b, o);
    Batch batch;
    batch.add(enc.input_ids, enc.token_type_ids);
    const EncoderOutput out = model_->forward(batch);
    std::vector<double> logits(2);
    for (int c = 0; c < 2; ++c) {
      double acc = head_->bias[c];
      for (std::int64_t h = 0; h < kHidden; ++h) acc += static_cast<double>(head_->weight[c * kHidden + h]) * out.pooler_output.at({0, h});
      logits[c] = acc;
    }
    return logits;
  }
  static TempDir* dir_;
  static NspHead* head_;
  static NextSentencePredictor* nsp_;
  static BertModel* model_;
};
TempDir* Nsp::dir_ = nullptr;
NspHead* Nsp::head_ = nullptr;
NextSentencePredictor* Nsp::nsp_ = nullptr;
BertModel* Nsp::model_ = nullptr;

TEST_F(Nsp, LogitsAndProbabilityMatchThePlainHead) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"She opened the umbrella.", "It had started to rain."},
      {"The cat sat on the mat.", "Quantum chromodynamics describes the strong force."},
      {"", ""},
      {"Only the first sentence.", ""},
      {"東京は日本の首都です。", "Berlin ist die Hauptstadt."}};
  for (const auto& [a, b] : pairs) {
    SCOPED_TRACE(a + " | " + b);
    const NextSentence r = nsp_->predict(a, b);
    const auto expected = reference(a, b);
    ASSERT_EQ(r.logits.size(), 2u);
    EXPECT_NEAR(r.logits[0], expected[0], 1e-4);
    EXPECT_NEAR(r.logits[1], expected[1], 1e-4);
    EXPECT_NEAR(r.is_next, 1.0 / (1.0 + std::exp(expected[1] - expected[0])), 1e-5);
  }
}

TEST_F(Nsp, OrderOfTheSentencesMatters) {
  // Token types 0 / 1 mark A and B: swapping them changes the input, hence the logits.
  const auto ab = nsp_->predict("It had started to rain.", "She opened the umbrella.");
  const auto ba = nsp_->predict("She opened the umbrella.", "It had started to rain.");
  EXPECT_NE(ab.logits, ba.logits);
}

TEST_F(Nsp, LongPairIsTruncatedLongestFirst) {
  std::string long_text;
  for (int i = 0; i < 40000; ++i) long_text += "word ";
  const auto r = nsp_->predict(long_text, "Short sentence.");
  const auto expected = reference(long_text, "Short sentence.");
  EXPECT_NEAR(r.logits[0], expected[0], 1e-4);
  EXPECT_NEAR(r.logits[1], expected[1], 1e-4);
}

TEST_F(Nsp, InvalidUtf8IsATypedError) { EXPECT_THROW(nsp_->predict("ok", "bad \xe2\x28\xa1"), Utf8Error); }

TEST(NspGolden, MatchesTransformers) {
  const fs::path dir = heads_dir("next-sentence");
  const json golden = json::parse(read_file(dir / "golden.json"));
  const auto nsp = NextSentencePredictor::load(dir);
  const Tokenizer tok = Tokenizer::load(dir);
  ASSERT_GE(golden["cases"].size(), 4u);
  double worst = 0;
  for (const json& c : golden["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const std::string a = c["inputs"]["text"], b = c["inputs"]["text_pair"];
    // The model's input as transformers tokenized it (an empty second text is no pair there).
    const Encoding enc = b.empty() ? tok.encode(a) : tok.encode(a, b);
    EXPECT_EQ(enc.input_ids, c["input_ids"].get<std::vector<std::int32_t>>());
    const NextSentence r = nsp.predict(a, b);
    ASSERT_EQ(r.logits.size(), 2u);
    for (int i = 0; i < 2; ++i) {
      const double d = std::abs(r.logits[i] - c["logits"][i].get<double>());
      EXPECT_LE(d, 1e-4) << "logit " << i;
      worst = std::max(worst, d);
    }
    EXPECT_NEAR(r.is_next, c["expected"]["is_next"].get<double>(), 1e-4);
  }
  std::cout << "[ max-abs  ] next-sentence logits: " << worst << '\n';
}

TEST(NspLoad, CheckpointWithoutTheHeadIsAFormatErrorNamingTheTensor) {
  TempDir dir;
  write_nsp_checkpoint(dir.path(), nullptr);
  try {
    NextSentencePredictor::load(dir.path());
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("'cls.seq_relationship.weight' needed by the next-sentence-prediction head"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(NextSentencePredictor::load(default_model_dir()), FormatError);
}

}  // namespace
}  // namespace bertcpp::testing
