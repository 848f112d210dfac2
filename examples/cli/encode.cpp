// `bertcpp encode`: token ids in, encoder hidden states out, one JSON line each (docs/cli.md).
#include <cstddef>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "app.hpp"
#include "bertcpp/error.hpp"
#include "jsonl.hpp"

namespace bertcpp::cli {
namespace {

struct EncodeOptions {
  std::string model;
  std::string input = "-";
  std::string output = "-";
  std::size_t max_line_bytes = kDefaultMaxLineBytes;
  int threads = 0;
  ComputeType compute = ComputeType::fp32;
  std::size_t batch_size = 8;
  bool no_pooler = false;
  bool hidden_states = false;
  int precision = 0;
  bool progress = false;
};

// One input line waiting for its batch to run: either a parsed record or the error that replaced it.
struct PendingLine {
  std::size_t line_number = 0;
  bool valid = false;
  TokenRecord record;    // when valid
  std::string output;    // the JSON line to write (result or error record), filled when the chunk runs
};

// A record with "text" (and optionally "text_pair") instead of "input_ids" is tokenized with the model
// directory's tokenizer: special tokens added, truncated (longest_first) to max_sequence_length; an empty
// text_pair is no pair (as transformers 5). The encoder is fed what transformers 5 feeds this model type
// (Batch::add(encoding, config): token types only when config.feeds_token_type_ids - not for ALBERT, RoBERTa,
// XLM-R, DistilBERT). Returns nullopt for a token-id record, which parse_token_record() then reads.
std::optional<TokenRecord> text_record(const nlohmann::json& json, const BertModel& model) {
  if (!json.is_object() || json.contains("input_ids") || !json.contains("text")) return std::nullopt;
  const auto& text = json.at("text");
  if (!text.is_string()) throw InvalidArgumentError("\"text\" must be a string");
  const auto pair = json.find("text_pair");
  if (pair != json.end() && !pair->is_null() && !pair->is_string()) {
    throw InvalidArgumentError("\"text_pair\" must be a string or null");
  }
  if (!model.has_tokenizer()) {
    throw InvalidArgumentError("the model directory has no tokenizer (tokenizer.json, vocab.txt, vocab.json + "
                               "merges.txt, spiece.model or sentencepiece.bpe.model): give \"input_ids\"");
  }
  bertcpp::EncodeOptions options;
  options.truncation = Truncation::longest_first;
  options.max_length = static_cast<std::size_t>(model.config().max_sequence_length);
  const std::string first = text.get<std::string>();
  const bool has_pair = pair != json.end() && pair->is_string() && !pair->get_ref<const std::string&>().empty();
  const Encoding enc = has_pair ? model.tokenizer().encode(first, pair->get<std::string>(), options)
                                : model.tokenizer().encode(first, options);
  Batch fed;
  fed.add(enc, model.config());
  return TokenRecord{std::move(fed.input_ids[0]), fed.token_type_ids.empty() ? std::vector<std::int32_t>{}
                                                                              : std::move(fed.token_type_ids[0]),
                     {}};
}

class Encoder {
 public:
  Encoder(const BertModel& model, const EncodeOptions& options) : model_(model), options_(options) {}

  // Runs the valid lines of `chunk` through forward() (one batch) and fills every line's output. A batch that
  // forward() rejects is split into single lines, so the error lands on the line that caused it.
  void run(std::vector<PendingLine>& chunk) {
    std::vector<PendingLine*> valid;
    for (auto& line : chunk) {
      if (line.valid) valid.push_back(&line);
    }
    if (!valid.empty()) run_batch(valid);
  }

 private:
  void run_batch(std::span<PendingLine*> lines) {
    Batch batch;
    for (const PendingLine* line : lines) {
      batch.add(line->record.input_ids, line->record.token_type_ids, line->record.attention_mask);
    }
    EncoderOutput out;
    try {
      out = model_.forward(batch);
    } catch (const Error& e) {
      if (lines.size() == 1) {
        // forward() names the sequence by its index in the batch ("input 0: ..."); here the line number does.
        std::string_view message = e.what();
        if (message.starts_with("input 0: ")) message.remove_prefix(9);
        lines[0]->output = error_record(message, lines[0]->line_number);
        lines[0]->valid = false;
        return;
      }
      for (std::size_t i = 0; i < lines.size(); ++i) run_batch(lines.subspan(i, 1));
      return;
    }
    for (std::size_t b = 0; b < lines.size(); ++b) lines[b]->output = format(out, b);
  }

  // {"last_hidden_state": [T][H], "pooler_output": [H], "hidden_states": [L+1][T][H]} for sequence b.
  std::string format(const EncoderOutput& out, std::size_t b) const {
    const auto& last = out.last_hidden_state;  // [B, T_max, H]
    const auto hidden = static_cast<std::size_t>(last.dim(2));
    const auto length = static_cast<std::size_t>(out.lengths.at(b));
    const int precision = options_.precision;
    std::string line;
    line.reserve(length * hidden * 12 + 64);
    line += '{';
    append_key(line, "last_hidden_state");
    append_float_matrix(line, last.row(static_cast<std::int64_t>(b)), length, hidden, precision);
    if (!out.pooler_output.empty()) {  // [B, H]
      line += ',';
      append_key(line, "pooler_output");
      append_float_array(line, out.pooler_output.row(static_cast<std::int64_t>(b)), hidden, precision);
    }
    if (options_.hidden_states) {  // L+1 tensors of [B, T_max, H]
      line += ',';
      append_key(line, "hidden_states");
      line += '[';
      for (std::size_t l = 0; l < out.hidden_states.size(); ++l) {
        if (l) line += ',';
        append_float_matrix(line, out.hidden_states[l].row(static_cast<std::int64_t>(b)), length, hidden, precision);
      }
      line += ']';
    }
    line += '}';
    return line;
  }

