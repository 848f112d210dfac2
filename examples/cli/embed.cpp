// `bertcpp embed`: texts in, sentence embeddings out, as SentenceTransformer.encode (docs/cli.md).
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app.hpp"
#include "bertcpp/pipelines.hpp"
#include "jsonl.hpp"
#include "text_io.hpp"

namespace bertcpp::cli {
namespace {

struct EmbedCommand {
  std::string model;
  TextIoOptions io;
  int threads = 0;
  ComputeType compute = ComputeType::fp32;
  int precision = 0;
  std::optional<std::string> prompt, prompt_name;
  std::optional<std::size_t> truncate_dim;
};

int run_embed(const EmbedCommand& options) {
  LoadOptions load;
  load.threads = options.threads;
  load.compute = options.compute;
  const auto embedder = load_pipeline_or_report<SentenceEmbedder>("embed", options.model, load);
  if (!embedder) return exit_setup;
  if (options.prompt_name && !embedder->config().prompts.contains(*options.prompt_name)) {
    std::string names;
    for (const auto& [name, text] : embedder->config().prompts) names += (names.empty() ? "" : ", ") + name;
    std::cerr << "bertcpp embed: --prompt-name '" << *options.prompt_name << "' is not one of the model's prompts ("
              << (names.empty() ? "none" : names) << ")\n";
    return exit_setup;
  }
  EmbedOptions embed;
  embed.prompt = options.prompt;
  embed.prompt_name = options.prompt_name;
  embed.truncate_dim = options.truncate_dim;
  return run_text_lines("embed", options.io, [&](std::span<const TextRecord> records) {
    std::vector<std::string> texts;
    for (const TextRecord& r : records) texts.push_back(required_string(r.fields, "text"));
    // One encode() per batch of lines: the embedder batches them through the encoder.
    embed.batch_size = texts.size();
    const Tensor embeddings = embedder->encode(texts, embed);  // [lines, dimension]
    const auto H = static_cast<std::size_t>(embeddings.dim(1));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      std::string line = "{";
      append_key(line, "embedding");
      append_float_array(line, embeddings.row(static_cast<std::int64_t>(i)), H, options.precision);
      line += '}';
      out.push_back(std::move(line));
    }
    return out;
  });
}

}  // namespace

Subcommand add_embed(CLI::App& parent) {
  auto options = std::make_shared<EmbedCommand>();
  CLI::App* app = parent.add_subcommand(
      "embed", "Sentence embeddings (sentence-transformers pooling / normalization): one {\"text\"} per line");
  app->add_option("-m,--model", options->model,
                  "Model directory: a sentence-transformers model (modules.json) or a plain checkpoint (mean pooling)")
      ->required();
  add_text_io_options(*app, options->io);
  add_run_options(*app, options->threads, options->compute);
  app->add_option("--precision", options->precision, "Significant digits per float; 0 = shortest exact")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  app->add_option("--prompt", options->prompt,
                  "Text prepended to every input (as SentenceTransformer.encode(prompt=...)); \"\" turns the model's "
                  "default prompt off");
  app->add_option("--prompt-name", options->prompt_name,
                  "One of the model's prompts (config_sentence_transformers.json), e.g. query (\"query\" and "
                  "\"document\" always exist, empty unless the model sets them, as encode_query / encode_document "
                  "use them); default: the model's default_prompt_name, if any")
      ->excludes("--prompt");
  app->add_option("--truncate-dim", options->truncate_dim,
                  "Keep the first N values of each embedding (Matryoshka models; as SentenceTransformer.encode("
                  "truncate_dim=N)); larger than the embedding: no effect")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  app->footer(
      "Input line:  {\"text\": \"A man is playing a guitar.\"}\n"
      "Output line: {\"embedding\": [0.0123, -0.0456, ...]}   (hidden_size floats per pooling mode, or the last "
      "Dense module's out_features; at most --truncate-dim)\n"
      "Bad line:    {\"error\": \"<what is wrong>\", \"line\": <1-based input line number>} in its place.\n");
  return {app, [options] { return run_embed(*options); }};
}

}  // namespace bertcpp::cli
