// FillMask: against transformers' fill-mask pipeline on tests/data/heads/fill-mask (decoder left out of the file:
// re-tied to the word embeddings) and fill-mask-untied (decoder stored, tie_word_embeddings false), made by
// models/make_head_fixtures.py: token ids equal, the 10 best logits per mask and every score within 1e-4, tokens,
// token_str and sequence identical. Then the head against a plain double-precision twin on checkpoints built here
// (the tiny shared encoder plus random cls.predictions tensors), ranking, targets, sequences and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "test_util.hpp"
#include "weights/checkpoint.hpp"
#include "weights_test_writer.hpp"

namespace bertcpp::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::int64_t kHidden = 32, kVocab = 30522;

fs::path heads_dir(const std::string& name) { return data_dir() / "heads" / name; }

std::vector<float> random_values(std::size_t n, float scale, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// The MLM head's tensors as written into the test checkpoint.
struct MlmHead {
  std::vector<float> dense_w, dense_b, ln_w, ln_b, bias, decoder;  // decoder empty: tied
};

// A BertForMaskedLM checkpoint: the shared tiny encoder (via the text-classification fixture's index and
// tokenizer) plus `head` in head.safetensors.
void write_mlm_checkpoint(const fs::path& dir, const MlmHead& head, bool tie_word_embeddings, bool with_head = true) {
  const fs::path base = heads_dir("text-classification");
  for (const char* f : {"encoder.safetensors", "tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"}) {
    fs::create_symlink(fs::canonical(base / f), dir / f);
  }
  json config = json::parse(read_file(base / "config.json"));
  config["architectures"] = {"BertForMaskedLM"};
  config["tie_word_embeddings"] = tie_word_embeddings;
  config.erase("id2label");
  config.erase("label2id");
  write_file(dir / "config.json", config.dump());

  json index = json::parse(read_file(base / "model.safetensors.index.json"));
  json& map = index["weight_map"];
  map.erase("classifier.weight");
  map.erase("classifier.bias");
  std::vector<StTensor> tensors;
  auto add = [&](const std::string& name, std::vector<std::int64_t> shape, const std::vector<float>& v) {
    tensors.push_back({name, "F32", std::move(shape), f32_bytes(v)});
    map[name] = "head.safetensors";
  };
  if (with_head) {
    add("cls.predictions.transform.dense.weight", {kHidden, kHidden}, head.dense_w);
    add("cls.predictions.transform.dense.bias", {kHidden}, head.dense_b);
    add("cls.predictions.transform.LayerNorm.weight", {kHidden}, head.ln_w);
    add("cls.predictions.transform.LayerNorm.bias", {kHidden}, head.ln_b);
    add("cls.predictions.bias", {kVocab}, head.bias);
    if (!head.decoder.empty()) add("cls.predictions.decoder.weight", {kVocab, kHidden}, head.decoder);
  } else {
    add("cls.seq_relationship.weight", {2, kHidden}, std::vector<float>(2 * kHidden, 0.5f));  // something else
  }
  write_file(dir / "head.safetensors", st_file(tensors));
  write_file(dir / "model.safetensors.index.json", index.dump());
}

MlmHead random_head(bool stored_decoder, std::uint32_t seed) {
  std::mt19937 rng(seed);
  MlmHead h;
  h.dense_w = random_values(kHidden * kHidden, 0.3f, rng);
  h.dense_b = random_values(kHidden, 0.1f, rng);
  h.ln_w = random_values(kHidden, 0.2f, rng);
  for (float& v : h.ln_w) v += 1.0f;
  h.ln_b = random_values(kHidden, 0.1f, rng);
  h.bias = random_values(kVocab, 0.5f, rng);
  if (stored_decoder) h.decoder = random_values(kVocab * kHidden, 0.5f, rng);
  return h;
}

// The head in double precision: dense -> gelu (erf) -> LayerNorm (two-pass) -> decoder + bias. x: [H].
std::vector<double> reference_logits(const MlmHead& head, const std::vector<float>& decoder, const float* x) {
  std::vector<double> y(kHidden);
  for (std::int64_t o = 0; o < kHidden; ++o) {
    double acc = head.dense_b[o];
    for (std::int64_t i = 0; i < kHidden; ++i) acc += static_cast<double>(head.dense_w[o * kHidden + i]) * x[i];
    y[o] = 0.5 * acc * (1.0 + std::erf(acc / std::sqrt(2.0)));
  }
  double mean = 0, var = 0;
  for (double v : y) mean += v;
  mean /= kHidden;
  for (double v : y) var += (v - mean) * (v - mean);
  var /= kHidden;
  for (std::int64_t i = 0; i < kHidden; ++i) y[i] = (y[i] - mean) / std::sqrt(var + 1e-12) * head.ln_w[i] + head.ln_b[i];
  std::vector<double> logits(kVocab);
  for (std::int64_t v = 0; v < kVocab; ++v) {
    double acc = head.bias[v];
    for (std::int64_t i = 0; i < kHidden; ++i) acc += static_cast<double>(decoder[v * kHidden + i]) * y[i];
    logits[v] = acc;
  }
  return logits;
}

FillMaskOptions top(std::size_t k, std::vector<std::string> targets = {}) {
  FillMaskOptions o;
  o.top_k = k;
  o.targets = std::move(targets);
  return o;
}

std::vector<float> word_embeddings() {
  const auto ckpt = weights::Checkpoint::open(heads_dir("text-classification"));
  return ckpt.load_f32("bert.embeddings.word_embeddings.weight", {kVocab, kHidden});
}

// ---- transformers' pipeline ---------------------------------------------------------------------------------------

// One mask's expected predictions against ours.
void expect_predictions(const std::vector<MaskPrediction>& got, const json& expected, double& worst) {
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t j = 0; j < expected.size(); ++j) {
    SCOPED_TRACE("rank " + std::to_string(j));
    EXPECT_EQ(got[j].token, expected[j]["token"].get<std::int32_t>());
    EXPECT_EQ(got[j].token_str, expected[j]["token_str"].get<std::string>());
    EXPECT_EQ(got[j].sequence, expected[j]["sequence"].get<std::string>());
    const double d = std::abs(got[j].score - expected[j]["score"].get<double>());
    EXPECT_LE(d, 1e-4);
    worst = std::max(worst, d);
  }
}

class FillMaskGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(FillMaskGolden, MatchesPipeline) {
  const fs::path dir = heads_dir(GetParam());
  const json golden = json::parse(read_file(dir / "golden.json"));
  const auto fill_mask = FillMask::load(dir);
  const Tokenizer tok = Tokenizer::load(dir);
  ASSERT_GE(golden["cases"].size(), 8u);
  double worst_logit = 0, worst_score = 0;
  for (const json& c : golden["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const std::string text = c["inputs"]["text"];
    EXPECT_EQ(tok.encode(text).input_ids, c["input_ids"].get<std::vector<std::int32_t>>());

    // The 10 largest logits of each mask.
    const Tensor logits = fill_mask.logits(text);
    ASSERT_EQ(logits.dim(0), static_cast<std::int64_t>(c["top_logits"].size()));
    for (std::int64_t m = 0; m < logits.dim(0); ++m) {
      std::vector<float> row(logits.row(m), logits.row(m) + logits.dim(1));
      std::partial_sort(row.begin(), row.begin() + 10, row.end(), std::greater<>());
      for (std::size_t j = 0; j < 10; ++j) {
        const double d = std::abs(row[j] - c["top_logits"][m][j].get<double>());
        EXPECT_LE(d, 1e-4) << "mask " << m << ", rank " << j;
        worst_logit = std::max(worst_logit, d);
      }
    }

    FillMaskOptions o;  // null top_k: the pipeline's default 5
    if (!c["options"]["top_k"].is_null()) o.top_k = c["options"]["top_k"].get<std::size_t>();
    if (!c["options"]["targets"].is_null()) o.targets = c["options"]["targets"].get<std::vector<std::string>>();
    const auto got = fill_mask.fill(text, o);
    const json& expected = c["expected"];
    // The pipeline answers one mask with a flat list, several with a list per mask.
    const bool several = !expected.empty() && expected[0].is_array();
    ASSERT_EQ(got.size(), several ? expected.size() : 1u);
    for (std::size_t m = 0; m < got.size(); ++m) {
      SCOPED_TRACE("mask " + std::to_string(m));
      expect_predictions(got[m], several ? expected[m] : expected, worst_score);
    }
  }
  for (const json& e : golden["error_cases"]) {
    SCOPED_TRACE(e["python_error"].get<std::string>());
    FillMaskOptions o;
    if (!e["options"]["targets"].is_null()) o.targets = e["options"]["targets"].get<std::vector<std::string>>();
    EXPECT_THROW(fill_mask.fill(e["inputs"]["text"].get<std::string>(), o), InvalidArgumentError);
  }
  std::cout << "[ max-abs  ] " << GetParam() << ": top logits " << worst_logit << ", scores " << worst_score << '\n';
}

// LoadOptions::compute = int8: the encoder and the vocabulary projection run quantized (fill_mask.cpp); the
// logits stay near fp32's. As for the encoder (encoder_quantized_test.cpp), the bound separates quantization
// noise (a few percent relative RMS on these random fixtures) from a broken path (O(1)); the lower bound shows the
// quantization happened.
TEST(FillMaskInt8, LogitsNearFp32AndPredictionsWellFormed) {
  const fs::path dir = heads_dir("fill-mask");
  const json golden = json::parse(read_file(dir / "golden.json"));
  const auto fp32 = FillMask::load(dir);
  LoadOptions options;
  options.compute = ComputeType::int8;
  const auto int8 = FillMask::load(dir, options);
  double err = 0.0, ref = 0.0;
  for (const json& c : golden["cases"]) {
    const std::string text = c["inputs"]["text"];
    const Tensor a = fp32.logits(text), q = int8.logits(text);
    ASSERT_EQ(a.shape, q.shape);
    for (std::size_t i = 0; i < a.data.size(); ++i) {
      err += (q.data[i] - a.data[i]) * (q.data[i] - a.data[i]);
      ref += a.data[i] * a.data[i];
    }
    const auto predictions = int8.fill(text);
    ASSERT_FALSE(predictions.empty());
    EXPECT_EQ(predictions[0].size(), 5u);
  }
  const double rel = std::sqrt(err / ref);
  std::cout << "[ rel-rms  ] fill-mask int8 logits vs fp32: " << rel << '\n';
  EXPECT_LT(rel, 0.2);
  EXPECT_GT(rel, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Heads, FillMaskGolden, ::testing::Values("fill-mask", "fill-mask-untied"),
                         [](const auto& info) { return std::string(info.param) == "fill-mask" ? "tied" : "untied"; });

TEST(FillMaskGoldenFixtures, TiedFixtureOmitsTheDecoderAndUntiedStoresADifferentOne) {
  const auto tied = weights::Checkpoint::open(heads_dir("fill-mask"));
  EXPECT_EQ(tied.find("cls.predictions.decoder.weight"), nullptr);
  const auto untied = weights::Checkpoint::open(heads_dir("fill-mask-untied"));
  ASSERT_NE(untied.find("cls.predictions.decoder.weight"), nullptr);
  const auto decoder = untied.load_f32("cls.predictions.decoder.weight", {kVocab, kHidden});
  EXPECT_NE(decoder, word_embeddings());
}

// ---- the head against its plain twin --------------------------------------------------------------------------------

class FillMaskTwin : public ::testing::TestWithParam<bool> {};  // param: decoder stored in the file

TEST_P(FillMaskTwin, LogitsMatchThePlainHeadAtEveryMask) {
  const bool stored = GetParam();
  const MlmHead head = random_head(stored, stored ? 11u : 7u);
  TempDir dir;
  write_mlm_checkpoint(dir.path(), head, /*tie_word_embeddings=*/!stored);
  const auto fill_mask = FillMask::load(dir.path());

  const std::string text = "The [MASK] sat on the mat and [MASK] purred.";
  const Tensor logits = fill_mask.logits(text);  // [2, V]
  ASSERT_EQ(logits.shape, (std::vector<std::int64_t>{2, kVocab}));

  const auto model = BertModel::load(dir.path());
  const Encoding enc = model.tokenizer().encode(text);
  Batch batch;
  batch.add(enc.input_ids);
  const EncoderOutput out = model.forward(batch);
  const std::vector<float> decoder = stored ? head.decoder : word_embeddings();
  std::size_t mask = 0;
  double worst = 0;
  for (std::size_t t = 0; t < enc.size(); ++t) {
    if (enc.tokens[t] != "[MASK]") continue;
    const auto expected = reference_logits(head, decoder, out.last_hidden_state.row(0) + t * kHidden);
    for (std::int64_t v = 0; v < kVocab; ++v) {
      worst = std::max(worst, std::abs(logits.at({static_cast<std::int64_t>(mask), v}) - expected[v]));
    }
    ++mask;
  }
  EXPECT_EQ(mask, 2u);
  EXPECT_LE(worst, 1e-4);
  std::cout << "[ max-abs  ] fill-mask logits vs double twin (" << (stored ? "stored" : "tied") << " decoder): " << worst << '\n';
}

INSTANTIATE_TEST_SUITE_P(Heads, FillMaskTwin, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "stored_decoder" : "tied_decoder"; });

class FillMaskBehaviour : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    write_mlm_checkpoint(dir_->path(), random_head(false, 3u), true);
    fill_mask_ = new FillMask(FillMask::load(dir_->path()));
  }
  static void TearDownTestSuite() {
    delete fill_mask_;
    delete dir_;
  }
  static TempDir* dir_;
  static FillMask* fill_mask_;
};
TempDir* FillMaskBehaviour::dir_ = nullptr;
FillMask* FillMaskBehaviour::fill_mask_ = nullptr;

