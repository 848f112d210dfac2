// `bertcpp rtd`: texts in, ELECTRA's replaced-token judgement of every token out (docs/cli.md).
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app.hpp"
#include "bertcpp/pipelines.hpp"
#include "jsonl.hpp"
#include "text_io.hpp"

namespace bertcpp::cli {
namespace {

struct RtdCommand {
  std::string model;
  TextIoOptions io;
  int threads = 0;
  ComputeType compute = ComputeType::fp32;
  bool skip_special = false;
  int precision = 0;
};

std::string quoted(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// {"tokens": [{"token", "id", "start", "end", "logit", "probability", "replaced", "special"}, ...]}
std::string format(const std::vector<TokenJudgement>& tokens, const RtdCommand& options) {
  std::string line = "{";
  append_key(line, "tokens");
  line += '[';
  bool first = true;
  for (const TokenJudgement& t : tokens) {
    if (options.skip_special && t.special) continue;
    if (!first) line += ',';
    first = false;
    line += '{';
    append_key(line, "token");
    line += quoted(t.token) + ',';
    append_key(line, "id");
    line += std::to_string(t.id) + ',';
    append_key(line, "start");
    line += std::to_string(t.start) + ',';
    append_key(line, "end");
    line += std::to_string(t.end) + ',';
    append_key(line, "logit");
    append_float(line, t.logit, options.precision);
    line += ',';
    append_key(line, "probability");
    append_float(line, t.probability, options.precision);
    line += ',';
    append_key(line, "replaced");
    line += t.replaced ? "true," : "false,";
    append_key(line, "special");
    line += t.special ? "true" : "false";
    line += '}';
  }
  line += "]}";
  return line;
}

int run_rtd(const RtdCommand& options) {
  LoadOptions load;
  load.threads = options.threads;
  load.compute = options.compute;
  const auto detector = load_pipeline_or_report<ReplacedTokenDetector>("rtd", options.model, load);
  if (!detector) return exit_setup;
  return run_text_lines("rtd", options.io, [&](std::span<const TextRecord> records) {
    std::vector<std::string> out;
    for (const TextRecord& r : records) out.push_back(format(detector->detect(required_string(r.fields, "text")), options));
    return out;
  });
}

}  // namespace

Subcommand add_rtd(CLI::App& parent) {
  auto options = std::make_shared<RtdCommand>();
  CLI::App* app = parent.add_subcommand(
      "rtd", "Replaced-token detection (ELECTRA discriminator): one {\"text\"} per line, a judgement per token out");
  app->add_option("-m,--model", options->model, "ELECTRA discriminator directory (ElectraForPreTraining)")->required();
  add_text_io_options(*app, options->io);
  add_run_options(*app, options->threads, options->compute);
  app->add_flag("--skip-special", options->skip_special, "Leave out special tokens ([CLS], [SEP], ...)");
  app->add_option("--precision", options->precision, "Significant digits per float; 0 = shortest exact")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  app->footer(
      "Input line:  {\"text\": \"The chef ate the meal.\"}\n"
      "Output line: {\"tokens\": [{\"token\": \"[CLS]\", \"id\": 101, \"start\": 0, \"end\": 0, \"logit\": -5.1,\n"
      "              \"probability\": 0.006, \"replaced\": false, \"special\": true}, ...]}\n"
      "             start/end: code-point offsets into the text; replaced: logit > 0; probability: sigmoid(logit)\n"
      "Bad line:    {\"error\": \"<what is wrong>\", \"line\": <1-based input line number>} in its place.\n");
  return {app, [options] { return run_rtd(*options); }};
}

}  // namespace bertcpp::cli
