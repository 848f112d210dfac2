// Sequence classification, token classification (NER) and question answering on every non-BERT variant:
// tiny random RoBERTa / XLM-R / ALBERT / ELECTRA / DistilBERT / MPNet checkpoints of
// tests/data/variant-heads/<variant>-<head> against transformers' pipelines (models/make_variant_cls_fixtures.py).
// Logits and scores within 1e-4 (fp32); labels, entity words and offsets, answer spans and texts identical. Then
// the same directories through the CLI, and a head tensor taken out of each layout.
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "test_util.hpp"

namespace bertcpp {
namespace {

using testing::kCli;

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::data_dir;

constexpr double kTol = 1e-4;

const std::vector<std::string> kVariants = {"roberta", "xlm-roberta", "albert", "electra", "distilbert", "mpnet"};

fs::path variant_dir(const std::string& variant, const std::string& head) {
  return data_dir() / "variant-heads" / (variant + "-" + head);
}

json golden_of(const fs::path& dir) { return json::parse(testing::read_file(dir / "golden.json")); }

std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

// ---- sequence classification ------------------------------------------------------------------------------

class VariantClassify : public ::testing::TestWithParam<std::string> {
 protected:
  fs::path dir() const { return variant_dir(GetParam(), "text-classification"); }
};

ClassifyOptions classify_options(const json& o) {
  ClassifyOptions options;
  options.top_k = o.at("top_k").is_null() ? 0 : o.at("top_k").get<std::size_t>();
  const std::string fn = o.at("function_to_apply").is_null() ? "" : o.at("function_to_apply").get<std::string>();
  if (fn == "softmax") options.function_to_apply = ScoreFunction::softmax;
  if (fn == "sigmoid") options.function_to_apply = ScoreFunction::sigmoid;
  if (fn == "none") options.function_to_apply = ScoreFunction::none;
  return options;
}

TEST_P(VariantClassify, LabelsScoresAndLogitsMatchThePipeline) {
  const json g = golden_of(dir());
  ASSERT_EQ(g.at("model_type"), GetParam());
  const SequenceClassifier clf = SequenceClassifier::load(dir());
  std::size_t cases = 0;
  for (const json& c : g.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const std::string text = c.at("inputs").at("text").get<std::string>();
    const json& pair = c.at("inputs").at("text_pair");
    const ClassifyOptions options = classify_options(c.at("options"));
    const Classification got = pair.is_null() ? clf.classify(text, options)
                                              : clf.classify(text, pair.get<std::string>(), options);
    const json& logits = c.at("logits");
    ASSERT_EQ(got.logits.size(), logits.size());
    for (std::size_t i = 0; i < logits.size(); ++i) EXPECT_NEAR(got.logits[i], logits[i].get<double>(), kTol) << i;
    const json& expected = c.at("expected");
    ASSERT_EQ(got.labels.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(got.labels[i].label, expected[i].at("label").get<std::string>()) << i;
      EXPECT_NEAR(got.labels[i].score, expected[i].at("score").get<double>(), kTol) << i;
    }
    ++cases;
  }
  EXPECT_GE(cases, 32u);
}

// classify_batch pads nothing and gives each text what classify gives it.
TEST_P(VariantClassify, ABatchGivesEachTextItsOwnResult) {
  const json g = golden_of(dir());
  const SequenceClassifier clf = SequenceClassifier::load(dir());
  std::vector<std::string> texts;
  std::vector<const json*> cases;
  for (const json& c : g.at("cases")) {
    if (!c.at("inputs").at("text_pair").is_null() || !c.at("options").at("top_k").is_null() ||
        !c.at("options").at("function_to_apply").is_null()) {
      continue;
    }
    texts.push_back(c.at("inputs").at("text").get<std::string>());
    cases.push_back(&c);
  }
  ASSERT_GE(texts.size(), 4u);
  ClassifyOptions options;
  options.top_k = 0;
  const auto got = clf.classify_batch(texts, options);
  ASSERT_EQ(got.size(), texts.size());
  for (std::size_t t = 0; t < texts.size(); ++t) {
    const json& expected = cases[t]->at("expected");
    ASSERT_EQ(got[t].labels.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(got[t].labels[i].label, expected[i].at("label").get<std::string>());
      EXPECT_NEAR(got[t].labels[i].score, expected[i].at("score").get<double>(), kTol);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, VariantClassify, ::testing::ValuesIn(kVariants), param_name);

// ---- token classification -----------------------------------------------------------------------------------

Aggregation aggregation_from(const std::string& name) {
  if (name == "none") return Aggregation::none;
  if (name == "simple") return Aggregation::simple;
  if (name == "first") return Aggregation::first;
  if (name == "average") return Aggregation::average;
  if (name == "max") return Aggregation::max;
  throw std::runtime_error("golden.json: unknown aggregation_strategy " + name);
}

NerOptions ner_options(const json& o) {
  NerOptions options;
  options.aggregation = aggregation_from(o.at("aggregation_strategy").get<std::string>());
  if (!o.at("ignore_labels").is_null()) options.ignore_labels = o.at("ignore_labels").get<std::vector<std::string>>();
  if (!o.at("stride").is_null()) options.stride = o.at("stride").get<std::size_t>();
  return options;
}

class VariantNer : public ::testing::TestWithParam<std::string> {
 protected:
  fs::path dir() const { return variant_dir(GetParam(), "token-classification"); }
};

TEST_P(VariantNer, LogitsOfEveryWindowMatch) {
  const json g = golden_of(dir());
  const TokenClassifier ner = TokenClassifier::load(dir());
  EXPECT_EQ(ner.labels(), g.at("labels").get<std::vector<std::string>>());
  std::size_t windows_checked = 0;
  for (const json& c : g.at("cases")) {
    if (c.at("logits").is_null()) continue;  // same text and windows as an earlier case
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor logits = ner.logits(c.at("inputs").at("text").get<std::string>(), ner_options(c.at("options")));
    const json& windows = c.at("logits");
    ASSERT_EQ(logits.dim(0), static_cast<std::int64_t>(windows.size()));
    for (std::size_t w = 0; w < windows.size(); ++w) {
      const json& rows = windows[w];
      ASSERT_LE(rows.size(), static_cast<std::size_t>(logits.dim(1)));
      for (std::size_t t = 0; t < rows.size(); ++t) {
        for (std::size_t l = 0; l < rows[t].size(); ++l) {
          ASSERT_NEAR(logits.at({static_cast<std::int64_t>(w), static_cast<std::int64_t>(t),
                                 static_cast<std::int64_t>(l)}),
                      rows[t][l].get<double>(), kTol)
              << "window " << w << " token " << t << " label " << l;
        }
      }
      ++windows_checked;
    }
  }
  EXPECT_GE(windows_checked, 10u);
}

// Entities: labels, words and offsets identical, scores within 1e-4, for every aggregation strategy, with and
// without stride.
TEST_P(VariantNer, EntitiesMatchThePipeline) {
  const json g = golden_of(dir());
  const TokenClassifier ner = TokenClassifier::load(dir());
  std::size_t entities = 0, words_of_several_tokens = 0;
  for (const json& c : g.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const NerOptions options = ner_options(c.at("options"));
    const std::vector<Entity> got = ner.recognize(c.at("inputs").at("text").get<std::string>(), options);
    const json& expected = c.at("expected");
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      SCOPED_TRACE("entity " + std::to_string(i));
      const json& e = expected[i];
      if (options.aggregation == Aggregation::none) {
        EXPECT_EQ(got[i].entity, e.at("entity").get<std::string>());
        EXPECT_EQ(got[i].index, e.at("index").get<std::int64_t>());
      } else {
        EXPECT_EQ(got[i].entity_group, e.at("entity_group").get<std::string>());
      }
      EXPECT_EQ(got[i].word, e.at("word").get<std::string>());
      EXPECT_EQ(got[i].start, e.at("start").get<std::size_t>());
      EXPECT_EQ(got[i].end, e.at("end").get<std::size_t>());
      EXPECT_NEAR(got[i].score, e.at("score").get<double>(), kTol);
      if (options.aggregation != Aggregation::none && got[i].end - got[i].start > 1 &&
          got[i].word.find(' ') != std::string::npos) {
        ++words_of_several_tokens;
      }
    }
    entities += got.size();
  }
  EXPECT_GE(entities, 300u);
  EXPECT_GE(words_of_several_tokens, 5u);  // groups spanning several words: the word grouping is exercised
}

INSTANTIATE_TEST_SUITE_P(Variants, VariantNer, ::testing::ValuesIn(kVariants), param_name);

// ---- question answering -------------------------------------------------------------------------------------

QaOptions qa_options(const json& o) {
  QaOptions options;
  if (!o.at("top_k").is_null()) options.top_k = o.at("top_k").get<std::size_t>();
  if (!o.at("doc_stride").is_null()) options.doc_stride = o.at("doc_stride").get<std::size_t>();
  if (!o.at("max_answer_len").is_null()) options.max_answer_len = o.at("max_answer_len").get<std::size_t>();
  if (!o.at("max_seq_len").is_null()) options.max_seq_len = o.at("max_seq_len").get<std::size_t>();
  if (!o.at("handle_impossible_answer").is_null()) {
    options.handle_impossible_answer = o.at("handle_impossible_answer").get<bool>();
  }
  return options;
}

class VariantQa : public ::testing::TestWithParam<std::string> {
 protected:
  fs::path dir() const { return variant_dir(GetParam(), "question-answering"); }
};

TEST_P(VariantQa, StartAndEndLogitsOfEveryWindowMatch) {
  const json g = golden_of(dir());
  const QuestionAnswerer qa = QuestionAnswerer::load(dir());
  std::size_t windows_checked = 0;
  for (const json& c : g.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const auto got = qa.logits(c.at("inputs").at("question").get<std::string>(),
                               c.at("inputs").at("context").get<std::string>(), qa_options(c.at("options")));
    for (const char* key : {"start_logits", "end_logits"}) {
      const Tensor& t = std::string(key) == "start_logits" ? got.start_logits : got.end_logits;
      const json& windows = c.at("logits").at(key);
      ASSERT_EQ(t.dim(0), static_cast<std::int64_t>(windows.size())) << key;
      for (std::size_t w = 0; w < windows.size(); ++w) {
        for (std::size_t i = 0; i < windows[w].size(); ++i) {
          ASSERT_NEAR(t.at({static_cast<std::int64_t>(w), static_cast<std::int64_t>(i)}), windows[w][i].get<double>(),
                      kTol)
              << key << " window " << w << " token " << i;
        }
        ++windows_checked;
      }
    }
  }
  EXPECT_GE(windows_checked, 20u);
}

TEST_P(VariantQa, AnswersMatchThePipeline) {
  const json g = golden_of(dir());
  const QuestionAnswerer qa = QuestionAnswerer::load(dir());
  std::size_t answers = 0;
  for (const json& c : g.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const std::string context = c.at("inputs").at("context").get<std::string>();
    const auto got =
        qa.answer(c.at("inputs").at("question").get<std::string>(), context, qa_options(c.at("options")));
    const json& expected = c.at("expected");
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].answer, expected[i].at("answer").get<std::string>()) << i;
      EXPECT_EQ(got[i].start, expected[i].at("start").get<std::size_t>()) << i;
      EXPECT_EQ(got[i].end, expected[i].at("end").get<std::size_t>()) << i;
      EXPECT_NEAR(got[i].score, expected[i].at("score").get<double>(), kTol) << i;
      EXPECT_EQ(context.substr(got[i].byte_start, got[i].byte_end - got[i].byte_start), got[i].answer);
    }
    answers += got.size();
  }
  EXPECT_GE(answers, 20u);
}

