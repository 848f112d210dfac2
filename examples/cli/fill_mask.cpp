// `bertcpp fill-mask`: texts with the mask token ([MASK], <mask>) in, the likeliest tokens for each mask out, as
// transformers' fill-mask pipeline (docs/cli.md).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app.hpp"
#include "bertcpp/pipelines.hpp"
#include "jsonl.hpp"
#include "text_io.hpp"

namespace bertcpp::cli {
namespace {

struct FillMaskCommand {
  std::string model;
  TextIoOptions io;
  int threads = 0;
  ComputeType compute = ComputeType::fp32;
  std::size_t top_k = 5;
  std::vector<std::string> targets;
  bool logits = false;
  int precision = 0;
};

// {"predictions": [[{"score", "token", "token_str", "sequence"}, ...] per mask], "logits": [masks][vocab]}
std::string format(const std::vector<std::vector<MaskPrediction>>& predictions, const Tensor* logits, int precision) {
  std::string line = "{";
  append_key(line, "predictions");
  line += '[';
  for (std::size_t m = 0; m < predictions.size(); ++m) {
    if (m) line += ',';
    line += '[';
    for (std::size_t i = 0; i < predictions[m].size(); ++i) {
      const MaskPrediction& p = predictions[m][i];
      if (i) line += ',';
      line += '{';
      append_key(line, "score");
      append_float(line, p.score, precision);
      line += ',';
      append_key(line, "token");
      line += std::to_string(p.token);
      line += ',';
      append_key(line, "token_str");
      line += nlohmann::json(p.token_str).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      line += ',';
      append_key(line, "sequence");
      line += nlohmann::json(p.sequence).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      line += '}';
    }
    line += ']';
  }
  line += ']';
  if (logits) {
    line += ',';
    append_key(line, "logits");
    append_float_matrix(line, logits->data.data(), static_cast<std::size_t>(logits->dim(0)),
                        static_cast<std::size_t>(logits->dim(1)), precision);
  }
  line += '}';
  return line;
}

int run_fill_mask(const FillMaskCommand& options) {
  LoadOptions load;
  load.threads = options.threads;
  load.compute = options.compute;
  const auto fill_mask = load_pipeline_or_report<FillMask>("fill-mask", options.model, load);
  if (!fill_mask) return exit_setup;
  FillMaskOptions fill;
  fill.top_k = options.top_k;
  fill.targets = options.targets;
  if (!fill.targets.empty()) {
    // transformers warns about targets that are not vocabulary tokens; so does this.
    try {
      const FillMask::Targets resolved = fill_mask->resolve_targets(fill.targets);
      for (const auto& r : resolved.replaced) std::cerr << "bertcpp fill-mask: target not in the vocabulary, using " << r << '\n';
      for (const auto& d : resolved.dropped) std::cerr << "bertcpp fill-mask: target '" << d << "' tokenizes to nothing, ignored\n";
    } catch (const Error& e) {
      std::cerr << "bertcpp fill-mask: --targets: " << e.what() << '\n';
      return exit_setup;
    }
  }
  return run_text_lines("fill-mask", options.io, [&](std::span<const TextRecord> records) {
    std::vector<std::string> out;
    for (const TextRecord& r : records) {
      const std::string text = required_string(r.fields, "text");
      const auto predictions = fill_mask->fill(text, fill);
      if (options.logits) {
        const Tensor logits = fill_mask->logits(text);
        out.push_back(format(predictions, &logits, options.precision));
      } else {
        out.push_back(format(predictions, nullptr, options.precision));
      }
    }
    return out;
  });
}

}  // namespace

Subcommand add_fill_mask(CLI::App& parent) {
  auto options = std::make_shared<FillMaskCommand>();
  CLI::App* app = parent.add_subcommand(
      "fill-mask", "Masked-token prediction (*ForMaskedLM of any variant): one {\"text\"} with the mask token per line, "
      "candidates out");
  app->add_option("-m,--model", options->model,
                  "Checkpoint directory with an MLM head (BERT cls.predictions, RoBERTa / XLM-R lm_head, ALBERT "
                  "predictions, ELECTRA generator, DistilBERT vocab_*)")
      ->required();
  add_text_io_options(*app, options->io);
  add_run_options(*app, options->threads, options->compute);
  app->add_option("-k,--top-k", options->top_k, "Candidates per mask, best first")->capture_default_str();
  app->add_option("--targets", options->targets,
                  "Only score these tokens (comma-separated or repeated); a word outside the vocabulary is replaced "
                  "by its first word piece, with a warning")
      ->delimiter(',');
  app->add_flag("--logits", options->logits, "Also write the raw vocabulary \"logits\" [masks][vocab_size] (large)");
  app->add_option("--precision", options->precision, "Significant digits per float; 0 = shortest exact")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  app->footer(
      "Input line:  {\"text\": \"Paris is the [MASK] of France.\"}\n"
      "Output line: {\"predictions\": [[{\"score\": 0.91, \"token\": 3007, \"token_str\": \"capital\",\n"
      "              \"sequence\": \"paris is the capital of france.\"}, ...]]}   one list per mask\n"
      "Bad line:    {\"error\": \"<what is wrong>\", \"line\": <1-based input line number>} in its place\n"
      "             (e.g. a text without the mask token: [MASK] for BERT / ALBERT / ELECTRA / DistilBERT,\n"
      "             <mask> for RoBERTa / XLM-R - whatever the tokenizer's mask_token is).\n");
  return {app, [options] { return run_fill_mask(*options); }};
}

}  // namespace bertcpp::cli
