// `bertcpp qa`: questions with their contexts in, answers out, one JSON line each (docs/cli.md).
#include <cstddef>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "app.hpp"
#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "jsonl.hpp"

namespace bertcpp::cli {
namespace {

struct QaCliOptions {
  std::string model;
  std::string input = "-";
  std::string output = "-";
  int threads = 0;
  QaOptions qa;
  bool no_align_to_words = false;
  bool logits = false;
  int precision = 0;
  bool progress = false;
};

// {"question": "...", "context": "..."}; InvalidArgumentError naming what is wrong.
std::pair<std::string, std::string> parse_question(const std::string& line) {
  nlohmann::json record;
  try {
    record = nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    throw InvalidArgumentError(std::string("not JSON: ") + e.what());
  }
  if (!record.is_object()) throw InvalidArgumentError("expected a JSON object {\"question\": ..., \"context\": ...}");
  auto field = [&](const char* name) {
    const auto it = record.find(name);
    if (it == record.end()) throw InvalidArgumentError(std::string("\"") + name + "\" is missing");
    if (!it->is_string()) throw InvalidArgumentError(std::string("\"") + name + "\" is not a string");
    return it->get<std::string>();
  };
  std::string question = field("question");
  return {std::move(question), field("context")};
}

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
  LoadOptions load;
  load.threads = options.threads;
  std::optional<QuestionAnswerer> qa;
  try {
    qa = QuestionAnswerer::load(options.model, load);
  } catch (const Error& e) {
    std::cerr << "bertcpp qa: cannot load model '" << options.model << "': " << e.what() << " ["
              << to_string(e.code()) << "]\n";
    return exit_setup;
  }
  options.qa.align_to_words = !options.no_align_to_words;

  std::unique_ptr<LineReader> reader;
  std::unique_ptr<LineWriter> writer;
  try {
    reader = std::make_unique<LineReader>(options.input);
    writer = std::make_unique<LineWriter>(options.output);
  } catch (const Error& e) {
    std::cerr << "bertcpp qa: " << e.what() << '\n';
    return exit_setup;
  }

  Progress progress("qa", options.progress);
  std::size_t lines = 0, errors = 0;
  try {
    std::string line;
    while (reader->next(line)) {
      ++lines;
      std::string out;
      try {
        const auto [question, context] = parse_question(line);
        const auto answers = qa->answer(question, context, options.qa);
        std::optional<QuestionAnswerer::Logits> logits;
        if (options.logits) logits = qa->logits(question, context, options.qa);
        out = format(answers, logits ? &*logits : nullptr, options.precision);
      } catch (const InvalidArgumentError& e) {  // a bad record, or an input the pipeline refuses
        out = error_record(e.what(), reader->line_number());
        ++errors;
      } catch (const Utf8Error& e) {
        out = error_record(e.what(), reader->line_number());
        ++errors;
      }
      writer->write_line(out);
      writer->flush();
      progress.update(lines, errors);
    }
  } catch (const IoError& e) {
    std::cerr << "bertcpp qa: " << e.what() << '\n';
    return exit_setup;
  }
  progress.finish(lines, errors);
  if (errors) {
    std::cerr << "bertcpp qa: " << errors << " of " << lines << " input lines rejected (see the \"error\" records)\n";
    return exit_bad_lines;
  }
  return exit_ok;
}

}  // namespace

Subcommand add_qa(CLI::App& parent) {
  auto options = std::make_shared<QaCliOptions>();
  CLI::App* app = parent.add_subcommand(
      "qa", "Extractive question answering: one {\"question\", \"context\"} per input line, its answers out");
  app->add_option("-m,--model", options->model, "Checkpoint directory of a BertForQuestionAnswering")->required();
  app->add_option("-i,--input", options->input, "JSON-lines input file; - for stdin")->capture_default_str();
  app->add_option("-o,--output", options->output, "JSON-lines output file; - for stdout")->capture_default_str();
  add_threads_option(*app, options->threads);
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
                "Let the empty answer {\"answer\": \"\", \"start\": 0, \"end\": 0} compete, scored from [CLS]");
  app->add_flag("--no-align-to-words", options->no_align_to_words,
                "Answers from token offsets, not widened to whole words");
  app->add_flag("--logits", options->logits,
                "Also write the raw \"start_logits\" and \"end_logits\", [windows][tokens] each");
  app->add_option("--precision", options->precision,
                  "Significant digits of each float; 0 = shortest text that reads back as the same float")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  app->add_flag("--progress", options->progress,
                "Report progress on stderr once a second (default: only when stderr is a terminal)");
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
