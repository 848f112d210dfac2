// `bertcpp tokenize`: text in, every field of the tokenizer's encoding out, one JSON line each (docs/cli.md).
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "app.hpp"
#include "bertcpp/error.hpp"
#include "bertcpp/tokenizer.hpp"
#include "jsonl.hpp"

namespace bertcpp::cli {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string input = "-";
  std::string output = "-";
  std::size_t max_line_bytes = kDefaultMaxLineBytes;
  bertcpp::EncodeOptions encode;
  bool no_special_tokens = false;
  bool progress = false;
};

nlohmann::json offsets_json(const std::vector<Offset>& offsets) {
  auto out = nlohmann::json::array();
  for (const auto& o : offsets) out.push_back({o.begin, o.end});
  return out;
}

nlohmann::json encoding_json(const Encoding& enc) {
  nlohmann::json word_ids = nlohmann::json::array();
  for (auto w : enc.word_ids) word_ids.push_back(w < 0 ? nlohmann::json(nullptr) : nlohmann::json(w));
  nlohmann::json sequence_ids = nlohmann::json::array();
  for (auto s : enc.sequence_ids) sequence_ids.push_back(s < 0 ? nlohmann::json(nullptr) : nlohmann::json(s));
  nlohmann::json out = {{"input_ids", enc.input_ids},
                        {"token_type_ids", enc.token_type_ids},
                        {"attention_mask", enc.attention_mask},
                        {"special_tokens_mask", enc.special_tokens_mask},
                        {"tokens", enc.tokens},
                        {"word_ids", std::move(word_ids)},
                        {"sequence_ids", std::move(sequence_ids)},
                        {"offset_mapping", offsets_json(enc.char_offsets)},
                        {"byte_offsets", offsets_json(enc.byte_offsets)}};
  if (!enc.overflowing.empty()) {
    auto windows = nlohmann::json::array();
    for (const auto& w : enc.overflowing) windows.push_back(encoding_json(w));
    out["overflowing"] = std::move(windows);
  }
  return out;
}

// A line is a JSON object {"text": ..., "text_pair": ...} when it starts with '{', else the text itself.
std::string tokenize_line(const Tokenizer& tokenizer, const std::string& line, const bertcpp::EncodeOptions& options) {
  if (!line.empty() && line.front() == '{') {
    const auto json = parse_line_json(line);
    if (!json.is_object()) throw InvalidArgumentError("not a JSON object");
    const auto text = json.find("text");
    if (text == json.end() || !text->is_string()) throw InvalidArgumentError("\"text\" must be a string");
    const auto pair = json.find("text_pair");
    if (pair != json.end() && !pair->is_null()) {
      if (!pair->is_string()) throw InvalidArgumentError("\"text_pair\" must be a string or null");
      // An empty text_pair is no pair, as transformers 5's tokenizer(text, text_pair="") (it tests the pair for
      // truth): [CLS] text [SEP]. (Tokenizer::encode(text, "") keeps an empty second segment, as the tokenizers
      // library does.)
      if (!pair->get_ref<const std::string&>().empty()) {
        return encoding_json(tokenizer.encode(text->get<std::string>(), pair->get<std::string>(), options)).dump();
      }
    }
    return encoding_json(tokenizer.encode(text->get<std::string>(), options)).dump();
  }
  return encoding_json(tokenizer.encode(line, options)).dump();
}

