#include "text_io.hpp"

#include <iostream>
#include <memory>

#include "app.hpp"
#include "bertcpp/error.hpp"
#include "jsonl.hpp"

namespace bertcpp::cli {
namespace {

using nlohmann::json;

}  // namespace

json parse_text_record(const std::string& line) {
  json record = parse_line_json(line);
  if (!record.is_object()) {
    throw InvalidArgumentError(std::string("expected a JSON object with \"text\", found ") + record.type_name());
  }
  return record;
}

namespace {

// One pending input line: a record to run, or the output (result or error record) already decided.
struct Pending {
  std::size_t line_number = 0;
  std::optional<json> fields;
  std::string output;
  bool failed = false;
};

// Runs the records of `lines` that still need it; splits a failing batch into single lines.
void run_batch(const TextBatchHandler& handler, std::span<Pending*> lines) {
  std::vector<TextRecord> records;
  for (const Pending* p : lines) records.push_back({p->line_number, *p->fields});
  try {
    std::vector<std::string> outputs = handler(records);
    for (std::size_t i = 0; i < lines.size(); ++i) lines[i]->output = std::move(outputs.at(i));
  } catch (const Error& e) {
    if (lines.size() > 1) {
      for (std::size_t i = 0; i < lines.size(); ++i) run_batch(handler, lines.subspan(i, 1));
      return;
    }
    lines[0]->output = error_record(e.what(), lines[0]->line_number);
    lines[0]->failed = true;
  }
}

}  // namespace

void add_text_io_options(CLI::App& app, TextIoOptions& options) {
  app.add_option("-i,--input", options.input, "JSON-lines input file; - for stdin")->capture_default_str();
  app.add_option("-o,--output", options.output, "JSON-lines output file; - for stdout")->capture_default_str();
  add_max_line_bytes_option(app, options.max_line_bytes);
  app.add_option("-b,--batch-size", options.batch_size, "Input lines run together (output order is kept)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--progress", options.progress,
               "Report progress on stderr once a second (default: only when stderr is a terminal)");
}

int run_text_lines(std::string_view command, const TextIoOptions& options, const TextBatchHandler& handler) {
  const std::string name(command);
  std::unique_ptr<LineReader> reader;
  std::unique_ptr<LineWriter> writer;
  try {
    reader = std::make_unique<LineReader>(options.input, options.max_line_bytes);
    writer = std::make_unique<LineWriter>(options.output);
  } catch (const Error& e) {
    std::cerr << "bertcpp " << name << ": " << e.what() << '\n';
    return exit_setup;
  }
  Progress progress(name, options.progress);
  std::vector<Pending> chunk;
  std::size_t runnable = 0, lines = 0, errors = 0;
  auto flush = [&] {
    std::vector<Pending*> todo;
    for (auto& p : chunk) {
      if (p.fields) todo.push_back(&p);
    }
    if (!todo.empty()) run_batch(handler, todo);
    for (const auto& p : chunk) {
      writer->write_line(p.output);
      if (p.failed) ++errors;
    }
    writer->flush();
    chunk.clear();
    runnable = 0;
    progress.update(lines, errors);
  };
  try {
    std::string text;
    while (reader->next(text)) {
      ++lines;
      Pending& p = chunk.emplace_back();
      p.line_number = reader->line_number();
      try {
        if (reader->line_too_long()) throw InvalidArgumentError(reader->too_long_message());
        p.fields = parse_text_record(text);
        ++runnable;
      } catch (const InvalidArgumentError& e) {
        p.output = error_record(e.what(), p.line_number);
        p.failed = true;
      }
      if (runnable == options.batch_size) flush();
    }
    if (!chunk.empty()) flush();
  } catch (const IoError& e) {  // the input could not be read or the output could not be written
    std::cerr << "bertcpp " << name << ": " << e.what() << '\n';
    return exit_setup;
  }
  progress.finish(lines, errors);
  if (errors) {
    std::cerr << "bertcpp " << name << ": " << errors << " of " << lines
              << " input lines rejected (see the \"error\" records)\n";
    return exit_bad_lines;
  }
  return exit_ok;
}

std::string required_string(const nlohmann::json& record, const char* field) {
  const auto it = record.find(field);
  if (it == record.end() || it->is_null()) throw InvalidArgumentError(std::string("missing \"") + field + "\"");
  if (!it->is_string()) {
    throw InvalidArgumentError(std::string("\"") + field + "\" must be a string, found " + it->type_name());
  }
  return it->get<std::string>();
}

std::optional<std::string> optional_string(const nlohmann::json& record, const char* field) {
  const auto it = record.find(field);
  if (it == record.end() || it->is_null()) return std::nullopt;
  return required_string(record, field);
}

}  // namespace bertcpp::cli
