// Extractive question answering: span decoding on hand-made logits against a brute-force double-precision
// twin, answer ranges and merging, the pipeline on the golden fixtures of tests/data/heads/question-answering
// (transformers' QuestionAnsweringPipeline; models/make_head_fixtures.py), and bad or odd inputs.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <sys/wait.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "heads/qa_spans.hpp"
#include "test_util.hpp"

namespace bertcpp {
namespace {

using testing::kCli;

using heads::qa::Span;
using testing::default_model_dir;

// Brute force in double: softmax over allowed tokens (and only them), [CLS] = token 0 excluded from spans.
std::vector<Span> reference_spans(const std::vector<float>& start, const std::vector<float>& end,
                                  const std::vector<std::uint8_t>& allowed, std::size_t max_answer_len) {
  auto probs = [&](const std::vector<float>& logits) {
    double mx = -1e300, sum = 0;
    for (std::size_t t = 0; t < logits.size(); ++t) {
      if (allowed[t]) mx = std::max(mx, static_cast<double>(logits[t]));
    }
    std::vector<double> p(logits.size(), 0.0);
    for (std::size_t t = 0; t < logits.size(); ++t) {
      if (allowed[t]) sum += (p[t] = std::exp(logits[t] - mx));
    }
    for (double& v : p) v /= sum;
    return p;
  };
  const auto ps = probs(start), pe = probs(end);
  std::vector<Span> spans;
  for (std::size_t s = 1; s < start.size(); ++s) {
    for (std::size_t e = s; e < start.size() && e - s < max_answer_len; ++e) {
      if (allowed[s] && allowed[e]) spans.push_back({s, e, static_cast<float>(ps[s] * pe[e])});
    }
  }
  std::stable_sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.score > b.score; });
  return spans;
}

TEST(QaSpans, BestSpansMatchABruteForceTwinOnRandomLogits) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (const std::size_t tokens : {5u, 17u, 64u}) {
    for (const std::size_t max_answer_len : {1u, 3u, 15u}) {
      std::vector<float> start(tokens), end(tokens);
      for (auto& v : start) v = normal(rng);
      for (auto& v : end) v = normal(rng);
      // [CLS] q q [SEP] context... [SEP]
      std::vector<std::uint8_t> allowed(tokens, 1);
      allowed[1] = allowed[2] = allowed[3 % tokens] = 0;
      allowed[tokens - 1] = 0;
      const auto expected = reference_spans(start, end, allowed, max_answer_len);
      const auto got = heads::qa::best_spans(start, end, allowed, 12, max_answer_len);
      ASSERT_EQ(got.spans.size(), std::min<std::size_t>(12, expected.size())) << tokens << " " << max_answer_len;
      for (std::size_t i = 0; i < got.spans.size(); ++i) {
        EXPECT_EQ(got.spans[i].start, expected[i].start) << i;
        EXPECT_EQ(got.spans[i].end, expected[i].end) << i;
        EXPECT_NEAR(got.spans[i].score, expected[i].score, 1e-6) << i;
        EXPECT_LT(got.spans[i].end - got.spans[i].start, max_answer_len);
      }
    }
  }
}

TEST(QaSpans, NullScoreIsTheClsProbabilityProductAndClsIsNeverASpan) {
  const std::vector<float> start = {5.0f, 9.0f, 1.0f, 0.0f}, end = {5.0f, 9.0f, 0.0f, 1.0f};
  const std::vector<std::uint8_t> allowed = {1, 0, 1, 1};  // token 1 (question) drops out of the softmax
  const auto got = heads::qa::best_spans(start, end, allowed, 5, 15);
  const double z = std::exp(5.0) + std::exp(1.0) + 1.0;
  EXPECT_NEAR(got.null_score, std::exp(5.0) / z * std::exp(5.0) / z, 1e-6);
  ASSERT_EQ(got.spans.size(), 3u);  // (2,2) (2,3) (3,3); nothing with token 0 or 1
  EXPECT_EQ(got.spans[0].start, 2u);
  EXPECT_EQ(got.spans[0].end, 3u);
  EXPECT_NEAR(got.spans[0].score, std::exp(1.0) / z * std::exp(1.0) / z, 1e-6);
  for (const auto& s : got.spans) EXPECT_GE(s.start, 2u);
}