  const BertModel& model_;
  const EncodeOptions& options_;
};

int run_encode(const EncodeOptions& options) {
  LoadOptions load;
  load.threads = options.threads;
  load.compute = options.compute;
  load.pooler_output = !options.no_pooler;
  load.hidden_states = options.hidden_states;
  const auto model = load_model_or_report("encode", options.model, load);
  if (!model) return exit_setup;
  const RecordLimits limits = RecordLimits::from(model->config());

  std::unique_ptr<LineReader> reader;
  std::unique_ptr<LineWriter> writer;
  try {
    reader = std::make_unique<LineReader>(options.input, options.max_line_bytes);
    writer = std::make_unique<LineWriter>(options.output);
  } catch (const Error& e) {
    std::cerr << "bertcpp encode: " << e.what() << '\n';
    return exit_setup;
  }

  Encoder encoder(*model, options);
  Progress progress("encode", options.progress);
  std::vector<PendingLine> chunk;
  std::size_t valid_in_chunk = 0, lines = 0, errors = 0;

  auto flush_chunk = [&] {
    encoder.run(chunk);
    for (const auto& line : chunk) {
      writer->write_line(line.output);
      if (!line.valid) ++errors;
    }
    writer->flush();
    chunk.clear();
    valid_in_chunk = 0;
    progress.update(lines, errors);
  };

  try {
    std::string text;
    while (reader->next(text)) {
      ++lines;
      PendingLine& line = chunk.emplace_back();
      line.line_number = reader->line_number();
      try {
        if (reader->line_too_long()) throw InvalidArgumentError(reader->too_long_message());
        const nlohmann::json json = parse_line_json(text);
        auto from_text = text_record(json, *model);
        line.record = from_text ? std::move(*from_text) : token_record(json, limits);
        line.valid = true;
        ++valid_in_chunk;
      } catch (const InvalidArgumentError& e) {
        line.output = error_record(e.what(), line.line_number);
      } catch (const Utf8Error& e) {
        line.output = error_record(e.what(), line.line_number);
      }
      if (valid_in_chunk == options.batch_size) flush_chunk();
    }
    if (!chunk.empty()) flush_chunk();
  } catch (const IoError& e) {  // the input could not be read or the output could not be written
    std::cerr << "bertcpp encode: " << e.what() << '\n';
    return exit_setup;
  }
  progress.finish(lines, errors);
  if (errors) {
    std::cerr << "bertcpp encode: " << errors << " of " << lines << " input lines rejected (see the \"error\" records)\n";
    return exit_bad_lines;
  }
  return exit_ok;
}

}  // namespace

Subcommand add_encode(CLI::App& parent) {
  auto options = std::make_shared<EncodeOptions>();
  CLI::App* app = parent.add_subcommand(
      "encode", "Run the encoder on token ids or text: one JSON object per input line, one JSON object per output line");
  app->add_option("-m,--model", options->model, "Checkpoint directory (config.json + model.safetensors)")
      ->required();
  app->add_option("-i,--input", options->input, "JSON-lines input file; - for stdin")->capture_default_str();
  app->add_option("-o,--output", options->output, "JSON-lines output file; - for stdout")->capture_default_str();
  add_max_line_bytes_option(*app, options->max_line_bytes);
  add_run_options(*app, options->threads, options->compute);
  app->add_option("-b,--batch-size", options->batch_size,
                  "Input lines run together in one forward call (output order is kept)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app->add_flag("--no-pooler", options->no_pooler, "Do not compute or write \"pooler_output\"");
  app->add_flag("--hidden-states", options->hidden_states,
                "Also write \"hidden_states\": the embedding output and every layer's output");
  app->add_option("--precision", options->precision,
                  "Significant digits of each float; 0 = shortest text that reads back as the same float")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  app->add_flag("--progress", options->progress,
                "Report progress on stderr once a second (default: only when stderr is a terminal)");
  app->footer(
      "Input line:  {\"input_ids\": [101, 7592, 102], \"token_type_ids\": [0, 0, 0], \"attention_mask\": [1, 1, 1]}\n"
      "             token_type_ids (default all 0) and attention_mask (default all 1) are optional; other keys\n"
      "             are ignored.\n"
      "  or text:   {\"text\": \"Hello world!\", \"text_pair\": null}  tokenized with the model directory's\n"
      "             tokenizer (special tokens added, truncated to the model's max_sequence_length).\n"
      "Output line: {\"last_hidden_state\": [T][H], \"pooler_output\": [H], \"hidden_states\": [L+1][T][H]}\n"
      "             T = the input's length; rows of tokens with attention_mask 0 are zero. pooler_output is\n"
      "             absent with --no-pooler or when the checkpoint has no pooler; hidden_states only with\n"
      "             --hidden-states.\n"
      "Bad line:    {\"error\": \"<what is wrong>\", \"line\": <1-based input line number>} in its place\n"
      "             (also for a line longer than --max-line-bytes).\n"
      "Exit status: 0 all lines encoded; 1 some lines rejected; 2 bad model directory, input or output file\n"
      "             (a read error included), or command line; 3 internal error.\n");
  return {app, [options] { return run_encode(*options); }};
}

}  // namespace bertcpp::cli
