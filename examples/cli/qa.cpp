// `bertcpp qa`: questions with their contexts in, answers out, one JSON line each (docs/cli.md).
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app.hpp"
#include "bertcpp/pipelines.hpp"
#include "jsonl.hpp"
#include "text_io.hpp"

namespace bertcpp::cli {
namespace {

struct QaCliOptions {
  std::string model;
  TextIoOptions io;
  int threads = 0;
  ComputeType compute = ComputeType::fp32;
  QaOptions qa;
  bool no_align_to_words = false;
  bool logits = false;
  int precision = 0;
};

void append_matrix(std::string& out, const char* key, const Tensor& t, int precision) {  // [windows, tokens]
  out += ',';
  append_key(out, key);
  append_float_matrix(out, t.data.data(), static_cast<std::size_t>(t.dim(0)), static_cast<std::size_t>(t.dim(1)),
                      precision);
}

std::string format(const std::vector<Answer>& answers, const QuestionAnswerer::Logits* logits, int precision) {
  std::string out = "{";
  append_key(out, "answers");
  out += '[';
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const Answer& a = answers[i];
    if (i) out += ',';
    out += '{';
    append_key(out, "score");
    append_float(out, a.score, precision);
    out += ',';
    append_key(out, "start");
    out += std::to_string(a.start) + ',';
    append_key(out, "end");
    out += std::to_string(a.end) + ',';
    append_key(out, "answer");
    out += nlohmann::json(a.answer).dump() + '}';
  }
  out += ']';
  if (logits) {
    append_matrix(out, "start_logits", logits->start_logits, precision);
    append_matrix(out, "end_logits", logits->end_logits, precision);
  }
  out += '}';
  return out;
}

int run_qa(QaCliOptions options) {
  options.qa.align_to_words = !options.no_align_to_words;
  LoadOptions load;
  load.threads = options.threads;
  load.compute = options.compute;
  const auto qa = load_pipeline_or_report<QuestionAnswerer>("qa", options.model, load);
  if (!qa) return exit_setup;
  return run_text_lines("qa", options.io, [&](std::span<const TextRecord> records) {
    std::vector<std::string> out;
    for (const TextRecord& r : records) {
      const std::string question = required_string(r.fields, "question");
      const std::string context = required_string(r.fields, "context");
      if (options.logits) {  // answers and logits from one encoder pass
        const QuestionAnswerer::Result r = qa->answer_with_logits(question, context, options.qa);
        out.push_back(format(r.answers, &r.logits, options.precision));
      } else {
        out.push_back(format(qa->answer(question, context, options.qa), nullptr, options.precision));
      }
    }
    return out;
  });
}

}  // namespace

Subcommand add_qa(CLI::App& parent) {
  auto options = std::make_shared<QaCliOptions>();
  CLI::App* app = parent.add_subcommand(
      "qa", "Extractive question answering: one {\"question\", \"context\"} per input line, its answers out");
  app->add_option("-m,--model", options->model,
                  "Checkpoint directory of a *ForQuestionAnswering (BERT, RoBERTa, XLM-R, ALBERT, ELECTRA, DistilBERT)")
      ->required();
  add_text_io_options(*app, options->io);
  add_run_options(*app, options->threads, options->compute);
  app->add_option("-k,--top-k", options->qa.top_k, "Answers per question, best first")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app->add_option("--doc-stride", options->qa.doc_stride,
                  "Context tokens shared by consecutive windows; default min(max-seq-len / 2, 128)");
  app->add_option("--max-answer-len", options->qa.max_answer_len, "Longest answer, in tokens")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app->add_option("--max-seq-len", options->qa.max_seq_len,
                  "Window length in tokens (question + context + special tokens); default min(model_max_length, "
                  "384)")
      ->check(CLI::PositiveNumber);
  app->add_option("--max-question-len", options->qa.max_question_len,
                  "Accepted for compatibility; as in transformers' fast-tokenizer pipeline the question is not cut")
      ->capture_default_str();
  app->add_flag("--handle-impossible-answer", options->qa.handle_impossible_answer,
                "Let the empty answer {\"answer\": \"\", \"start\": 0, \"end\": 0} compete, scored from the first "
                "token ([CLS] / <s>)");
  app->add_flag("--no-align-to-words", options->no_align_to_words,
                "Answers from token offsets, not widened to whole words");
  app->add_flag("--logits", options->logits,
                "Also write the raw \"start_logits\" and \"end_logits\", [windows][tokens] each");
  app->add_option("--precision", options->precision,
                  "Significant digits of each float; 0 = shortest text that reads back as the same float")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  app->footer(
      "Input line:  {\"question\": \"Where do I live?\", \"context\": \"My name is Wolfgang and I live in Berlin\"}\n"
      "Output line: {\"answers\": [{\"score\": 0.91, \"start\": 34, \"end\": 40, \"answer\": \"Berlin\"}]}\n"
      "             start/end are character (code point) offsets into the context. With --logits also\n"
      "             \"start_logits\" and \"end_logits\": [windows][tokens] (windows shorter than the longest padded\n"
      "             with 0).\n"
      "Bad line:    {\"error\": \"<what is wrong>\", \"line\": <1-based input line number>} in its place (also an\n"
      "             empty question or context, as transformers refuses them).\n"
      "Exit status: 0 all lines processed; 1 some lines rejected; 2 bad model directory, input or output file,\n"
      "             or command line; 3 internal error.\n");
  return {app, [options] { return run_qa(*options); }};
}

}  // namespace bertcpp::cli