TEST_F(FillMaskBehaviour, TopKIsTheSoftmaxRankedBestFirst) {
  const std::string text = "paris is the [MASK] of france.";
  const Tensor logits = fill_mask_->logits(text);
  const auto result = fill_mask_->fill(text, top(7));
  ASSERT_EQ(result.size(), 1u);
  ASSERT_EQ(result[0].size(), 7u);
  // Softmax of the logits, independently.
  const float mx = *std::max_element(logits.data.begin(), logits.data.end());
  double sum = 0;
  for (float v : logits.data) sum += std::exp(static_cast<double>(v) - mx);
  std::vector<std::int32_t> order(kVocab);
  for (std::int32_t i = 0; i < kVocab; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return logits.data[a] > logits.data[b]; });
  for (std::size_t j = 0; j < 7; ++j) {
    EXPECT_EQ(result[0][j].token, order[j]) << "rank " << j;
    EXPECT_NEAR(result[0][j].score, std::exp(logits.data[order[j]] - mx) / sum, 1e-6);
    if (j > 0) {
      EXPECT_GE(result[0][j - 1].score, result[0][j].score);
    }
  }
}

TEST_F(FillMaskBehaviour, SequenceAndTokenStrAsThePipelineDecodesThem) {
  const auto one = fill_mask_->fill("Paris is the [MASK] of France.", top(1, {"capital"}));
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(one[0].size(), 1u);
  EXPECT_EQ(one[0][0].token_str, "capital");
  EXPECT_EQ(one[0][0].sequence, "paris is the capital of france.");  // single mask: special tokens skipped

  // Several masks: each list fills its own mask; the text keeps [CLS], [SEP] and the other masks.
  const auto two = fill_mask_->fill("[MASK] is the [MASK] of France.", top(2, {"capital", "paris"}));
  ASSERT_EQ(two.size(), 2u);
  for (const auto& p : two[0]) {
    EXPECT_EQ(p.sequence, "[CLS] " + p.token_str + " is the [MASK] of france. [SEP]");
  }
  for (const auto& p : two[1]) {
    EXPECT_EQ(p.sequence, "[CLS] [MASK] is the " + p.token_str + " of france. [SEP]");
  }
  // A word piece keeps its "##" in token_str (decoded alone) and joins its neighbour in the sequence.
  const auto piece = fill_mask_->fill("the dog[MASK] barked", top(1, {"##s"}));
  EXPECT_EQ(piece[0][0].token_str, "##s");
  EXPECT_EQ(piece[0][0].sequence, "the dogs barked");
}

