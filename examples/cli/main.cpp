// bertcpp - the command line: JSON lines in, JSON lines out. See docs/cli.md, or `bertcpp <command> --help`.
#include <cstdlib>
#include <exception>
#include <iostream>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "api/model_access.hpp"
#include "app.hpp"

namespace {

// OpenMP threads that wait for work spin before they sleep. With libgomp's default (300,000 spins, several ms)
// two bertcpp processes on the same cores starve each other: each one's waiting thread burns the core the other
// needs (measured: two `encode` runs side by side took 2.8-15 s each against 0.9 s alone). 3,000 spins keeps a
// single process as fast and two side by side within ~2x of one alone (docs/cli.md, "Threads"). libgomp reads
// the setting once, when it is loaded - before main - so the CLI re-executes itself with it once, unless the user
// chose a policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT set: theirs is kept). If the re-exec fails, it runs as is.
void set_openmp_spin_default(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  if (::setenv("GOMP_SPINCOUNT", "3000", 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  ::unsetenv("GOMP_SPINCOUNT");  // exec failed: carry on with libgomp's default
}

}  // namespace

int main(int argc, char** argv) {
  using namespace bertcpp::cli;
  set_openmp_spin_default(argv);
  std::ios::sync_with_stdio(false);

  CLI::App app{"bertcpp: BERT-family encoder inference on Hugging Face checkpoints (JSON lines in and out)",
               "bertcpp"};
  app.require_subcommand(1);
  app.footer("Run `bertcpp <command> --help` for a command's options and record format.");

  // One line per subcommand; each lives in its own file.
  const std::vector<Subcommand> subcommands = {
      add_encode(app),
      add_tokenize(app),
      add_bench(app),
      add_ner(app),
      add_qa(app),
      add_classify(app),
      add_nsp(app),
      add_fill_mask(app),
      add_embed(app),
      add_rtd(app),
      add_sop(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);  // prints help / the parse error
    return status == 0 ? exit_ok : exit_setup;
  }

  try {
    for (const auto& subcommand : subcommands) {
      if (!subcommand.app->parsed()) continue;
      const int status = subcommand.run();
      // Diagnostic (docs/cli.md): how many encoder passes the command ran, e.g. one per window batch for
      // `ner --logits` / `qa --logits`.
      if (std::getenv("BERTCPP_REPORT_ENCODER_PASSES")) {
        std::cerr << "bertcpp: encoder passes: " << bertcpp::internal::encoder_passes() << '\n';
      }
      return status;
    }
  } catch (const std::exception& e) {
    std::cerr << "bertcpp: internal error: " << e.what() << '\n';
    return exit_internal;
  }
  return exit_setup;  // unreachable: require_subcommand(1)
}
