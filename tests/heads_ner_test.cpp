// Token classification (NER): the aggregation steps on hand-made scores, the pipeline on the golden fixtures
// of tests/data/heads/token-classification (transformers' TokenClassificationPipeline; models/make_head_fixtures.py),
// and bad or odd inputs.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "heads/ner_aggregation.hpp"
#include "tokenizer/utf8.hpp"
#include "test_util.hpp"

namespace bertcpp {
namespace {

using testing::kCli;

using heads::ner::PreEntity;
using testing::data_dir;
using testing::default_model_dir;

const std::vector<std::string> kLabels = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"};

// Joins tokens as the WordPiece decoder does ("##" glued on, others after a space), without clean-up.
std::string join_tokens(std::span<const std::string> tokens) {
  std::string out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i && tokens[i].starts_with("##")) {
      out += tokens[i].substr(2);
    } else {
      out += (i ? " " : "") + tokens[i];
    }
  }
  return out;
}

PreEntity pre(std::string word, std::vector<float> scores, std::size_t start, std::size_t end, bool subword,
              std::int64_t index = 0) {
  PreEntity p;
  p.word = std::move(word);
  p.scores = std::move(scores);
  p.start = p.byte_start = start;
  p.end = p.byte_end = end;
  p.is_subword = subword;
  p.index = index;
  return p;
}

Entity labelled(std::string label, float score, std::string word, std::size_t start, std::size_t end) {
  Entity e;
  e.entity = std::move(label);
  e.score = score;
  e.word = std::move(word);
  e.start = e.byte_start = start;
  e.end = e.byte_end = end;
  return e;
}

TEST(NerAggregation, SplitTagReadsBIPrefixesAndTreatsOtherLabelsAsContinuations) {
  EXPECT_EQ(heads::ner::split_tag("B-PER"), (std::pair<char, std::string_view>{'B', "PER"}));
  EXPECT_EQ(heads::ner::split_tag("I-LOC"), (std::pair<char, std::string_view>{'I', "LOC"}));
  EXPECT_EQ(heads::ner::split_tag("MISC"), (std::pair<char, std::string_view>{'I', "MISC"}));
  EXPECT_EQ(heads::ner::split_tag("E-PER"), (std::pair<char, std::string_view>{'I', "E-PER"}));
}

TEST(NerAggregation, GroupEntitiesJoinsContinuationsAndSplitsOnEveryB) {
  const std::vector<Entity> tokens = {
      labelled("B-PER", 0.9f, "angela", 0, 6),  labelled("I-PER", 0.7f, "merkel", 7, 13),
      labelled("B-PER", 0.8f, "olaf", 14, 18),  labelled("I-LOC", 0.6f, "paris", 19, 24),
      labelled("I-LOC", 0.5f, "##ian", 24, 27), labelled("O", 0.99f, ".", 27, 28),
  };
  const auto groups = heads::ner::group_entities(tokens, join_tokens);
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(groups[0].entity_group, "PER");
  EXPECT_EQ(groups[0].word, "angela merkel");
  EXPECT_NEAR(groups[0].score, 0.8f, 1e-6);
  EXPECT_EQ(groups[0].start, 0u);
  EXPECT_EQ(groups[0].end, 13u);
  EXPECT_EQ(groups[1].word, "olaf");
  EXPECT_EQ(groups[2].entity_group, "LOC");  // an I- after another tag starts a group
  EXPECT_EQ(groups[2].word, "parisian");
  EXPECT_NEAR(groups[2].score, 0.55f, 1e-6);
  EXPECT_EQ(groups[2].end, 27u);
  EXPECT_EQ(groups[3].entity_group, "O");
  EXPECT_EQ(groups[3].index, -1);
}