TEST(QaSpans, TiesGoToTheFirstSpanAsNumpysArgmax) {
  const std::vector<float> zeros(6, 0.0f);
  const std::vector<std::uint8_t> allowed = {1, 0, 1, 1, 1, 1};
  const auto got = heads::qa::best_spans(zeros, zeros, allowed, 1, 15);
  ASSERT_EQ(got.spans.size(), 1u);
  EXPECT_EQ(got.spans[0].start, 2u);
  EXPECT_EQ(got.spans[0].end, 2u);
}

TEST(QaSpans, MismatchedLengthsAreAnInvalidArgument) {
  const std::vector<float> a(4), b(3);
  const std::vector<std::uint8_t> allowed(4, 1);
  EXPECT_THROW(heads::qa::best_spans(a, b, allowed, 1, 15), InvalidArgumentError);
}

// [CLS] who ? [SEP] new york ##er ##s live . [SEP] over "New Yorkers live."
Encoding window() {
  Encoding w;
  w.input_ids = {101, 2040, 1029, 102, 2047, 2259, 2121, 2015, 2444, 1012, 102};
  w.sequence_ids = {-1, 0, 0, -1, 1, 1, 1, 1, 1, 1, -1};
  w.word_ids = {-1, 0, 1, -1, 0, 1, 1, 1, 2, 3, -1};
  w.char_offsets = {{0, 0}, {0, 3}, {3, 4}, {0, 0}, {0, 3}, {4, 8}, {8, 10}, {10, 11}, {12, 16}, {16, 17}, {0, 0}};
  w.byte_offsets = w.char_offsets;
  w.attention_mask.assign(w.input_ids.size(), 1);
  return w;
}

TEST(QaSpans, AllowedTokensAreTheContextAndCls) {
  EXPECT_EQ(heads::qa::allowed_tokens(window(), 101),
            (std::vector<std::uint8_t>{1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0}));
}

TEST(QaSpans, SpanRangeWidensToWholeWordsOnlyWhenAligning) {
  const Encoding w = window();
  const Span inside{6, 6, 0.5f};  // "##er", inside "yorkers"
  const auto aligned = heads::qa::span_range(w, inside, true);
  EXPECT_EQ(aligned.start, 4u);
  EXPECT_EQ(aligned.end, 11u);
  const auto raw = heads::qa::span_range(w, inside, false);
  EXPECT_EQ(raw.start, 8u);
  EXPECT_EQ(raw.end, 10u);
  // The question's word 1 ("?") is not the context's word 1: only context tokens count.
  const auto two_words = heads::qa::span_range(w, Span{4, 5, 0.5f}, true);
  EXPECT_EQ(two_words.start, 0u);
  EXPECT_EQ(two_words.end, 11u);
}

TEST(QaSpans, AnswersOfTheSameTextIgnoringCaseAddUpAndKeepTheFirstRange) {
  const std::string context = "new YORKers live.";
  const Encoding w = window();
  heads::qa::AnswerCollector answers(context);
  answers.add(w, Span{5, 5, 0.25f}, true);  // "YORKers" (aligned)
  answers.add(w, Span{6, 7, 0.125f}, true);  // the same word again
  answers.add(w, Span{8, 8, 0.3f}, true);    // "live"
  answers.add(w, Span{4, 4, 0.01f}, true);   // "new"
  const auto best = answers.best(2, std::nullopt);
  ASSERT_EQ(best.size(), 2u);
  EXPECT_EQ(best[0].answer, "YORKers");
  EXPECT_FLOAT_EQ(best[0].score, 0.375f);
  EXPECT_EQ(best[0].start, 4u);
  EXPECT_EQ(best[0].end, 11u);
  EXPECT_EQ(best[1].answer, "live");

  const auto with_null = answers.best(10, 0.35f);
  ASSERT_EQ(with_null.size(), 4u);
  EXPECT_EQ(with_null[1].answer, "");  // the impossible answer, ranked by its score
  EXPECT_EQ(with_null[1].start, 0u);
  EXPECT_EQ(with_null[1].end, 0u);
  EXPECT_FLOAT_EQ(with_null[1].score, 0.35f);
}