INSTANTIATE_TEST_SUITE_P(Variants, VariantQa, ::testing::ValuesIn(kVariants), param_name);

// ---- a head tensor missing ----------------------------------------------------------------------------------

// A copy of `dir` whose index leaves out head.safetensors (the head's tensors): the encoder loads, the head
// does not.
void copy_without_head(const fs::path& dir, const fs::path& to) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name == "model.safetensors.index.json" || name == "head.safetensors") continue;
    if (fs::is_regular_file(entry.path())) fs::copy_file(entry.path(), to / name);  // follows the symlinks
  }
  json index = json::parse(testing::read_file(dir / "model.safetensors.index.json"));
  json kept = json::object();
  for (const auto& [tensor, file] : index.at("weight_map").items()) {
    if (file != "head.safetensors") kept[tensor] = file;
  }
  index["weight_map"] = kept;
  testing::write_file(to / "model.safetensors.index.json", index.dump());
}

template <typename Pipeline>
void expect_missing_head_tensor(const fs::path& dir, const std::string& tensor, const std::string& head) {
  testing::TempDir tmp;
  copy_without_head(dir, tmp.path());
  try {
    Pipeline::load(tmp.path());
    ADD_FAILURE() << dir << ": expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("'" + tensor + "'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(head), std::string::npos) << e.what();
  }
}