TEST(NerAggregation, WordStrategiesDisagreeOnAWordWhoseTokensDisagree) {
  //             O     B-PER I-PER B-LOC I-LOC
  const std::vector<PreEntity> tokens = {
      pre("micro", {0.1f, 0.5f, 0.1f, 0.2f, 0.1f}, 0, 5, false),
      pre("##soft", {0.05f, 0.05f, 0.05f, 0.8f, 0.05f}, 5, 9, true),
      pre("##s", {0.1f, 0.3f, 0.1f, 0.4f, 0.1f}, 9, 10, true),
      pre("rocks", {0.9f, 0.025f, 0.025f, 0.025f, 0.025f}, 11, 16, false),
  };
  const auto first = heads::ner::aggregate_words(tokens, Aggregation::first, kLabels, join_tokens);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].entity, "B-PER");
  EXPECT_FLOAT_EQ(first[0].score, 0.5f);
  EXPECT_EQ(first[0].word, "microsofts");
  EXPECT_EQ(first[0].start, 0u);
  EXPECT_EQ(first[0].end, 10u);
  EXPECT_EQ(first[1].entity, "O");

  const auto max = heads::ner::aggregate_words(tokens, Aggregation::max, kLabels, join_tokens);
  EXPECT_EQ(max[0].entity, "B-LOC");  // the 0.8 of "##soft" is the highest score of the word
  EXPECT_FLOAT_EQ(max[0].score, 0.8f);

  const auto average = heads::ner::aggregate_words(tokens, Aggregation::average, kLabels, join_tokens);
  EXPECT_EQ(average[0].entity, "B-LOC");  // mean B-LOC 0.4667 > mean B-PER 0.2833
  EXPECT_NEAR(average[0].score, (0.2f + 0.8f + 0.4f) / 3, 1e-6);
  EXPECT_EQ(average[1].entity, "O");
  EXPECT_NEAR(average[1].score, 0.9f, 1e-6);

  EXPECT_THROW(heads::ner::aggregate_words(tokens, Aggregation::simple, kLabels, join_tokens), InvalidArgumentError);
}

TEST(NerAggregation, AWindowStartingInsideAWordStartsAWordThere) {
  const std::vector<PreEntity> tokens = {
      pre("##ian", {0.1f, 0.1f, 0.6f, 0.1f, 0.1f}, 5, 8, true),
      pre("##s", {0.1f, 0.1f, 0.6f, 0.1f, 0.1f}, 8, 9, true),
  };
  const auto words = heads::ner::aggregate_words(tokens, Aggregation::first, kLabels, join_tokens);
  ASSERT_EQ(words.size(), 1u);
  EXPECT_EQ(words[0].word, "##ians");
}

TEST(NerAggregation, SimpleKeepsTokensApartWithinAWordWhenLabelsSplitIt) {
  const std::vector<PreEntity> tokens = {
      pre("micro", {0.1f, 0.6f, 0.1f, 0.1f, 0.1f}, 0, 5, false, 1),
      pre("##soft", {0.1f, 0.1f, 0.1f, 0.6f, 0.1f}, 5, 9, true, 2),
  };
  const auto none = heads::ner::aggregate(tokens, Aggregation::none, kLabels, join_tokens);
  ASSERT_EQ(none.size(), 2u);
  EXPECT_EQ(none[1].entity, "B-LOC");
  EXPECT_EQ(none[1].word, "##soft");
  EXPECT_EQ(none[1].index, 2);
  const auto simple = heads::ner::aggregate(tokens, Aggregation::simple, kLabels, join_tokens);
  ASSERT_EQ(simple.size(), 2u);
  EXPECT_EQ(simple[0].entity_group, "PER");
  EXPECT_EQ(simple[1].entity_group, "LOC");
  EXPECT_EQ(simple[1].word, "##soft");
}

TEST(NerAggregation, DropIgnoredLooksAtTheFieldOfTheAggregation) {
  std::vector<Entity> tokens = {labelled("O", 0.9f, "a", 0, 1), labelled("B-PER", 0.9f, "b", 2, 3)};
  heads::ner::drop_ignored(tokens, {"O"}, /*grouped=*/false);
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].entity, "B-PER");

  Entity group;
  group.entity_group = "PER";
  std::vector<Entity> groups = {group};
  heads::ner::drop_ignored(groups, {"O"}, /*grouped=*/true);
  EXPECT_EQ(groups.size(), 1u);
  heads::ner::drop_ignored(groups, {"PER"}, /*grouped=*/true);
  EXPECT_TRUE(groups.empty());
}