TEST_F(FillMaskBehaviour, TargetsRestrictAndCapTopK) {
  const std::string text = "paris is the [MASK] of france.";
  const auto all = fill_mask_->fill(text, top(static_cast<std::size_t>(kVocab)));
  ASSERT_EQ(all[0].size(), static_cast<std::size_t>(kVocab));
  std::vector<float> p(kVocab);
  for (const auto& pred : all[0]) p[pred.token] = pred.score;

  const auto restricted = fill_mask_->fill(text, top(10, {"capital", "city", "heart", "city"}));
  ASSERT_EQ(restricted[0].size(), 3u);  // top_k capped at the 3 distinct targets
  for (const auto& pred : restricted[0]) {
    EXPECT_EQ(pred.score, p[pred.token]) << pred.token_str;  // probabilities over the whole vocabulary
  }
  EXPECT_GE(restricted[0][0].score, restricted[0][1].score);
  EXPECT_GE(restricted[0][1].score, restricted[0][2].score);
}

TEST_F(FillMaskBehaviour, TargetsOutsideTheVocabularyUseTheirFirstPiece) {
  const std::vector<std::string> targets = {"capital", "Paris", "unbelievably", "\x01\x02", "capital"};
  const FillMask::Targets t = fill_mask_->resolve_targets(targets);
  const auto model = BertModel::load(dir_->path());
  const Tokenizer& tok = model.tokenizer();
  ASSERT_EQ(t.ids.size(), 3u);
  EXPECT_EQ(t.ids[0], *tok.token_to_id("capital"));
  EXPECT_EQ(t.ids[1], *tok.token_to_id("paris"));
  EXPECT_EQ(t.ids[2], tok.encode("unbelievably", {.add_special_tokens = false}).input_ids[0]);
  EXPECT_EQ(t.replaced, (std::vector<std::string>{"Paris -> paris", "unbelievably -> " + tok.id_to_token(t.ids[2])}));
  EXPECT_EQ(t.dropped, (std::vector<std::string>{"\x01\x02"}));

  try {
    fill_mask_->fill("a [MASK] b", top(5, {"\x01", " "}));
    FAIL() << "expected InvalidArgumentError";
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("no usable target"), std::string::npos) << e.what();
  }
}

