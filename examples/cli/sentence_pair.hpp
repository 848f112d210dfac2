// The shape `nsp` and `sop` share: {"text", "text_pair"} per line in, one probability (and optionally the two
// logits) per line out, from a pipeline whose predict(text, text_pair) returns a result with `logits`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app.hpp"
#include "jsonl.hpp"
#include "text_io.hpp"

namespace bertcpp::cli {

struct SentencePairCommand {
  const char* name;            // subcommand, e.g. "nsp"
  const char* description;     // one line for --help
  const char* model_help;      // what --model must hold
  const char* field;           // output field of the probability, e.g. "is_next"
  const char* logits_help;     // what the two logits mean
  const char* output_example;  // an output line for the footer
};

// `probability(result)` picks the probability written under `command.field`.
template <class Predictor, class Probability>
Subcommand add_sentence_pair_command(CLI::App& parent, const SentencePairCommand& command, Probability probability) {
  struct Options {
    std::string model;
    TextIoOptions io;
    int threads = 0;
    ComputeType compute = ComputeType::fp32;
    bool logits = false;
    int precision = 0;
  };
  auto options = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand(command.name, command.description);
  app->add_option("-m,--model", options->model, command.model_help)->required();
  add_text_io_options(*app, options->io);
  add_run_options(*app, options->threads, options->compute);
  app->add_flag("--logits", options->logits, std::string("Also write the raw \"logits\" [2] (") + command.logits_help + ")");
  app->add_option("--precision", options->precision, "Significant digits per float; 0 = shortest exact")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  app->footer(std::string("Input line:  {\"text\": \"The sky darkened.\", \"text_pair\": \"Rain began to fall.\"}\n") +
              "Output line: " + command.output_example + "   (logits only with --logits)\n" +
              "Bad line:    {\"error\": \"<what is wrong>\", \"line\": <1-based input line number>} in its place.\n");
  return {app, [options, command, probability]() -> int {
            LoadOptions load;
            load.threads = options->threads;
            load.compute = options->compute;
            const auto predictor = load_pipeline_or_report<Predictor>(command.name, options->model, load);
            if (!predictor) return exit_setup;
            return run_text_lines(command.name, options->io, [&](std::span<const TextRecord> records) {
              std::vector<std::string> out;
              for (const TextRecord& r : records) {
                const auto result =
                    predictor->predict(required_string(r.fields, "text"), required_string(r.fields, "text_pair"));
                std::string line = "{";
                append_key(line, command.field);
                append_float(line, probability(result), options->precision);
                if (options->logits) {
                  line += ',';
                  append_key(line, "logits");
                  append_float_array(line, result.logits.data(), result.logits.size(), options->precision);
                }
                line += '}';
                out.push_back(std::move(line));
              }
              return out;
            });
          }};
}

}  // namespace bertcpp::cli