TEST(VariantHeads, AMissingHeadTensorIsAFormatErrorNamingTensorAndHead) {
  const std::vector<std::pair<std::string, std::string>> first_tensor = {
      {"roberta", "classifier.dense.weight"}, {"xlm-roberta", "classifier.dense.weight"},
      {"albert", "classifier.weight"},        {"electra", "classifier.dense.weight"},
      {"distilbert", "pre_classifier.weight"}, {"mpnet", "classifier.dense.weight"}};
  for (const auto& [variant, tensor] : first_tensor) {
    SCOPED_TRACE(variant);
    expect_missing_head_tensor<SequenceClassifier>(variant_dir(variant, "text-classification"), tensor,
                                                   "sequence-classification");
    expect_missing_head_tensor<TokenClassifier>(variant_dir(variant, "token-classification"), "classifier.weight",
                                                "token-classification");
    expect_missing_head_tensor<QuestionAnswerer>(variant_dir(variant, "question-answering"), "qa_outputs.weight",
                                                 "question-answering");
  }
}

// A classifier layer of the wrong shape names the tensor and the expected shape (RoBERTa's out_proj when
// config.json asks for 5 labels and the file holds 3).
TEST(VariantHeads, AClassifierOfTheWrongShapeNamesTheTensorAndShapes) {
  testing::TempDir tmp;
  const fs::path dir = variant_dir("roberta", "text-classification");
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename() != "config.json") fs::copy_file(entry.path(), tmp.path() / entry.path().filename());
  }
  json config = json::parse(testing::read_file(dir / "config.json"));
  config.erase("id2label");
  config.erase("label2id");
  config["num_labels"] = 5;
  testing::write_file(tmp.path() / "config.json", config.dump());
  try {
    SequenceClassifier::load(tmp.path());
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("classifier.out_proj.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[5,36]"), std::string::npos) << e.what();
  }
}