TEST(QaSpans, LowercaseMergingIsUnicodeAware) {
  const std::string context = "ÉTÉ été";
  Encoding w;
  w.input_ids = {101, 1, 102, 2, 3, 102};
  w.sequence_ids = {-1, 0, -1, 1, 1, -1};
  w.word_ids = {-1, 0, -1, 0, 1, -1};
  w.char_offsets = {{0, 0}, {0, 1}, {0, 0}, {0, 3}, {4, 7}, {0, 0}};
  w.byte_offsets = {{0, 0}, {0, 1}, {0, 0}, {0, 5}, {6, 11}, {0, 0}};
  heads::qa::AnswerCollector answers(context);
  answers.add(w, Span{3, 3, 0.25f}, true);
  answers.add(w, Span{4, 4, 0.25f}, true);
  const auto best = answers.best(5, std::nullopt);
  ASSERT_EQ(best.size(), 1u);
  EXPECT_EQ(best[0].answer, "ÉTÉ");
  EXPECT_EQ(best[0].byte_end, 5u);
  EXPECT_FLOAT_EQ(best[0].score, 0.5f);
}

// ---- the pipeline on tests/data/heads/question-answering ---------------------------------------------------

std::filesystem::path qa_dir() { return testing::data_dir() / "heads" / "question-answering"; }

QaOptions qa_options(const nlohmann::json& options) {
  QaOptions o;
  auto set = [&](const char* key, auto& field) {
    if (const auto it = options.find(key); it != options.end() && !it->is_null()) {
      field = it->get<std::remove_reference_t<decltype(field)>>();
    }
  };
  set("top_k", o.top_k);
  set("max_answer_len", o.max_answer_len);
  set("max_question_len", o.max_question_len);
  set("handle_impossible_answer", o.handle_impossible_answer);
  if (const auto it = options.find("doc_stride"); it != options.end() && !it->is_null()) {
    o.doc_stride = it->get<std::size_t>();
  }
  if (const auto it = options.find("max_seq_len"); it != options.end() && !it->is_null()) {
    o.max_seq_len = it->get<std::size_t>();
  }
  return o;
}

class QaCheckpoint : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(qa_dir() / "config.json")) return;
    qa_ = new QuestionAnswerer(QuestionAnswerer::load(qa_dir()));
    if (std::filesystem::exists(qa_dir() / "golden.json")) {
      golden_ = new nlohmann::json(nlohmann::json::parse(testing::read_file(qa_dir() / "golden.json")));
    }
  }
  static void TearDownTestSuite() {
    delete qa_;
    delete golden_;
    qa_ = nullptr;
    golden_ = nullptr;
  }
  void SetUp() override {
    if (!qa_) GTEST_SKIP() << "no " << qa_dir();
  }
  void need_golden() {
    if (!golden_) GTEST_SKIP() << "no " << (qa_dir() / "golden.json");
  }
  static QuestionAnswerer* qa_;
  static nlohmann::json* golden_;
};
QuestionAnswerer* QaCheckpoint::qa_ = nullptr;
nlohmann::json* QaCheckpoint::golden_ = nullptr;

// Start and end logits of every window the pipeline ran, within 1e-4 (fp32).
TEST_F(QaCheckpoint, GoldenLogitsOfEveryWindowMatch) {
  need_golden();
  for (const auto& c : golden_->at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const auto logits = qa_->logits(c.at("inputs").at("question").get<std::string>(),
                                    c.at("inputs").at("context").get<std::string>(), qa_options(c.at("options")));
    for (const char* key : {"start_logits", "end_logits"}) {
      const Tensor& got = std::string(key) == "start_logits" ? logits.start_logits : logits.end_logits;
      const auto& windows = c.at("logits").at(key);
      ASSERT_EQ(got.dim(0), static_cast<std::int64_t>(windows.size())) << key;
      for (std::size_t w = 0; w < windows.size(); ++w) {
        ASSERT_LE(windows[w].size(), static_cast<std::size_t>(got.dim(1)));
        for (std::size_t t = 0; t < static_cast<std::size_t>(got.dim(1)); ++t) {
          const float value = got.at({static_cast<std::int64_t>(w), static_cast<std::int64_t>(t)});
          if (t < windows[w].size()) {
            ASSERT_NEAR(value, windows[w][t].get<float>(), 1e-4) << key << " window " << w << " token " << t;
          } else {
            ASSERT_EQ(value, 0.0f) << key << " padding of window " << w;
          }
        }
      }
    }
  }
}

