// `bertcpp nsp`: sentence pairs in, the probability that the second follows the first out (docs/cli.md).
#include <memory>
#include <string>
#include <vector>

#include "app.hpp"
#include "bertcpp/pipelines.hpp"
#include "jsonl.hpp"
#include "text_io.hpp"

namespace bertcpp::cli {
namespace {

struct NspCommand {
  std::string model;
  TextIoOptions io;
  int threads = 0;
  bool logits = false;
  int precision = 0;
};

int run_nsp(const NspCommand& options) {
  LoadOptions load;
  load.threads = options.threads;
  const auto predictor = load_pipeline_or_report<NextSentencePredictor>("nsp", options.model, load);
  if (!predictor) return exit_setup;
  return run_text_lines("nsp", options.io, [&](std::span<const TextRecord> records) {
    std::vector<std::string> out;
    for (const TextRecord& r : records) {
      const NextSentence result =
          predictor->predict(required_string(r.fields, "text"), required_string(r.fields, "text_pair"));
      std::string line = "{";
      append_key(line, "is_next");
      append_float(line, result.is_next, options.precision);
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

Subcommand add_nsp(CLI::App& parent) {
  auto options = std::make_shared<NspCommand>();
  CLI::App* app = parent.add_subcommand(
      "nsp", "Next-sentence prediction (cls.seq_relationship): {\"text\", \"text_pair\"} per line, p(is next) out");
  app->add_option("-m,--model", options->model, "Checkpoint directory with an NSP head (BertForPreTraining / "
                                                "BertForNextSentencePrediction)")
      ->required();
  add_text_io_options(*app, options->io);
  add_threads_option(*app, options->threads);
  app->add_flag("--logits", options->logits, "Also write the raw \"logits\" [2] (index 0: is next)");
  app->add_option("--precision", options->precision, "Significant digits per float; 0 = shortest exact")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  app->footer(
      "Input line:  {\"text\": \"The sky darkened.\", \"text_pair\": \"Rain began to fall.\"}\n"
      "Output line: {\"is_next\": 0.97, \"logits\": [2.1, -1.3]}   (logits only with --logits)\n"
      "Bad line:    {\"error\": \"<what is wrong>\", \"line\": <1-based input line number>} in its place.\n");
  return {app, [options] { return run_nsp(*options); }};
}

}  // namespace bertcpp::cli