TEST(NerAggregation, OverlappingWindowsKeepTheLongerThenTheHigherScoringEntity) {
  auto group = [](std::size_t start, std::size_t end, float score) {
    Entity e;
    e.entity_group = "PER";
    e.start = start;
    e.end = end;
    e.score = score;
    return e;
  };
  // Window 1 saw [10, 14) and [20, 25); window 2 saw [10, 18) (longer), [20, 25) again with a higher score,
  // and [30, 31).
  const auto merged = heads::ner::merge_overlapping(
      {group(0, 3, 0.5f), group(10, 14, 0.9f), group(20, 25, 0.6f), group(10, 18, 0.4f), group(20, 25, 0.7f),
       group(30, 31, 0.3f)});
  ASSERT_EQ(merged.size(), 4u);
  EXPECT_EQ(merged[0].start, 0u);
  EXPECT_EQ(merged[1].end, 18u);
  EXPECT_FLOAT_EQ(merged[2].score, 0.7f);
  EXPECT_EQ(merged[3].start, 30u);
  EXPECT_TRUE(heads::ner::merge_overlapping({}).empty());
}

TEST(NerAggregation, SoftmaxRowsNormalizesEachTokenSeparately) {
  std::vector<float> logits = {0.0f, 0.0f, 1000.0f, 1000.0f, 1.0f, 0.0f};
  heads::ner::softmax_rows(logits, 2);
  EXPECT_FLOAT_EQ(logits[0], 0.5f);
  EXPECT_FLOAT_EQ(logits[2], 0.5f);  // no overflow: the row max is subtracted
  EXPECT_NEAR(logits[4], 1.0f / (1.0f + std::exp(-1.0f)), 1e-7);
}

TEST(NerAggregation, GatherPreEntitiesSkipsSpecialsMarksSubwordsAndKeepsTheTextOfUnknownTokens) {
  if (!std::filesystem::exists(default_model_dir() / "vocab.txt")) GTEST_SKIP() << "default model not fetched";
  const Tokenizer tokenizer = Tokenizer::load(default_model_dir());
  // "Ünaffable" is lowercased and accent-stripped: its tokens cover the original characters; "☃" is [UNK].
  const std::string text = "Ünaffable ☃ Ünaffable";
  const Encoding enc = tokenizer.encode(text);
  const std::vector<float> scores(enc.size() * 2, 0.5f);
  const auto pre = heads::ner::gather_pre_entities(text, enc, scores, 2, tokenizer);
  ASSERT_EQ(pre.size(), enc.size() - 2);  // [CLS] and [SEP] skipped
  EXPECT_EQ(pre.front().index, 1);
  EXPECT_FALSE(pre.front().is_subword);
  bool saw_unknown = false, saw_subword = false;
  for (const auto& p : pre) {
    if (p.word == "☃") {
      saw_unknown = true;
      EXPECT_FALSE(p.is_subword);
      EXPECT_EQ(p.start, 10u);
      EXPECT_EQ(p.byte_start, 11u);  // "Ü" is two bytes
    }
    if (p.word.starts_with("##")) {
      saw_subword = true;
      EXPECT_TRUE(p.is_subword) << p.word;
    }
  }
  EXPECT_TRUE(saw_unknown);
  EXPECT_TRUE(saw_subword);
}

// ---- golden: transformers' TokenClassificationPipeline on tests/data/heads/token-classification -----------

std::filesystem::path ner_dir() { return data_dir() / "heads" / "token-classification"; }

nlohmann::json read_golden(const std::filesystem::path& dir) {
  return nlohmann::json::parse(testing::read_file(dir / "golden.json"));
}

Aggregation aggregation_from(const std::string& name) {
  if (name == "none") return Aggregation::none;
  if (name == "simple") return Aggregation::simple;
  if (name == "first") return Aggregation::first;
  if (name == "average") return Aggregation::average;
  if (name == "max") return Aggregation::max;
  throw std::runtime_error("golden.json: unknown aggregation_strategy " + name);
}

