// `bertcpp ner`: texts in, named entities out, one JSON line each (docs/cli.md).
#include <cstddef>
#include <iostream>
#include <map>
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

struct NerCliOptions {
  std::string model;
  TextIoOptions io;
  int threads = 0;
  ComputeType compute = ComputeType::fp32;
  std::string aggregation_name = "none";
  Aggregation aggregation = Aggregation::none;  // from aggregation_name
  std::vector<std::string> ignore_labels = {"O"};
  std::optional<std::size_t> stride;
  std::size_t max_length = 0;
  bool logits = false;
  int precision = 0;
};

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

int run_ner(NerCliOptions options) {
  const std::map<std::string, Aggregation> strategies = {{"none", Aggregation::none},
                                                         {"simple", Aggregation::simple},
                                                         {"first", Aggregation::first},
                                                         {"average", Aggregation::average},
                                                         {"max", Aggregation::max}};
  options.aggregation = strategies.at(options.aggregation_name);
  NerOptions ner_options;
  ner_options.aggregation = options.aggregation;
  ner_options.ignore_labels = options.ignore_labels;
  ner_options.stride = options.stride;
  ner_options.max_length = options.max_length;
  if (ner_options.stride && ner_options.aggregation == Aggregation::none) {
    std::cerr << "bertcpp ner: --stride needs --aggregation simple, first, average or max (as transformers)\n";
    return exit_setup;
  }
  LoadOptions load;
  load.threads = options.threads;
  load.compute = options.compute;
  const auto ner = load_pipeline_or_report<TokenClassifier>("ner", options.model, load);
  if (!ner) return exit_setup;
  return run_text_lines("ner", options.io, [&](std::span<const TextRecord> records) {
    std::vector<std::string> out;
    for (const TextRecord& r : records) {
      const std::string text = required_string(r.fields, "text");
      if (options.logits) {  // entities and logits from one encoder pass
        const TokenClassifier::Recognition r = ner->recognize_with_logits(text, ner_options);
        out.push_back(format(r.entities, &r.logits, options.aggregation, options.precision));
      } else {
        out.push_back(format(ner->recognize(text, ner_options), nullptr, options.aggregation, options.precision));
      }
    }
    return out;
  });
}

}  // namespace

Subcommand add_ner(CLI::App& parent) {
  auto options = std::make_shared<NerCliOptions>();
  CLI::App* app = parent.add_subcommand(
      "ner", "Token classification (named entities) of texts: one {\"text\"} per input line, its entities out");
  app->add_option("-m,--model", options->model,
                  "Checkpoint directory of a *ForTokenClassification (BERT, RoBERTa, XLM-R, ALBERT, ELECTRA, DistilBERT)")
      ->required();
  add_text_io_options(*app, options->io);
  add_run_options(*app, options->threads, options->compute);
  app->add_option("-a,--aggregation", options->aggregation_name,
                  "none (one record per token), simple, first, average or max (entity groups), as transformers")
      ->check(CLI::IsMember({"none", "simple", "first", "average", "max"}))
      ->capture_default_str();
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
