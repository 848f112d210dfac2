// `bertcpp bench`: latency of BertModel::forward on one batch, as one JSON object (for bench/compare_runtimes.py).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <iostream>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <omp.h>

#include "app.hpp"
#include "bertcpp/error.hpp"
#include "jsonl.hpp"

namespace bertcpp::cli {
namespace {

struct BenchOptions {
  std::string model;
  std::string input;  // empty: random ids
  std::int64_t batch = 1;
  std::int64_t seq_len = 128;
  int iters = 10;
  int warmup = 2;
  int threads = 0;
  ComputeType compute = ComputeType::fp32;
  std::uint32_t seed = 0;
  bool no_pooler = false;
};

// Every line of the file is one sequence of the batch. Throws InvalidArgumentError naming the line.
Batch read_batch(const std::string& path, const RecordLimits& limits) {
  LineReader reader(path);
  Batch batch;
  std::string text;
  while (reader.next(text)) {
    try {
      if (reader.line_too_long()) throw InvalidArgumentError(reader.too_long_message());
      auto record = parse_token_record(text, limits);
      batch.add(std::move(record.input_ids), std::move(record.token_type_ids), std::move(record.attention_mask));
    } catch (const InvalidArgumentError& e) {
      throw InvalidArgumentError(path + ":" + std::to_string(reader.line_number()) + ": " + e.what());
    }
  }
  if (batch.size() == 0) throw InvalidArgumentError(path + ": no input lines");
  return batch;
}

// batch x seq_len uniformly random ids of the vocabulary.
Batch random_batch(const BenchOptions& options, const ModelConfig& config) {
  if (options.seq_len > config.max_sequence_length) {
    throw InvalidArgumentError("--seq " + std::to_string(options.seq_len) + " exceeds the model's max_sequence_length " +
                               std::to_string(config.max_sequence_length));
  }
  std::mt19937 rng(options.seed);
  std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(config.vocab_size - 1));
  Batch batch;
  for (std::int64_t b = 0; b < options.batch; ++b) {
    std::vector<std::int32_t> ids(static_cast<std::size_t>(options.seq_len));
    for (auto& x : ids) x = id(rng);
    batch.add(std::move(ids));
  }
  return batch;
}

nlohmann::json env_or_null(const char* name) {
  const char* value = std::getenv(name);
  return value ? nlohmann::json(value) : nlohmann::json(nullptr);
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

int run_bench(const BenchOptions& options) {
  LoadOptions load;
  load.threads = options.threads;
  load.compute = options.compute;
  load.pooler_output = !options.no_pooler;
  const auto load_start = std::chrono::steady_clock::now();
  const auto model = load_model_or_report("bench", options.model, load);
  if (!model) return exit_setup;
  const double load_ms = milliseconds_since(load_start);

  Batch batch;
  try {
    batch = options.input.empty() ? random_batch(options, model->config())
                                  : read_batch(options.input, RecordLimits::from(model->config()));
    model->forward(batch);  // validates the batch before anything is timed
  } catch (const Error& e) {
    std::cerr << "bertcpp bench: " << e.what() << '\n';
    return exit_setup;
  }

  for (int i = 0; i < options.warmup; ++i) model->forward(batch);
  std::vector<double> ms;
  for (int i = 0; i < options.iters; ++i) {
    const auto start = std::chrono::steady_clock::now();
    model->forward(batch);
    ms.push_back(milliseconds_since(start));
  }

  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  std::int64_t tokens = 0, seq_len = 0;
  for (const auto& ids : batch.input_ids) {
    tokens += static_cast<std::int64_t>(ids.size());
    seq_len = std::max(seq_len, static_cast<std::int64_t>(ids.size()));
  }
  nlohmann::ordered_json report = {
      {"model", options.model},
      {"batch", batch.size()},
      {"seq_len", seq_len},
      {"tokens", tokens},
      {"threads", options.threads > 0 ? options.threads : omp_get_max_threads()},
      {"compute", std::string(to_string(options.compute))},
      {"iters", options.iters},
      {"warmup", options.warmup},
      {"load_ms", load_ms},
      {"latency_ms",
       {{"median", median},
        {"mean", std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(n)},
        {"min", sorted.front()},
        {"max", sorted.back()}}},
      {"tokens_per_s", static_cast<double>(tokens) / (median / 1e3)},
      // The OpenMP wait policy the timings ran under (null: unset; see docs/cli.md, "Threads").
      {"openmp", {{"OMP_WAIT_POLICY", env_or_null("OMP_WAIT_POLICY")}, {"GOMP_SPINCOUNT", env_or_null("GOMP_SPINCOUNT")}}},
  };
  std::cout << report.dump() << '\n';
  return exit_ok;
}

}  // namespace

Subcommand add_bench(CLI::App& parent) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* app = parent.add_subcommand(
      "bench", "Time BertModel::forward on one batch and print the latency as one JSON object");
  app->add_option("-m,--model", options->model, "Checkpoint directory (config.json + model.safetensors)")
      ->required();
  app->add_option("-i,--input", options->input,
                  "JSON-lines file (the encode input format); all its lines form the batch. "
                  "Without it: --batch x --seq random ids")
      ->check(CLI::ExistingFile);
  app->add_option("--batch", options->batch, "Sequences per batch (random ids)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app->add_option("--seq", options->seq_len, "Tokens per sequence (random ids)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app->add_option("--seed", options->seed, "Seed of the random ids")->capture_default_str();
  app->add_option("--iters", options->iters, "Timed forward calls")->check(CLI::PositiveNumber)->capture_default_str();
  app->add_option("--warmup", options->warmup, "Untimed forward calls first")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  add_run_options(*app, options->threads, options->compute);
  app->add_flag("--no-pooler", options->no_pooler, "Skip the pooler");
  app->footer(
      "Output: {\"model\", \"batch\", \"seq_len\" (longest sequence), \"tokens\", \"threads\", \"iters\", \"warmup\",\n"
      "         \"load_ms\", \"latency_ms\": {\"median\", \"mean\", \"min\", \"max\"}, \"tokens_per_s\" (at the median)}\n"
      "Exit status: 0 done; 2 bad model directory, input file or command line; 3 internal error.\n");
  return {app, [options] { return run_bench(*options); }};
}

}  // namespace bertcpp::cli
