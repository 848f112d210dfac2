// The `bertcpp` command line: one subcommand per file (encode.cpp, bench.cpp, ...), registered in main.cpp.
//
// Adding a subcommand `foo`: write foo.cpp defining `Subcommand add_foo(CLI::App& parent)` (declare its options
// on parent.add_subcommand("foo", ...), return the function that runs it), declare it below, and add one line to
// the list in main.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "bertcpp/model.hpp"

namespace bertcpp::cli {

// Exit statuses shared by every subcommand (documented in docs/cli.md).
enum ExitStatus : int {
  exit_ok = 0,
  exit_bad_lines = 1,  // some input lines were rejected (each got an {"error", "line"} record)
  exit_setup = 2,      // bad command line, model directory or input/output file: nothing was processed
  exit_internal = 3,   // an unexpected failure (a bug): message on stderr
};

struct Subcommand {
  CLI::App* app = nullptr;    // the parsed subcommand; truthy when it was selected
  std::function<int()> run;   // runs it, returns the exit status
};

Subcommand add_encode(CLI::App& parent);
Subcommand add_tokenize(CLI::App& parent);
Subcommand add_bench(CLI::App& parent);
Subcommand add_ner(CLI::App& parent);
Subcommand add_qa(CLI::App& parent);
Subcommand add_classify(CLI::App& parent);
Subcommand add_nsp(CLI::App& parent);
Subcommand add_fill_mask(CLI::App& parent);
Subcommand add_embed(CLI::App& parent);
Subcommand add_rtd(CLI::App& parent);
Subcommand add_sop(CLI::App& parent);

// Loads the model (its load warnings printed to stderr, see with_warnings_on_stderr), or prints
// "bertcpp <command>: cannot load model '<dir>': <reason>" to stderr and returns
// nullopt (the caller exits with exit_setup).
std::optional<BertModel> load_model_or_report(std::string_view command, const std::string& dir,
                                              const LoadOptions& options);

// The options of every subcommand that runs a model: --threads (LoadOptions::threads) and
// --compute fp32|int8|bf16 (LoadOptions::compute).
void add_run_options(CLI::App& app, int& threads, ComputeType& compute);
// "--max-line-bytes N": the longest input line accepted (longer ones get an error record).
void add_max_line_bytes_option(CLI::App& app, std::size_t& max_line_bytes);

// Progress on stderr: at most once a second, only when enabled (stderr is a terminal, or --progress).
// On a terminal the line is rewritten in place; otherwise one line per report.
class Progress {
 public:
  Progress(std::string_view command, bool forced);
  // Called after each processed line; cheap when nothing is printed.
  void update(std::size_t lines, std::size_t errors);
  // Prints the final count (when enabled).
  void finish(std::size_t lines, std::size_t errors);

 private:
  void print(std::size_t lines, std::size_t errors, bool final);
  std::string command_;
  bool enabled_ = false;
  bool terminal_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace bertcpp::cli
