// SequenceClassifier against transformers' text-classification pipeline on tiny random checkpoints
// (tests/data/heads/text-classification*, written by models/make_head_fixtures.py): the same token ids, logits and
// scores within fp32 max-abs 1e-4, the same labels in the same order. Then the odd inputs and broken checkpoints.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "test_util.hpp"

namespace bertcpp::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr double kTolerance = 1e-4;

fs::path heads_dir(const std::string& name) { return data_dir() / "heads" / name; }

json load_golden(const std::string& name) { return json::parse(read_file(heads_dir(name) / "golden.json")); }

ClassifyOptions options_of(const json& options) {
  ClassifyOptions o;
  o.top_k = options["top_k"].is_null() ? 0 : options["top_k"].get<std::size_t>();  // null: every label
  const json& f = options["function_to_apply"];
  if (f.is_null()) o.function_to_apply = ScoreFunction::automatic;
  else if (f == "softmax") o.function_to_apply = ScoreFunction::softmax;
  else if (f == "sigmoid") o.function_to_apply = ScoreFunction::sigmoid;
  else if (f == "none") o.function_to_apply = ScoreFunction::none;
  else ADD_FAILURE() << "unknown function_to_apply " << f;
  return o;
}

double max_abs_diff(const std::vector<float>& actual, const json& expected) {
  EXPECT_EQ(actual.size(), expected.size());
  double worst = 0;
  for (std::size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(actual[i]) - expected[i].get<double>()));
  }
  return worst;
}

Classification classify(const SequenceClassifier& clf, const json& inputs, const ClassifyOptions& o) {
  const std::string text = inputs["text"];
  if (inputs["text_pair"].is_null()) return clf.classify(text, o);
  return clf.classify(text, inputs["text_pair"].get<std::string>(), o);
}

class ClassifyGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(ClassifyGolden, MatchesPipeline) {
  const json golden = load_golden(GetParam());
  const auto clf = SequenceClassifier::load(heads_dir(GetParam()));
  const Tokenizer tok = Tokenizer::load(heads_dir(GetParam()));
  ASSERT_EQ(clf.labels().size(), golden["num_labels"].get<std::size_t>());
  ASSERT_GE(golden["cases"].size(), 8u);
  double worst_logit = 0, worst_score = 0;
  for (const json& c : golden["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const json& in = c["inputs"];
    // The pipeline's tokenization (a mismatch here explains any other one below).
    const Encoding enc = in["text_pair"].is_null() ? tok.encode(in["text"].get<std::string>())
                                                   : tok.encode(in["text"].get<std::string>(),
                                                                in["text_pair"].get<std::string>());
    EXPECT_EQ(enc.input_ids, c["input_ids"].get<std::vector<std::int32_t>>());

    const Classification got = classify(clf, in, options_of(c["options"]));
    const double logit_diff = max_abs_diff(got.logits, c["logits"]);
    EXPECT_LE(logit_diff, kTolerance);
    worst_logit = std::max(worst_logit, logit_diff);

    const json& expected = c["expected"];
    ASSERT_EQ(got.labels.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(got.labels[i].label, expected[i]["label"].get<std::string>()) << "rank " << i;
      const double d = std::abs(got.labels[i].score - expected[i]["score"].get<double>());
      EXPECT_LE(d, kTolerance) << "rank " << i;
      worst_score = std::max(worst_score, d);
    }
  }
  // Texts the pipeline fails on: longer than max_position_embeddings (transformers 5.24 passes no truncation).
  // bertcpp truncates them to the window instead (docs/pipelines.md), so whatever lies past it has no effect.
  for (const json& e : golden.value("error_cases", json::array())) {
    const std::string text = e["inputs"]["text"];
    ASSERT_GT(tok.encode(text).size(), 128u) << e["python_error"];
    EXPECT_EQ(clf.classify(text).logits, clf.classify(text + " and some more words past the window").logits);
  }
  std::cout << "[ max-abs  ] " << GetParam() << ": logits " << worst_logit << ", scores " << worst_score << '\n';
}

TEST_P(ClassifyGolden, BatchEqualsOneByOne) {
  const json golden = load_golden(GetParam());
  const auto clf = SequenceClassifier::load(heads_dir(GetParam()));
  std::vector<std::string> texts;
  std::vector<const json*> cases;
  for (const json& c : golden["cases"]) {
    const bool default_options = c["options"]["top_k"].is_null() && c["options"]["function_to_apply"].is_null();
    if (c["inputs"]["text_pair"].is_null() && default_options) {
      texts.push_back(c["inputs"]["text"]);
      cases.push_back(&c);
    }
  }
  ASSERT_GE(texts.size(), 3u);
  ClassifyOptions all;
  all.top_k = 0;
  const auto batch = clf.classify_batch(texts, all);
  ASSERT_EQ(batch.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    SCOPED_TRACE(texts[i]);
    EXPECT_LE(max_abs_diff(batch[i].logits, (*cases[i])["logits"]), kTolerance);
    const auto single = clf.classify(texts[i], all);
    ASSERT_EQ(batch[i].labels.size(), single.labels.size());
    for (std::size_t j = 0; j < single.labels.size(); ++j) EXPECT_EQ(batch[i].labels[j].label, single.labels[j].label);
  }
}

INSTANTIATE_TEST_SUITE_P(Heads, ClassifyGolden,
                         ::testing::Values("text-classification", "text-classification-multilabel",
                                           "text-classification-single"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// ---- behaviour not covered by the pipeline goldens ------------------------------------------------------------

class Classify : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { clf_ = new SequenceClassifier(SequenceClassifier::load(heads_dir("text-classification"))); }
  static void TearDownTestSuite() {
    delete clf_;
    clf_ = nullptr;
  }
  static SequenceClassifier* clf_;
};
SequenceClassifier* Classify::clf_ = nullptr;

TEST_F(Classify, LabelsComeFromId2Label) {
  EXPECT_EQ(clf_->labels(), (std::vector<std::string>{"negative", "neutral", "positive"}));
}

TEST_F(Classify, DefaultTopKIsOneAndZeroOrTooManyMeansAll) {
  EXPECT_EQ(clf_->classify("a fine day").labels.size(), 1u);
  ClassifyOptions o;
  o.top_k = 0;
  EXPECT_EQ(clf_->classify("a fine day", o).labels.size(), 3u);
  o.top_k = 99;
  const auto all = clf_->classify("a fine day", o);
  ASSERT_EQ(all.labels.size(), 3u);
  EXPECT_GE(all.labels[0].score, all.labels[1].score);
  EXPECT_GE(all.labels[1].score, all.labels[2].score);
  float sum = 0;
  for (const auto& l : all.labels) sum += l.score;
  EXPECT_NEAR(sum, 1.0f, 1e-6f);  // softmax by default with 3 labels
}

TEST_F(Classify, TextOfOnlyControlCharactersRunsOnClsSep) {
  // transformers tokenizes it to [CLS] [SEP] and classifies that, like the empty text.
  const auto empty = clf_->classify("");
  const auto control = clf_->classify("\x01\x02\x7f\u200b");
  EXPECT_EQ(control.logits, empty.logits);
  EXPECT_EQ(control.labels[0].label, empty.labels[0].label);
}

TEST_F(Classify, LongTextIsTruncatedToTheModelWindow) {
  // model_max_length is 128: a 200,000-character text keeps its first 126 word pieces.
  std::string long_text, prefix;
  for (int i = 0; i < 40000; ++i) long_text += "word ";
  for (int i = 0; i < 126; ++i) prefix += "word ";
  EXPECT_EQ(long_text.size(), 200000u);
  EXPECT_EQ(clf_->classify(long_text).logits, clf_->classify(prefix).logits);
  // Pairs lose tokens from the longer text first.
  EXPECT_EQ(clf_->classify(long_text, "short").logits, clf_->classify(prefix.substr(0, 5 * 124), "short").logits);
}

TEST_F(Classify, EmptyPairIsNoPair) {
  // transformers' tokenizer tests text_pair for truth: "" gives [CLS] text [SEP], not [CLS] text [SEP] [SEP].
  EXPECT_EQ(clf_->classify("a fine day", "").logits, clf_->classify("a fine day").logits);
  EXPECT_NE(clf_->classify("a fine day", "a fine day").logits, clf_->classify("a fine day").logits);
}

TEST_F(Classify, InvalidUtf8IsATypedError) {
  EXPECT_THROW(clf_->classify("caf\xc3"), Utf8Error);
  EXPECT_THROW(clf_->classify("ok", "\xff"), Utf8Error);
}

TEST_F(Classify, EmptyBatchGivesNoResults) {
  EXPECT_TRUE(clf_->classify_batch(std::vector<std::string>{}).empty());
}

TEST(ClassifyLoad, CheckpointWithoutClassifierIsAFormatErrorNamingTheTensor) {
  try {
    SequenceClassifier::load(default_model_dir());
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("'classifier.weight'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sequence-classification head"), std::string::npos) << e.what();
  }
}

TEST(ClassifyLoad, ClassifierOfTheWrongShapeIsAFormatError) {
  // id2label with 5 labels over a 3-row classifier.
  TempDir dir;
  for (const auto& entry : fs::directory_iterator(heads_dir("text-classification"))) {
    if (entry.path().filename() != "config.json") fs::create_symlink(fs::absolute(entry.path()), dir.path() / entry.path().filename());
  }
  json config = json::parse(read_file(heads_dir("text-classification") / "config.json"));
  config["id2label"] = {{"0", "a"}, {"1", "b"}, {"2", "c"}, {"3", "d"}, {"4", "e"}};
  config.erase("label2id");
  write_file(dir.path() / "config.json", config.dump());
  try {
    SequenceClassifier::load(dir.path());
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("classifier.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[5,32]"), std::string::npos) << e.what();
  }
}

TEST(ClassifyLoad, RegressionProblemTypeAppliesNoFunction) {
  TempDir dir;
  for (const auto& entry : fs::directory_iterator(heads_dir("text-classification-single"))) {
    if (entry.path().filename() != "config.json") fs::create_symlink(fs::absolute(entry.path()), dir.path() / entry.path().filename());
  }
  json config = json::parse(read_file(heads_dir("text-classification-single") / "config.json"));
  config["problem_type"] = "regression";
  write_file(dir.path() / "config.json", config.dump());
  const auto regression = SequenceClassifier::load(dir.path());
  const auto result = regression.classify("a fine day");
  ASSERT_EQ(result.labels.size(), 1u);
  EXPECT_EQ(result.labels[0].score, result.logits[0]);  // the raw value, not sigmoid(value)
  const auto single = SequenceClassifier::load(heads_dir("text-classification-single")).classify("a fine day");
  EXPECT_FLOAT_EQ(single.labels[0].score, 1.0f / (1.0f + std::exp(-single.logits[0])));
}

}  // namespace
}  // namespace bertcpp::testing
