// `bertcpp sop`: sentence pairs in, ALBERT's probability that they are in their original order out (docs/cli.md).
#include <memory>
#include <string>
#include <vector>

#include "app.hpp"
#include "bertcpp/pipelines.hpp"
#include "jsonl.hpp"
#include "text_io.hpp"

namespace bertcpp::cli {
namespace {

struct SopCommand {
  std::string model;
  TextIoOptions io;
  int threads = 0;
  bool logits = false;
  int precision = 0;
};

int run_sop(const SopCommand& options) {
  LoadOptions load;
  load.threads = options.threads;
  const auto predictor = load_pipeline_or_report<SentenceOrderPredictor>("sop", options.model, load);
  if (!predictor) return exit_setup;
  return run_text_lines("sop", options.io, [&](std::span<const TextRecord> records) {
    std::vector<std::string> out;
    for (const TextRecord& r : records) {
      const SentenceOrder result =
          predictor->predict(required_string(r.fields, "text"), required_string(r.fields, "text_pair"));
      std::string line = "{";
      append_key(line, "in_order");
      append_float(line, result.in_order, options.precision);
      if (options.logits) {
        line += ',';
        append_key(line, "logits");
        append_float_array(line, result.logits.data(), result.logits.size(), options.precision);
      }
      line += '}';
      out.push_back(std::move(line));
    }
    return out;
  });
}

}  // namespace

Subcommand add_sop(CLI::App& parent) {
  auto options = std::make_shared<SopCommand>();
  CLI::App* app = parent.add_subcommand(
      "sop", "Sentence-order prediction (ALBERT sop_classifier): {\"text\", \"text_pair\"} per line, p(in order) out");
  app->add_option("-m,--model", options->model, "ALBERT directory with an SOP head (AlbertForPreTraining)")->required();
  add_text_io_options(*app, options->io);
  add_threads_option(*app, options->threads);
  app->add_flag("--logits", options->logits, "Also write the raw \"logits\" [2] (index 0: original order, 1: swapped)");
  app->add_option("--precision", options->precision, "Significant digits per float; 0 = shortest exact")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  app->footer(
      "Input line:  {\"text\": \"The sky darkened.\", \"text_pair\": \"Rain began to fall.\"}\n"
      "Output line: {\"in_order\": 0.93, \"logits\": [1.6, -1.0]}   (logits only with --logits)\n"
      "Bad line:    {\"error\": \"<what is wrong>\", \"line\": <1-based input line number>} in its place.\n");
  return {app, [options] { return run_sop(*options); }};
}

}  // namespace bertcpp::cli
