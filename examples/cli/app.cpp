#include "app.hpp"

#include <cstdio>
#include <iostream>
#include <string>

#include <unistd.h>

#include "bertcpp/error.hpp"
#include "text_io.hpp"

namespace bertcpp::cli {

std::optional<BertModel> load_model_or_report(std::string_view command, const std::string& dir,
                                              const LoadOptions& options) {
  try {
    return BertModel::load(dir, with_warnings_on_stderr(command, options));
  } catch (const Error& e) {
    std::cerr << "bertcpp " << command << ": cannot load model '" << dir << "': " << e.what() << " ["
              << to_string(e.code()) << "]\n";
  } catch (const std::exception& e) {
    std::cerr << "bertcpp " << command << ": cannot load model '" << dir << "': " << e.what() << '\n';
  }
  return std::nullopt;
}

void add_run_options(CLI::App& app, int& threads, ComputeType& compute) {
  app.add_option("--threads", threads, "Threads per forward call; 0 = all cores (or OMP_NUM_THREADS)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option_function<std::string>(
         "--compute", [&compute](const std::string& name) { compute = *parse_compute_type(name); },
         "Arithmetic of the encoder's matrix products: fp32, int8 (dynamic quantization, ~2x faster, see "
         "docs/quantization.md) or bf16 (CPUs with AVX512-BF16 or AMX only)")
      ->check(CLI::IsMember({"fp32", "int8", "bf16"}))
      ->default_str("fp32");
}

void add_max_line_bytes_option(CLI::App& app, std::size_t& max_line_bytes) {
  app.add_option("--max-line-bytes", max_line_bytes,
                 "Longest input line accepted, in bytes; a longer line gets an error record and is skipped")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

Progress::Progress(std::string_view command, bool forced)
    : command_(command), terminal_(::isatty(STDERR_FILENO) == 1) {
  enabled_ = forced || terminal_;
  start_ = last_ = std::chrono::steady_clock::now();
}

void Progress::update(std::size_t lines, std::size_t errors) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::seconds(1)) return;
  last_ = now;
  print(lines, errors, false);
}

void Progress::finish(std::size_t lines, std::size_t errors) {
  if (enabled_) print(lines, errors, true);
}

void Progress::print(std::size_t lines, std::size_t errors, bool final) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(lines) / seconds : 0.0;
  std::fprintf(stderr, "%sbertcpp %s: %zu lines, %zu errors, %.1f lines/s, %.1f s%s", terminal_ ? "\r" : "",
               command_.c_str(), lines, errors, rate, seconds, final || !terminal_ ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace bertcpp::cli
