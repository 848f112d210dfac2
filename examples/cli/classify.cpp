// `bertcpp classify`: texts (or text pairs) in, labels with scores out, as transformers' text-classification
// pipeline (docs/cli.md).
#include <memory>
#include <string>
#include <vector>

#include "app.hpp"
#include "bertcpp/pipelines.hpp"
#include "jsonl.hpp"
#include "text_io.hpp"

namespace bertcpp::cli {
namespace {

struct ClassifyCommand {
  std::string model;
  TextIoOptions io;
  int threads = 0;
  ComputeType compute = ComputeType::fp32;
  std::size_t top_k = 1;
  std::string function = "default";
  bool logits = false;
  int precision = 0;
};

// {"labels": [{"label": ..., "score": ...}, ...], "logits": [...]}
std::string format(const Classification& result, const ClassifyCommand& options) {
  std::string line = "{";
  append_key(line, "labels");
  line += '[';
  for (std::size_t i = 0; i < result.labels.size(); ++i) {
    if (i) line += ',';
    line += '{';
    append_key(line, "label");
    line += nlohmann::json(result.labels[i].label).dump();
    line += ',';
    append_key(line, "score");
    append_float(line, result.labels[i].score, options.precision);
    line += '}';
  }
  line += ']';
  if (options.logits) {
    line += ',';
    append_key(line, "logits");
    append_float_array(line, result.logits.data(), result.logits.size(), options.precision);
  }
  line += '}';
  return line;
}

int run_classify(const ClassifyCommand& options) {
  LoadOptions load;
  load.threads = options.threads;
  load.compute = options.compute;
  const auto classifier = load_pipeline_or_report<SequenceClassifier>("classify", options.model, load);
  if (!classifier) return exit_setup;
  ClassifyOptions classify;
  classify.top_k = options.top_k;
  classify.function_to_apply = options.function == "softmax"   ? ScoreFunction::softmax
                               : options.function == "sigmoid" ? ScoreFunction::sigmoid
                               : options.function == "none"    ? ScoreFunction::none
                                                               : ScoreFunction::automatic;
  return run_text_lines("classify", options.io, [&](std::span<const TextRecord> records) {
    std::vector<std::string> out;
    for (const TextRecord& r : records) {
      const std::string text = required_string(r.fields, "text");
      const auto pair = optional_string(r.fields, "text_pair");
      out.push_back(format(pair ? classifier->classify(text, *pair, classify) : classifier->classify(text, classify),
                           options));
    }
    return out;
  });
}

}  // namespace

Subcommand add_classify(CLI::App& parent) {
  auto options = std::make_shared<ClassifyCommand>();
  CLI::App* app = parent.add_subcommand(
      "classify",
      "Sequence classification (*ForSequenceClassification: BERT, RoBERTa, XLM-R, ALBERT, ELECTRA, DistilBERT): "
      "one {\"text\"} per line, labels out");
  app->add_option("-m,--model", options->model, "Checkpoint directory with a classifier head")->required();
  add_text_io_options(*app, options->io);
  add_run_options(*app, options->threads, options->compute);
  app->add_option("-k,--top-k", options->top_k, "Labels per text, best first; 0 = all")->capture_default_str();
  app->add_option("--function", options->function,
                  "Score function: default (sigmoid for one label or multi-label, else softmax), softmax, sigmoid, none")
      ->check(CLI::IsMember({"default", "softmax", "sigmoid", "none"}))
      ->capture_default_str();
  app->add_flag("--logits", options->logits, "Also write the raw \"logits\" [num_labels]");
  app->add_option("--precision", options->precision, "Significant digits per float; 0 = shortest exact")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  app->footer(
      "Input line:  {\"text\": \"a gripping film\"} or {\"text\": \"premise\", \"text_pair\": \"hypothesis\"}\n"
      "Output line: {\"labels\": [{\"label\": \"POSITIVE\", \"score\": 0.98}], \"logits\": [...]}\n"
      "             logits only with --logits. Texts longer than the model's window are truncated.\n"
      "Bad line:    {\"error\": \"<what is wrong>\", \"line\": <1-based input line number>} in its place.\n");
  return {app, [options] { return run_classify(*options); }};
}

}  // namespace bertcpp::cli