TEST_F(FillMaskBehaviour, TextWithoutMaskIsAnErrorNamingTheMaskToken) {
  for (const char* text : {"no mask here", "", "[mask] is lowercase but added tokens match as written"}) {
    try {
      fill_mask_->fill(text);
      ADD_FAILURE() << "expected InvalidArgumentError for: " << text;
    } catch (const InvalidArgumentError& e) {
      EXPECT_NE(std::string(e.what()).find("no mask token '[MASK]'"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(fill_mask_->logits("nothing"), InvalidArgumentError);
}

TEST_F(FillMaskBehaviour, TextLongerThanTheWindowIsRejectedNotTruncated) {
  std::string text = "[MASK] ";
  while (text.size() < 200000) text += "word ";
  try {
    fill_mask_->fill(text);
    FAIL() << "expected InvalidArgumentError";
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("more than max_position_embeddings 128"), std::string::npos) << e.what();
  }
}

TEST_F(FillMaskBehaviour, TopKZeroGivesEmptyListsPerMask) {
  const auto r = fill_mask_->fill("[MASK] and [MASK]", top(0));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].empty());
  EXPECT_TRUE(r[1].empty());
}

TEST(FillMaskLoad, CheckpointWithoutTheHeadIsAFormatErrorNamingTheTensor) {
  TempDir dir;
  write_mlm_checkpoint(dir.path(), {}, true, /*with_head=*/false);
  try {
    FillMask::load(dir.path());
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("'cls.predictions.transform.dense.weight' needed by the fill-mask head"),
              std::string::npos)
        << e.what();
  }
}

TEST(FillMaskLoad, UntiedCheckpointWithoutDecoderIsAFormatError) {
  TempDir dir;
  write_mlm_checkpoint(dir.path(), random_head(false, 5u), /*tie_word_embeddings=*/false);
  try {
    FillMask::load(dir.path());
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("'cls.predictions.decoder.weight' needed by the fill-mask head"),
              std::string::npos)
        << e.what();
  }
}

TEST(FillMaskLoad, DefaultModelHasNoMlmHead) {
  EXPECT_THROW(FillMask::load(default_model_dir()), FormatError);
}

}  // namespace
}  // namespace bertcpp::testing
