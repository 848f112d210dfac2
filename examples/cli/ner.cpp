// `bertcpp ner`: texts in, named entities out, one JSON line each (docs/cli.md).
#include <cstddef>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app.hpp"
#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "jsonl.hpp"

namespace bertcpp::cli {
namespace {

struct NerCliOptions {
  std::string model;
  std::string input = "-";
  std::string output = "-";
  int threads = 0;
  Aggregation aggregation = Aggregation::none;
  std::vector<std::string> ignore_labels = {"O"};
  std::optional<std::size_t> stride;
  std::size_t max_length = 0;
  bool logits = false;
  int precision = 0;
  bool progress = false;
};

// {"text": "..."} -> the text; InvalidArgumentError naming what is wrong.
std::string parse_text(const std::string& line) {
  nlohmann::json record;
  try {
    record = nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    throw InvalidArgumentError(std::string("not JSON: ") + e.what());
  }
  if (!record.is_object()) throw InvalidArgumentError("expected a JSON object {\"text\": ...}");
  const auto text = record.find("text");
  if (text == record.end()) throw InvalidArgumentError("\"text\" is missing");
  if (!text->is_string()) throw InvalidArgumentError("\"text\" is not a string");
  return text->get<std::string>();
}

std::string format(const std::vector<Entity>& entities, const Tensor* logits, Aggregation aggregation,
                   int precision) {
  std::string out = "{";
  append_key(out, "entities");
  out += '[';
  for (std::size_t i = 0; i < entities.size(); ++i) {
    const Entity& e = entities[i];
    if (i) out += ',';
    out += '{';
    if (aggregation == Aggregation::none) {
      append_key(out, "entity");
      out += nlohmann::json(e.entity).dump() + ',';
    } else {
      append_key(out, "entity_group");
      out += nlohmann::json(e.entity_group).dump() + ',';
    }
    append_key(out, "score");
    append_float(out, e.score, precision);
    out += ',';
    if (aggregation == Aggregation::none) {
      append_key(out, "index");
      out += std::to_string(e.index) + ',';
    }
    append_key(out, "word");
    out += nlohmann::json(e.word).dump() + ',';
    append_key(out, "start");
    out += std::to_string(e.start) + ',';
    append_key(out, "end");
    out += std::to_string(e.end) + '}';
  }
  out += ']';
  if (logits) {  // [windows, tokens, labels]
    out += ',';
    append_key(out, "logits");
    out += '[';
    const auto tokens = static_cast<std::size_t>(logits->dim(1)), labels = static_cast<std::size_t>(logits->dim(2));
    for (std::int64_t w = 0; w < logits->dim(0); ++w) {
      if (w) out += ',';
      append_float_matrix(out, logits->row(w), tokens, labels, precision);
    }
    out += ']';
  }
  out += '}';
  return out;
}

int run_ner(const NerCliOptions& options) {
  LoadOptions load;
  load.threads = options.threads;
  std::optional<TokenClassifier> ner;
  try {
    ner = TokenClassifier::load(options.model, load);
  } catch (const Error& e) {
    std::cerr << "bertcpp ner: cannot load model '" << options.model << "': " << e.what() << " ["
              << to_string(e.code()) << "]\n";
    return exit_setup;
  }
  NerOptions ner_options;
  ner_options.aggregation = options.aggregation;
  ner_options.ignore_labels = options.ignore_labels;
  ner_options.stride = options.stride;
  ner_options.max_length = options.max_length;
  if (ner_options.stride && ner_options.aggregation == Aggregation::none) {
    std::cerr << "bertcpp ner: --stride needs --aggregation simple, first, average or max (as transformers)\n";
    return exit_setup;
  }

  std::unique_ptr<LineReader> reader;
  std::unique_ptr<LineWriter> writer;
  try {
    reader = std::make_unique<LineReader>(options.input);
    writer = std::make_unique<LineWriter>(options.output);
  } catch (const Error& e) {
    std::cerr << "bertcpp ner: " << e.what() << '\n';
    return exit_setup;
  }

  Progress progress("ner", options.progress);
  std::size_t lines = 0, errors = 0;
  try {
    std::string line;
    while (reader->next(line)) {
      ++lines;
      std::string out;
      try {
        const std::string text = parse_text(line);
        const auto entities = ner->recognize(text, ner_options);
        std::optional<Tensor> logits;
        if (options.logits) logits = ner->logits(text, ner_options);
        out = format(entities, logits ? &*logits : nullptr, options.aggregation, options.precision);
      } catch (const InvalidArgumentError& e) {  // a bad record, or a text the pipeline refuses
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
    std::cerr << "bertcpp ner: " << e.what() << '\n';
    return exit_setup;
  }
  progress.finish(lines, errors);
  if (errors) {
    std::cerr << "bertcpp ner: " << errors << " of " << lines << " input lines rejected (see the \"error\" records)\n";
    return exit_bad_lines;
  }
  return exit_ok;
}

}  // namespace

Subcommand add_ner(CLI::App& parent) {
  auto options = std::make_shared<NerCliOptions>();
  CLI::App* app = parent.add_subcommand(
      "ner", "Token classification (named entities) of texts: one {\"text\"} per input line, its entities out");
  app->add_option("-m,--model", options->model, "Checkpoint directory of a BertForTokenClassification")
      ->required();
  app->add_option("-i,--input", options->input, "JSON-lines input file; - for stdin")->capture_default_str();
  app->add_option("-o,--output", options->output, "JSON-lines output file; - for stdout")->capture_default_str();
  add_threads_option(*app, options->threads);
  const std::map<std::string, Aggregation> strategies = {{"none", Aggregation::none},
                                                         {"simple", Aggregation::simple},
                                                         {"first", Aggregation::first},
                                                         {"average", Aggregation::average},
                                                         {"max", Aggregation::max}};
  app->add_option("-a,--aggregation", options->aggregation,
                  "none (one record per token), simple, first, average or max (entity groups), as transformers")
      ->transform(CLI::CheckedTransformer(strategies, CLI::ignore_case))
      ->default_str("none");
  app->add_option("--ignore-labels", options->ignore_labels, "Labels left out of the output (default: O)")
      ->delimiter(',');
  app->add_option("--stride", options->stride,
                  "Split texts longer than the model's window into windows overlapping by this many tokens "
                  "(needs an aggregation other than none); default: truncate");
  app->add_option("--max-length", options->max_length,
                  "Window length in tokens, special tokens included; 0 = the tokenizer's model_max_length")
      ->capture_default_str();
  app->add_flag("--logits", options->logits, "Also write the raw \"logits\" [windows][tokens][labels]");
  app->add_option("--precision", options->precision,
                  "Significant digits of each float; 0 = shortest text that reads back as the same float")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  app->add_flag("--progress", options->progress,
                "Report progress on stderr once a second (default: only when stderr is a terminal)");
  app->footer(
      "Input line:  {\"text\": \"Angela Merkel visited Paris.\"} (other keys are ignored)\n"
      "Output line: {\"entities\": [{\"entity_group\": \"PER\", \"score\": 0.99, \"word\": \"angela merkel\", \"start\": 0,\n"
      "             \"end\": 13}, ...]} - with --aggregation none each entity is one token: {\"entity\": \"B-PER\",\n"
      "             \"score\", \"index\", \"word\", \"start\", \"end\"}. start/end are character (code point) offsets.\n"
      "             With --logits also \"logits\": [windows][tokens][labels].\n"
      "Bad line:    {\"error\": \"<what is wrong>\", \"line\": <1-based input line number>} in its place.\n"
      "Exit status: 0 all lines processed; 1 some lines rejected; 2 bad model directory, input or output file,\n"
      "             or command line; 3 internal error.\n");
  return {app, [options] { return run_ner(*options); }};
}

}  // namespace bertcpp::cli