int run_tokenize(TokenizeOptions options) {
  options.encode.add_special_tokens = !options.no_special_tokens;
  std::optional<Tokenizer> tokenizer;
  try {
    tokenizer.emplace(Tokenizer::load(options.model));
  } catch (const Error& e) {
    std::cerr << "bertcpp tokenize: cannot load tokenizer '" << options.model << "': " << e.what() << '\n';
    return exit_setup;
  }
  std::unique_ptr<LineReader> reader;
  std::unique_ptr<LineWriter> writer;
  try {
    reader = std::make_unique<LineReader>(options.input, options.max_line_bytes);
    writer = std::make_unique<LineWriter>(options.output);
  } catch (const Error& e) {
    std::cerr << "bertcpp tokenize: " << e.what() << '\n';
    return exit_setup;
  }
  Progress progress("tokenize", options.progress);
  std::size_t lines = 0, errors = 0;
  try {
    std::string line;
    while (reader->next(line)) {
      ++lines;
      try {
        if (reader->line_too_long()) throw InvalidArgumentError(reader->too_long_message());
        writer->write_line(tokenize_line(*tokenizer, line, options.encode));
      } catch (const IoError&) {
        throw;
      } catch (const Error& e) {  // invalid UTF-8, bad record, impossible truncation settings
        writer->write_line(error_record(e.what(), reader->line_number()));
        ++errors;
      }
      progress.update(lines, errors);
    }
    writer->flush();
  } catch (const IoError& e) {
    std::cerr << "bertcpp tokenize: " << e.what() << '\n';
    return exit_setup;
  }
  progress.finish(lines, errors);
  return errors ? exit_bad_lines : exit_ok;
}

}  // namespace

Subcommand add_tokenize(CLI::App& parent) {
  auto options = std::make_shared<TokenizeOptions>();
  CLI::App* app = parent.add_subcommand("tokenize", "Tokenize text: one text per input line, one encoding per output line");
  app->add_option("-m,--model", options->model, "Directory with tokenizer.json, or vocab.txt + tokenizer_config.json")
      ->required();
  app->add_option("-i,--input", options->input, "Input file; - for stdin")->capture_default_str();
  app->add_option("-o,--output", options->output, "JSON-lines output file; - for stdout")->capture_default_str();
  add_max_line_bytes_option(*app, options->max_line_bytes);
  const std::map<std::string, Truncation> truncations = {{"do_not_truncate", Truncation::do_not_truncate},
                                                          {"longest_first", Truncation::longest_first},
                                                          {"only_first", Truncation::only_first},
                                                          {"only_second", Truncation::only_second}};
  app->add_option("--truncation", options->encode.truncation, "do_not_truncate, longest_first, only_first, only_second")
      ->transform(CLI::CheckedTransformer(truncations, CLI::ignore_case))
      ->capture_default_str();
  app->add_option("--max-length", options->encode.max_length,
                  "Maximum length with special tokens; 0 = the tokenizer's model_max_length")
      ->capture_default_str();
  app->add_option("--stride", options->encode.stride, "Tokens shared by consecutive overflowing windows")
      ->capture_default_str();
  const std::map<std::string, Padding> paddings = {{"do_not_pad", Padding::do_not_pad}, {"max_length", Padding::max_length}};
  app->add_option("--padding", options->encode.padding, "do_not_pad, max_length")
      ->transform(CLI::CheckedTransformer(paddings, CLI::ignore_case))
      ->capture_default_str();
  app->add_option("--pad-to-multiple-of", options->encode.pad_to_multiple_of, "Pad to a multiple of N (0 = off)")
      ->capture_default_str();
  app->add_flag("--no-special-tokens", options->no_special_tokens, "Do not add [CLS] / [SEP]");
  app->add_flag("--progress", options->progress, "Report progress on stderr once a second");
  app->footer(
      "Input line:  {\"text\": \"Hello world!\", \"text_pair\": \"optional\"}, or any line not starting with '{'\n"
      "             as the text itself.\n"
      "Output line: {\"input_ids\", \"token_type_ids\", \"attention_mask\", \"special_tokens_mask\", \"tokens\",\n"
      "             \"word_ids\" (null for special tokens), \"sequence_ids\", \"offset_mapping\" ([start, end) in code\n"
      "             points, as Python), \"byte_offsets\" ([start, end) in bytes), \"overflowing\" (further windows,\n"
      "             same fields, when truncation with a stride produced them)}\n"
      "Bad line:    {\"error\": \"<what is wrong>\", \"line\": <n>} (e.g. invalid UTF-8, naming the byte offset, or\n"
      "             a line longer than --max-line-bytes).\n"
      "Exit status: 0 all lines tokenized; 1 some lines rejected; 2 bad tokenizer directory, file or command line.\n");
  return {app, [options] { return run_tokenize(*options); }};
}

}  // namespace bertcpp::cli
