// JSON-lines plumbing shared by the `bertcpp` subcommands: reading input lines, parsing a token-id record,
// writing float arrays fast, error records.
//
// The record format (docs/cli.md is the reference, and a stable interface):
//   input:  {"input_ids": [101, 7592, 102], "token_type_ids": [0, 0, 0], "attention_mask": [1, 1, 1]}
//           (token_type_ids / attention_mask optional, null = absent; other keys are ignored)
//   error:  {"error": "input_ids[2] = 40000 is outside the vocabulary [0, 30522)", "line": 3}
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertcpp/model.hpp"

namespace bertcpp::cli {

// --max-line-bytes default: far above any real record, low enough that one line cannot take the process down.
inline constexpr std::size_t kDefaultMaxLineBytes = 16 * 1024 * 1024;

// Reads lines from a file or stdin ("-"), counting them from 1; strips a trailing '\r'. Memory stays bounded by
// max_line_bytes whatever the input: a longer line is skipped up to its newline and reported by line_too_long().
class LineReader {
 public:
  // Throws IoError "<path>: cannot open for reading: <reason>" or "<path>: is a directory, expected a
  // JSON-lines file".
  explicit LineReader(const std::string& path, std::size_t max_line_bytes = kDefaultMaxLineBytes);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line in `line`; false at the end of the input. A read error is IoError "<path>: read error: ...",
  // never taken for the end of the input. When line_too_long() is true afterwards, `line` is empty and the line
  // (of line_bytes() bytes) was skipped.
  bool next(std::string& line);
  std::size_t line_number() const noexcept { return line_number_; }
  bool line_too_long() const noexcept { return too_long_; }
  std::size_t line_bytes() const noexcept { return line_bytes_; }
  std::size_t max_line_bytes() const noexcept { return max_line_bytes_; }
  // "line is N bytes, more than --max-line-bytes M": the error record text for a skipped line.
  std::string too_long_message() const;

 private:
  bool fill();  // refills buffer_; false at end of input
  std::string path_;
  int fd_ = -1;
  bool owned_ = false;
  std::size_t max_line_bytes_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;  // unread bytes of buffer_
  bool eof_ = false;
  std::size_t line_number_ = 0;
  bool too_long_ = false;
  std::size_t line_bytes_ = 0;
};

// Writes to a file or stdout ("-"). Buffered; flush() pushes complete lines to the consumer.
class LineWriter {
 public:
  // Throws IoError "<path>: cannot open for writing".
  explicit LineWriter(const std::string& path);
  ~LineWriter();
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  // Writes `line` followed by '\n'. Throws IoError when the write fails (disk full, closed pipe).
  void write_line(std::string_view line);
  void flush();

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  bool owned_ = false;
};

// One sequence of an input record.
struct TokenRecord {
  std::vector<std::int32_t> input_ids;
  std::vector<std::int32_t> token_type_ids;  // empty: all zeros
  std::vector<std::int32_t> attention_mask;  // empty: all ones
};

// What a record must respect to be run by the model (from its ModelConfig).
struct RecordLimits {
  std::int64_t vocab_size = 0;
  std::int64_t type_vocab_size = 0;
  std::int64_t max_length = 0;  // max_position_embeddings
  static RecordLimits from(const ModelConfig& config);
};

// One input line as JSON: InvalidArgumentError "not valid JSON: <reason>" when it is not JSON, holds a NUL byte,
// or nests deeper than common::kMaxJsonDepth (128) levels.
nlohmann::json parse_line_json(std::string_view line);

// Parses one input line. Throws InvalidArgumentError with a message naming the field and what was expected
// versus found: not JSON, not an object, "input_ids" missing / not an array of integers / empty / longer than
// max_length, an id outside [0, vocab_size), token_type_ids or attention_mask of the wrong type, length or
// values (types in [0, type_vocab_size), mask 0 or 1).
TokenRecord parse_token_record(std::string_view line, const RecordLimits& limits);
// The same for a line already parsed with parse_line_json().
TokenRecord token_record(const nlohmann::json& record, const RecordLimits& limits);

// {"error": message, "line": line_number}
std::string error_record(std::string_view message, std::size_t line_number);

// Appends floats in JSON syntax. precision 0: the shortest text that reads back as the same float;
// precision p > 0: p significant digits. NaN and infinities (not representable in JSON) become null.
void append_float(std::string& out, float value, int precision);
// [v0,v1,...]
void append_float_array(std::string& out, const float* values, std::size_t count, int precision);
// [[row 0],[row 1],...] of a row-major rows x cols block.
void append_float_matrix(std::string& out, const float* values, std::size_t rows, std::size_t cols, int precision);
// "key": with the key escaped as a JSON string.
void append_key(std::string& out, std::string_view key);

}  // namespace bertcpp::cli