NerOptions ner_options(const nlohmann::json& options) {
  NerOptions o;
  o.aggregation = aggregation_from(options.at("aggregation_strategy").get<std::string>());
  if (!options.at("ignore_labels").is_null()) o.ignore_labels = options.at("ignore_labels").get<std::vector<std::string>>();
  if (!options.at("stride").is_null()) o.stride = options.at("stride").get<std::size_t>();
  return o;
}

class NerGolden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(ner_dir() / "golden.json")) return;
    golden_ = new nlohmann::json(read_golden(ner_dir()));
    ner_ = new TokenClassifier(TokenClassifier::load(ner_dir()));
  }
  static void TearDownTestSuite() {
    delete golden_;
    delete ner_;
    golden_ = nullptr;
    ner_ = nullptr;
  }
  void SetUp() override {
    if (!golden_) GTEST_SKIP() << "no " << (ner_dir() / "golden.json");
  }
  static nlohmann::json* golden_;
  static TokenClassifier* ner_;
};
nlohmann::json* NerGolden::golden_ = nullptr;
TokenClassifier* NerGolden::ner_ = nullptr;

TEST_F(NerGolden, LabelsAreTheCheckpointsId2label) {
  EXPECT_EQ(ner_->labels(), golden_->at("labels").get<std::vector<std::string>>());
}

// Per-token logits of every window the pipeline ran, within 1e-4 (fp32).
TEST_F(NerGolden, LogitsOfEveryWindowMatch) {
  for (const auto& c : golden_->at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const NerOptions options = ner_options(c.at("options"));
    const Tensor logits = ner_->logits(c.at("inputs").at("text").get<std::string>(), options);
    const auto& windows = c.at("logits");
    ASSERT_EQ(logits.dim(0), static_cast<std::int64_t>(windows.size()));
    ASSERT_EQ(logits.dim(2), static_cast<std::int64_t>(ner_->labels().size()));
    for (std::size_t w = 0; w < windows.size(); ++w) {
      const auto& rows = windows[w];
      ASSERT_LE(rows.size(), static_cast<std::size_t>(logits.dim(1)));
      for (std::size_t t = 0; t < static_cast<std::size_t>(logits.dim(1)); ++t) {
        for (std::size_t l = 0; l < ner_->labels().size(); ++l) {
          const float got = logits.at({static_cast<std::int64_t>(w), static_cast<std::int64_t>(t),
                                       static_cast<std::int64_t>(l)});
          if (t < rows.size()) {
            ASSERT_NEAR(got, rows[t][l].get<float>(), 1e-4) << "window " << w << " token " << t << " label " << l;
          } else {
            ASSERT_EQ(got, 0.0f) << "padding of window " << w << " token " << t;
          }
        }
      }
    }
  }
}

// Entities: labels, words, offsets identical; scores within 1e-4.
TEST_F(NerGolden, EntitiesMatchThePipeline) {
  std::size_t cases = 0, entities = 0;
  for (const auto& c : golden_->at("cases")) {
    const std::string name = c.at("name").get<std::string>();
    SCOPED_TRACE(name);
    const std::string text = c.at("inputs").at("text").get<std::string>();
    const NerOptions options = ner_options(c.at("options"));
    const std::vector<Entity> got = ner_->recognize(text, options);
    const auto& expected = c.at("expected");
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      SCOPED_TRACE("entity " + std::to_string(i));
      const auto& e = expected[i];
      if (options.aggregation == Aggregation::none) {
        EXPECT_EQ(got[i].entity, e.at("entity").get<std::string>());
        EXPECT_EQ(got[i].index, e.at("index").get<std::int64_t>());
      } else {
        EXPECT_EQ(got[i].entity_group, e.at("entity_group").get<std::string>());
        EXPECT_EQ(got[i].index, -1);
      }
      EXPECT_EQ(got[i].word, e.at("word").get<std::string>());
      EXPECT_EQ(got[i].start, e.at("start").get<std::size_t>());
      EXPECT_EQ(got[i].end, e.at("end").get<std::size_t>());
      EXPECT_NEAR(got[i].score, e.at("score").get<float>(), 1e-4);
      // The byte range covers the same text as the code-point range.
      EXPECT_LE(got[i].byte_end, text.size());
      EXPECT_EQ(tokenizer::count_code_points(std::string_view(text).substr(0, got[i].byte_start)), got[i].start);
      EXPECT_EQ(tokenizer::count_code_points(std::string_view(text).substr(0, got[i].byte_end)), got[i].end);
    }
    ++cases;
    entities += got.size();
  }
  EXPECT_GE(cases, 40u);
  EXPECT_GE(entities, 500u);
}