// ---- the CLI accepts these directories ----------------------------------------------------------------------

std::vector<json> run_cli(const std::vector<std::string>& args, const std::string& input, int& status) {
  const testing::ProcessResult p = testing::run_process(kCli, args, input);
  status = p.status;
  std::vector<json> records;
  std::istringstream out(p.out);
  for (std::string line; std::getline(out, line);) records.push_back(json::parse(line));
  EXPECT_EQ(p.status, 0) << p.err;
  return records;
}

class VariantCli : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!kCli) GTEST_SKIP() << "the bertcpp CLI is not built (BERTCPP_BUILD_EXAMPLES=OFF)";
  }
};

TEST_P(VariantCli, ClassifyNerAndQaRunOnTheVariantsDirectories) {
  int status = -1;
  {  // classify: the default-option cases, all labels
    const fs::path dir = variant_dir(GetParam(), "text-classification");
    const json g = golden_of(dir);
    std::string input;
    std::vector<const json*> cases;
    for (const json& c : g.at("cases")) {
      if (!c.at("options").at("top_k").is_null() || !c.at("options").at("function_to_apply").is_null()) continue;
      input += json{{"text", c.at("inputs").at("text")}, {"text_pair", c.at("inputs").at("text_pair")}}.dump() + "\n";
      cases.push_back(&c);
    }
    const auto records = run_cli({"classify", "-m", dir.string(), "--top-k", "0"}, input, status);
    ASSERT_EQ(records.size(), cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const json& expected = cases[i]->at("expected");
      ASSERT_EQ(records[i].at("labels").size(), expected.size());
      for (std::size_t j = 0; j < expected.size(); ++j) {
        EXPECT_EQ(records[i].at("labels")[j].at("label"), expected[j].at("label"));
        EXPECT_NEAR(records[i].at("labels")[j].at("score").get<double>(), expected[j].at("score").get<double>(), kTol);
      }
    }
  }
  {  // ner: a simple-aggregation case without stride
    const fs::path dir = variant_dir(GetParam(), "token-classification");
    const json g = golden_of(dir);
    const json* chosen = nullptr;
    for (const json& c : g.at("cases")) {
      const json& o = c.at("options");
      if (o.at("aggregation_strategy") == "simple" && o.at("stride").is_null() && o.at("ignore_labels").is_null() &&
          !c.at("expected").empty()) {
        chosen = &c;
        break;
      }
    }
    ASSERT_NE(chosen, nullptr);
    const auto records = run_cli({"ner", "-m", dir.string(), "--aggregation", "simple"},
                                 json{{"text", chosen->at("inputs").at("text")}}.dump() + "\n", status);
    ASSERT_EQ(records.size(), 1u);
    const json& entities = records[0].at("entities");
    const json& expected = chosen->at("expected");
    ASSERT_EQ(entities.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(entities[i].at("entity_group"), expected[i].at("entity_group"));
      EXPECT_EQ(entities[i].at("word"), expected[i].at("word"));
      EXPECT_EQ(entities[i].at("start"), expected[i].at("start"));
      EXPECT_EQ(entities[i].at("end"), expected[i].at("end"));
      EXPECT_NEAR(entities[i].at("score").get<double>(), expected[i].at("score").get<double>(), kTol);
    }
  }
  {  // qa: the first case (default options)
    const fs::path dir = variant_dir(GetParam(), "question-answering");
    const json g = golden_of(dir);
    const json& c = g.at("cases")[0];
    const auto records = run_cli({"qa", "-m", dir.string()}, c.at("inputs").dump() + "\n", status);
    ASSERT_EQ(records.size(), 1u);
    const json& answers = records[0].at("answers");
    const json& expected = c.at("expected");
    ASSERT_EQ(answers.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(answers[i].at("answer"), expected[i].at("answer"));
      EXPECT_EQ(answers[i].at("start"), expected[i].at("start"));
      EXPECT_EQ(answers[i].at("end"), expected[i].at("end"));
      EXPECT_NEAR(answers[i].at("score").get<double>(), expected[i].at("score").get<double>(), kTol);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, VariantCli, ::testing::ValuesIn(kVariants), param_name);

}  // namespace
}  // namespace bertcpp
