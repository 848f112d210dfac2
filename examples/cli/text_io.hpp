// The loop shared by the subcommands that take text records (classify, nsp, fill-mask, embed): read JSON lines,
// run them in batches, write one output line per input line in input order, an {"error", "line"} record in place
// of a line that fails, progress on stderr, and the exit status of docs/cli.md.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "bertcpp/model.hpp"
#include "jsonl.hpp"

namespace bertcpp::cli {

// A parsed input line.
struct TextRecord {
  std::size_t line_number = 0;
  nlohmann::json fields;  // the line's JSON object
};

struct TextIoOptions {
  std::string input = "-";
  std::string output = "-";
  std::size_t max_line_bytes = kDefaultMaxLineBytes;
  std::size_t batch_size = 8;
  bool progress = false;
};

// --input, --output, --max-line-bytes, --batch-size, --progress.
void add_text_io_options(CLI::App& app, TextIoOptions& options);

// Runs `records` and returns one output line each. A bertcpp::Error thrown for a batch of several records makes the
// loop retry them one by one, so that the error record lands on the line that caused it.
using TextBatchHandler = std::function<std::vector<std::string>(std::span<const TextRecord> records)>;

// Returns exit_ok, exit_bad_lines (some lines got error records) or exit_setup (input/output file unusable).
int run_text_lines(std::string_view command, const TextIoOptions& options, const TextBatchHandler& handler);

// One input line as a JSON object: InvalidArgumentError "not valid JSON: ..." (also for a NUL byte or nesting
// deeper than 128 levels) or "expected a JSON object with \"text\", found <type>".
nlohmann::json parse_text_record(const std::string& line);

// Field access with InvalidArgumentError messages naming the field: "missing \"text\"",
// "\"text\" must be a string, found number". An optional field may be absent or null.
std::string required_string(const nlohmann::json& record, const char* field);
std::optional<std::string> optional_string(const nlohmann::json& record, const char* field);

// `options` whose on_warning prints each load warning (BertModel::load_warnings) once to stderr:
// "bertcpp <command>: warning: <message>".
inline LoadOptions with_warnings_on_stderr(std::string_view command, LoadOptions options) {
  options.on_warning = [command = std::string(command)](const std::string& warning) {
    std::cerr << "bertcpp " << command << ": warning: " << warning << '\n';
  };
  return options;
}

// Pipeline::load(dir, options) with load warnings printed to stderr, or prints "bertcpp <command>: cannot load model '<dir>': <reason> [<code>]" to stderr
// and returns nullopt (the caller exits with exit_setup).
template <typename Pipeline>
std::optional<Pipeline> load_pipeline_or_report(std::string_view command, const std::string& dir,
                                                const LoadOptions& options) {
  try {
    return Pipeline::load(dir, with_warnings_on_stderr(command, options));
  } catch (const Error& e) {
    std::cerr << "bertcpp " << command << ": cannot load model '" << dir << "': " << e.what() << " ["
              << to_string(e.code()) << "]\n";
  }
  return std::nullopt;
}

}  // namespace bertcpp::cli