TEST_F(NerGolden, StrideNeedsAnAggregationAndMustBeShorterThanTheWindow) {
  NerOptions options;
  options.stride = 8;  // aggregation none
  try {
    ner_->recognize("Angela Merkel visited Paris.", options);
    FAIL() << "expected InvalidArgumentError";
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("aggregation none"), std::string::npos) << e.what();
  }
  options.aggregation = Aggregation::simple;
  options.stride = 32;  // the directory's model_max_length
  try {
    ner_->recognize("Angela Merkel visited Paris.", options);
    FAIL() << "expected InvalidArgumentError";
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("stride 32 must be less than the maximum length 32"), std::string::npos)
        << e.what();
  }
  options.stride = 31;  // shorter than the window, but not than its 30 content tokens: the tokenizer refuses
  EXPECT_THROW(ner_->recognize("Angela Merkel visited Paris.", options), InvalidArgumentError);
}

TEST_F(NerGolden, TextsThatTokenizeToNothingHaveNoEntities) {
  for (const char* text : {"", " ", "\t\n  \r", "\u200b\u200b"}) {
    for (auto aggregation : {Aggregation::none, Aggregation::simple, Aggregation::max}) {
      NerOptions options;
      options.aggregation = aggregation;
      options.ignore_labels = {};  // nothing to ignore, still nothing found
      EXPECT_TRUE(ner_->recognize(text, options).empty()) << "'" << text << "'";
    }
  }
}

TEST_F(NerGolden, InvalidUtf8IsAUtf8Error) {
  EXPECT_THROW(ner_->recognize("Paris \xC3\x28 London"), Utf8Error);
}

TEST_F(NerGolden, TheWindowLengthCanBeChosenPerCall) {
  const std::string text = golden_->at("cases")[0].at("inputs").at("text").get<std::string>();
  NerOptions options;
  options.aggregation = Aggregation::simple;
  options.max_length = 12;
  EXPECT_EQ(ner_->logits(text, options).dim(1), 12);  // truncated to 12 tokens
  options.stride = 4;
  const Tensor windows = ner_->logits(text, options);
  EXPECT_GT(windows.dim(0), 1);
  EXPECT_EQ(windows.dim(1), 12);
}

// A text of 200,000 characters in windows of 32 tokens: every entity lies inside the text, sorted, and the
// entities of overlapping windows are merged (no two overlap).
TEST_F(NerGolden, AVeryLongTextIsSplitIntoWindowsAndMerged) {
  const std::string sentence = golden_->at("cases")[0].at("inputs").at("text").get<std::string>() + " ";
  std::string text;
  while (text.size() < 200000) text += sentence;
  text.resize(200000);
  NerOptions options;
  options.aggregation = Aggregation::first;
  options.stride = 8;
  const auto entities = ner_->recognize(text, options);
  ASSERT_FALSE(entities.empty());
  for (std::size_t i = 0; i < entities.size(); ++i) {
    ASSERT_LT(entities[i].start, entities[i].end);
    ASSERT_LE(entities[i].byte_end, text.size());
    if (i) {
      ASSERT_LE(entities[i - 1].end, entities[i].start) << i;
    }
  }
  // Far beyond the first window: entities are found all along the text.
  EXPECT_GT(entities.back().start, 190000u);
}

// ---- the `bertcpp ner` command line ---------------------------------------------------------------------

struct CliRun {
  int status = -1;
  std::vector<nlohmann::json> records;  // stdout, one JSON value per line
  std::string err;
};

