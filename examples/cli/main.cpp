// bertcpp - the command line: JSON lines in, JSON lines out. See docs/cli.md, or `bertcpp <command> --help`.
#include <exception>
#include <iostream>
#include <vector>

#include <CLI/CLI.hpp>

#include "app.hpp"

int main(int argc, char** argv) {
  using namespace bertcpp::cli;
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
      if (subcommand.app->parsed()) return subcommand.run();
    }
  } catch (const std::exception& e) {
    std::cerr << "bertcpp: internal error: " << e.what() << '\n';
    return exit_internal;
  }
  return exit_setup;  // unreachable: require_subcommand(1)
}