// Answers: texts and offsets identical, scores within 1e-4, in the pipeline's order.
TEST_F(QaCheckpoint, GoldenAnswersMatchThePipeline) {
  need_golden();
  std::size_t answers = 0, impossible = 0;
  for (const auto& c : golden_->at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const std::string context = c.at("inputs").at("context").get<std::string>();
    const auto got = qa_->answer(c.at("inputs").at("question").get<std::string>(), context,
                                 qa_options(c.at("options")));
    const auto& expected = c.at("expected");
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      SCOPED_TRACE("answer " + std::to_string(i));
      EXPECT_EQ(got[i].answer, expected[i].at("answer").get<std::string>());
      EXPECT_EQ(got[i].start, expected[i].at("start").get<std::size_t>());
      EXPECT_EQ(got[i].end, expected[i].at("end").get<std::size_t>());
      EXPECT_NEAR(got[i].score, expected[i].at("score").get<float>(), 1e-4);
      EXPECT_EQ(got[i].answer, context.substr(got[i].byte_start, got[i].byte_end - got[i].byte_start));
      impossible += got[i].answer.empty();
    }
    answers += got.size();
  }
  EXPECT_GE(answers, 40u);
  EXPECT_GE(impossible, 1u);
}

// Every input the pipeline refused is refused here too, as an InvalidArgumentError.
TEST_F(QaCheckpoint, GoldenErrorCasesAreInvalidArguments) {
  need_golden();
  ASSERT_TRUE(golden_->contains("error_cases"));
  for (const auto& c : golden_->at("error_cases")) {
    SCOPED_TRACE(c.at("python_error").get<std::string>());
    EXPECT_THROW(qa_->answer(c.at("inputs").at("question").get<std::string>(),
                             c.at("inputs").at("context").get<std::string>(), qa_options(c.at("options"))),
                 InvalidArgumentError);
  }
}

TEST_F(QaCheckpoint, EmptyQuestionOrContextIsAnInvalidArgumentAsInTransformers) {
  try {
    qa_->answer("", "Berlin is a city.");
    FAIL() << "expected InvalidArgumentError";
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("`question` cannot be empty"), std::string::npos) << e.what();
  }
  try {
    qa_->answer("Where?", "");
    FAIL() << "expected InvalidArgumentError";
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("`context` cannot be empty"), std::string::npos) << e.what();
  }
}

TEST_F(QaCheckpoint, OptionsAreCheckedAsTransformersDoes) {
  QaOptions o;
  o.top_k = 0;
  EXPECT_THROW(qa_->answer("Where?", "In Berlin.", o), InvalidArgumentError);
  o = {};
  o.max_answer_len = 0;
  EXPECT_THROW(qa_->answer("Where?", "In Berlin.", o), InvalidArgumentError);
  o = {};
  o.max_seq_len = 32;
  o.doc_stride = 40;
  try {
    qa_->answer("Where?", "In Berlin.", o);
    FAIL() << "expected InvalidArgumentError";
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("doc_stride (40) is larger than max_seq_len (32)"), std::string::npos)
        << e.what();
  }
}

TEST_F(QaCheckpoint, AContextWithoutTokensHasNoAnswerButTheImpossibleOne) {
  EXPECT_TRUE(qa_->answer("Where?", " \t\n ").empty());
  QaOptions o;
  o.handle_impossible_answer = true;
  o.top_k = 3;
  const auto answers = qa_->answer("Where?", " \t\n ", o);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].answer, "");
  EXPECT_EQ(answers[0].start, 0u);
  EXPECT_EQ(answers[0].end, 0u);
  EXPECT_GT(answers[0].score, 0.0f);
  EXPECT_LE(answers[0].score, 1.0f);
}

TEST_F(QaCheckpoint, InvalidUtf8IsAUtf8Error) {
  EXPECT_THROW(qa_->answer("Where?", "In \xFF Berlin."), Utf8Error);
}