// Runs `bertcpp args...` with `input` on stdin.
CliRun run_cli(const std::vector<std::string>& args, const std::string& input) {
  const testing::ProcessResult p = testing::run_process(kCli, args, input);
  CliRun r;
  r.status = p.status;
  std::istringstream out(p.out);
  for (std::string line; std::getline(out, line);) r.records.push_back(nlohmann::json::parse(line));
  r.err = p.err;
  return r;
}

TEST_F(NerGolden, CliWritesThePipelinesEntitiesAndErrorRecordsInPlace) {
  if (!kCli) GTEST_SKIP() << "the CLI is not built";
  const nlohmann::json* simple = nullptr;
  for (const auto& c : golden_->at("cases")) {
    if (c.at("options").at("aggregation_strategy") == "simple" && c.at("options").at("stride").is_null() &&
        c.at("options").at("ignore_labels").is_null() && c.at("expected").size() >= 3) {
      simple = &c;
      break;
    }
  }
  ASSERT_NE(simple, nullptr);
  const std::string text = simple->at("inputs").at("text").get<std::string>();
  const std::string input =
      nlohmann::json{{"text", text}}.dump() + "\n{\"text\": 5}\n" + nlohmann::json{{"text", ""}}.dump() + "\n";
  const CliRun r = run_cli({"ner", "-m", ner_dir().string(), "--aggregation", "simple", "--logits"}, input);
  EXPECT_EQ(r.status, 1) << r.err;  // one line rejected
  ASSERT_EQ(r.records.size(), 3u) << r.err;
  const auto& entities = r.records[0].at("entities");
  const auto& expected = simple->at("expected");
  ASSERT_EQ(entities.size(), expected.size());
  for (std::size_t i = 0; i < entities.size(); ++i) {
    EXPECT_EQ(entities[i].at("entity_group"), expected[i].at("entity_group"));
    EXPECT_EQ(entities[i].at("word"), expected[i].at("word"));
    EXPECT_EQ(entities[i].at("start"), expected[i].at("start"));
    EXPECT_EQ(entities[i].at("end"), expected[i].at("end"));
    EXPECT_NEAR(entities[i].at("score").get<double>(), expected[i].at("score").get<double>(), 1e-4);
    EXPECT_FALSE(entities[i].contains("index"));  // only aggregation none has token indices
  }
  const auto& logits = r.records[0].at("logits");  // [windows][tokens][labels]
  ASSERT_EQ(logits.size(), simple->at("logits").size());
  EXPECT_NEAR(logits[0][1][2].get<double>(), simple->at("logits")[0][1][2].get<double>(), 1e-4);
  EXPECT_EQ(r.records[1].at("line"), 2);
  EXPECT_NE(r.records[1].at("error").get<std::string>().find("\"text\""), std::string::npos);
  EXPECT_TRUE(r.records[2].at("entities").empty());

  const CliRun none = run_cli({"ner", "-m", ner_dir().string()}, nlohmann::json{{"text", text}}.dump() + "\n");
  EXPECT_EQ(none.status, 0) << none.err;
  ASSERT_EQ(none.records.size(), 1u);
  ASSERT_FALSE(none.records[0].at("entities").empty());
  EXPECT_TRUE(none.records[0].at("entities")[0].contains("entity"));
  EXPECT_TRUE(none.records[0].at("entities")[0].contains("index"));

  const CliRun refused = run_cli({"ner", "-m", ner_dir().string(), "--stride", "4"}, "");
  EXPECT_EQ(refused.status, 2);
  EXPECT_NE(refused.err.find("--stride needs --aggregation"), std::string::npos) << refused.err;
}

// ---- the pipeline on a checkpoint -------------------------------------------------------------------------

TEST(TokenClassifier, ACheckpointWithoutTheClassifierIsAFormatErrorNamingTensorAndHead) {
  if (!std::filesystem::exists(default_model_dir() / "config.json")) GTEST_SKIP() << "default model not fetched";
  try {
    TokenClassifier::load(default_model_dir());
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("'classifier.weight'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("token-classification"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bertcpp