// A context of 200,000 characters: many windows, answers inside the context, best first, in reasonable time.
TEST_F(QaCheckpoint, AContextOf200000CharactersIsAnsweredWindowByWindow) {
  const std::string paragraph =
      "The Millbrook Observatory was founded in 1887 by the astronomer Clara Voss, who had studied in Leipzig. ";
  std::string context;
  while (context.size() < 200000) context += paragraph;
  context.resize(200000);
  QaOptions o;
  o.top_k = 5;
  const auto logits = qa_->logits("Who founded the observatory?", context, o);
  EXPECT_GT(logits.start_logits.dim(0), 100);  // windows
  const auto answers = qa_->answer("Who founded the observatory?", context, o);
  ASSERT_EQ(answers.size(), 5u);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    EXPECT_LE(answers[i].byte_end, context.size());
    EXPECT_EQ(answers[i].answer, context.substr(answers[i].byte_start, answers[i].byte_end - answers[i].byte_start));
    if (i) {
      EXPECT_GE(answers[i - 1].score, answers[i].score);
    }
  }
  // The paragraph repeats, so each answer's text occurs in many windows and their scores add up.
  EXPECT_GT(answers[0].score, 1.0f);
}

// ---- the `bertcpp qa` command line ---------------------------------------------------------------------

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

TEST_F(QaCheckpoint, CliWritesThePipelinesAnswersAndErrorRecordsInPlace) {
  if (!kCli) GTEST_SKIP() << "the CLI is not built";
  need_golden();
  // A multi-window case with several answers, its options as flags.
  const nlohmann::json* chosen = nullptr;
  for (const auto& c : golden_->at("cases")) {
    if (c.at("windows").get<int>() > 1 && c.at("expected").size() >= 3) {
      chosen = &c;
      break;
    }
  }
  ASSERT_NE(chosen, nullptr);
  std::vector<std::string> args = {"qa", "-m", qa_dir().string(), "--logits"};
  const auto& o = chosen->at("options");
  for (const auto& [key, flag] : std::vector<std::pair<std::string, std::string>>{
           {"top_k", "--top-k"}, {"doc_stride", "--doc-stride"}, {"max_answer_len", "--max-answer-len"},
           {"max_seq_len", "--max-seq-len"}}) {
    if (!o.at(key).is_null()) {
      args.push_back(flag);
      args.push_back(std::to_string(o.at(key).get<int>()));
    }
  }
  if (o.at("handle_impossible_answer") == true) args.push_back("--handle-impossible-answer");
  const std::string input = nlohmann::json{{"question", chosen->at("inputs").at("question")},
                                           {"context", chosen->at("inputs").at("context")}}.dump() +
                            "\n" + nlohmann::json{{"question", ""}, {"context", "Berlin."}}.dump() + "\n";
  const CliRun r = run_cli(args, input);
  EXPECT_EQ(r.status, 1) << r.err;
  ASSERT_EQ(r.records.size(), 2u) << r.err;
  const auto& answers = r.records[0].at("answers");
  const auto& expected = chosen->at("expected");
  ASSERT_EQ(answers.size(), expected.size());
  for (std::size_t i = 0; i < answers.size(); ++i) {
    EXPECT_EQ(answers[i].at("answer"), expected[i].at("answer"));
    EXPECT_EQ(answers[i].at("start"), expected[i].at("start"));
    EXPECT_EQ(answers[i].at("end"), expected[i].at("end"));
    EXPECT_NEAR(answers[i].at("score").get<double>(), expected[i].at("score").get<double>(), 1e-4);
  }
  EXPECT_EQ(r.records[0].at("start_logits").size(), chosen->at("logits").at("start_logits").size());
  EXPECT_EQ(r.records[0].at("end_logits").size(), chosen->at("logits").at("end_logits").size());
  EXPECT_EQ(r.records[1].at("line"), 2);
  EXPECT_NE(r.records[1].at("error").get<std::string>().find("`question` cannot be empty"), std::string::npos);
}

// ---- the pipeline on a checkpoint -------------------------------------------------------------------------

TEST(QuestionAnswerer, ACheckpointWithoutQaOutputsIsAFormatErrorNamingTensorAndHead) {
  if (!std::filesystem::exists(default_model_dir() / "config.json")) GTEST_SKIP() << "default model not fetched";
  try {
    QuestionAnswerer::load(default_model_dir());
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("'qa_outputs.weight'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("question-answering"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bertcpp
