#include "jsonl.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "common/json_io.hpp"

namespace bertcpp::cli {

// ---- line I/O ------------------------------------------------------------------------------------------------

LineReader::LineReader(const std::string& path, std::size_t max_line_bytes)
    : path_(path), max_line_bytes_(max_line_bytes), buffer_(64 * 1024) {
  if (path == "-") {
    fd_ = STDIN_FILENO;
    path_ = "<stdin>";
  } else {
    // A FIFO is a fine input (process substitution): wait for its writer as any reader would.
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw IoError(path + ": cannot open for reading: " + std::strerror(errno));
    owned_ = true;
  }
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode)) {
    if (owned_) ::close(fd_);
    throw IoError(path_ + ": is a directory, expected a JSON-lines file");
  }
}

LineReader::~LineReader() {
  if (owned_) ::close(fd_);
}

bool LineReader::fill() {
  if (eof_) return false;
  for (;;) {
    const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
    if (n > 0) {
      begin_ = 0;
      end_ = static_cast<std::size_t>(n);
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno != EINTR) throw IoError(path_ + ": read error: " + std::strerror(errno));
  }
}

bool LineReader::next(std::string& line) {
  line.clear();
  too_long_ = false;
  line_bytes_ = 0;
  bool any = false;  // a line exists (some byte or a newline was read)
  for (;;) {
    if (begin_ == end_ && !fill()) break;
    any = true;
    const char* start = buffer_.data() + begin_;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
    const std::size_t n = newline ? static_cast<std::size_t>(newline - start) : end_ - begin_;
    line_bytes_ += n;
    if (!too_long_ && line_bytes_ > max_line_bytes_) {
      too_long_ = true;
      line.clear();
      line.shrink_to_fit();
    }
    if (!too_long_) line.append(start, n);
    begin_ += n;
    if (newline) {
      ++begin_;
      break;
    }
  }
  if (!any) return false;
  ++line_number_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

std::string LineReader::too_long_message() const {
  return "line is " + std::to_string(line_bytes_) + " bytes, more than --max-line-bytes " +
         std::to_string(max_line_bytes_);
}

LineWriter::LineWriter(const std::string& path) : path_(path) {
  if (path == "-") {
    file_ = stdout;
    path_ = "<stdout>";
    return;
  }
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) throw IoError(path + ": cannot open for writing");
  owned_ = true;
}

LineWriter::~LineWriter() {
  if (owned_) std::fclose(file_);
  else std::fflush(file_);
}

void LineWriter::write_line(std::string_view line) {
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fputc('\n', file_) == EOF) {
    throw IoError(path_ + ": write failed");
  }
}

void LineWriter::flush() {
  if (std::fflush(file_) != 0) throw IoError(path_ + ": write failed");
}

// ---- input records --------------------------------------------------------------------------------------------

RecordLimits RecordLimits::from(const ModelConfig& config) {
  // DistilBERT has no token types (type_vocab_size 0): only 0, which the encoder ignores, is accepted.
  return {config.vocab_size, std::max<std::int64_t>(config.type_vocab_size, 1), config.max_sequence_length};
}

namespace {

using nlohmann::json;

// A value for a message: cut to 40 characters, printed without recursion.
std::string describe(const json& value) { return common::brief_json(value, 40); }

// The values an array may hold, [lo, hi), and how a message says that a value is not one of them.
struct ValueRange {
  std::int64_t lo = 0, hi = 0;
  std::string violation;  // completes "<field>[i] = <value> is ...", e.g. "outside the vocabulary [0, 30522)"
};

// A JSON array of integers in `range` as int32; `field` names it in messages.
std::vector<std::int32_t> int_array(const json& value, const char* field, const ValueRange& range) {
  if (!value.is_array()) {
    throw InvalidArgumentError(std::string("\"") + field + "\" must be an array of integers, found " +
                               std::string(value.type_name()));
  }
  std::vector<std::int32_t> out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const json& item = value[i];
    const std::string where = std::string(field) + "[" + std::to_string(i) + "]";
    std::int64_t v = 0;
    if (item.is_number_unsigned()) {
      const auto u = item.get<std::uint64_t>();
      v = u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
              ? std::numeric_limits<std::int64_t>::max()
              : static_cast<std::int64_t>(u);
    } else if (item.is_number_integer()) {
      v = item.get<std::int64_t>();
    } else {
      throw InvalidArgumentError(where + " is " + describe(item) + ", expected an integer");
    }
    if (v < range.lo || v >= range.hi) {
      throw InvalidArgumentError(where + " = " + describe(item) + " is " + range.violation);
    }
    out.push_back(static_cast<std::int32_t>(v));
  }
  return out;
}

// An optional companion array: absent or null -> empty; else integers in `range` of input_ids' length.
std::vector<std::int32_t> optional_array(const json& record, const char* field, std::size_t length,
                                         const ValueRange& range) {
  auto it = record.find(field);
  if (it == record.end() || it->is_null()) return {};
  auto out = int_array(*it, field, range);
  if (out.size() != length) {
    throw InvalidArgumentError(std::string("\"") + field + "\" has " + std::to_string(out.size()) +
                               " values, expected " + std::to_string(length) + " (the length of \"input_ids\")");
  }
  return out;
}

}  // namespace

json parse_line_json(std::string_view line) {
  std::string reason;
  std::optional<json> value = common::try_parse_json(line, reason);
  if (!value) throw InvalidArgumentError("not valid JSON: " + reason);
  return std::move(*value);
}

TokenRecord parse_token_record(std::string_view line, const RecordLimits& limits) {
  return token_record(parse_line_json(line), limits);
}

TokenRecord token_record(const json& record, const RecordLimits& limits) {
  if (!record.is_object()) {
    throw InvalidArgumentError(std::string("expected a JSON object with \"input_ids\", found ") +
                               record.type_name());
  }
  auto ids = record.find("input_ids");
  if (ids == record.end() || ids->is_null()) throw InvalidArgumentError("missing \"input_ids\"");

  TokenRecord out;
  // "[0, hi)"; built with append (operator+(const char*, string&&) trips g++ 12's false -Wrestrict).
  const auto half_open = [](std::int64_t hi) { return std::string("[0, ").append(std::to_string(hi)).append(")"); };
  out.input_ids = int_array(*ids, "input_ids",
                            {0, limits.vocab_size, std::string("outside the vocabulary ") + half_open(limits.vocab_size)});
  if (out.input_ids.empty()) throw InvalidArgumentError("\"input_ids\" is empty");
  if (static_cast<std::int64_t>(out.input_ids.size()) > limits.max_length) {
    throw InvalidArgumentError("\"input_ids\" has " + std::to_string(out.input_ids.size()) +
                               " tokens, more than the model accepts (max_sequence_length " +
                               std::to_string(limits.max_length) + ")");
  }
  const std::size_t n = out.input_ids.size();
  out.token_type_ids = optional_array(
      record, "token_type_ids", n,
      {0, limits.type_vocab_size, std::string("outside ") + half_open(limits.type_vocab_size) + " (type_vocab_size)"});
  out.attention_mask = optional_array(record, "attention_mask", n, {0, 2, "not 0 or 1"});
  return out;
}

std::string error_record(std::string_view message, std::size_t line_number) {
  nlohmann::json record = {{"error", message}, {"line", line_number}};
  // Input bytes quoted in a message may not be UTF-8; replace them instead of throwing.
  return record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// ---- output ---------------------------------------------------------------------------------------------------

void append_float(std::string& out, float value, int precision) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[64];
  const auto result = precision > 0
                          ? std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, precision)
                          : std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

void append_float_array(std::string& out, const float* values, std::size_t count, int precision) {
  out += '[';
  for (std::size_t i = 0; i < count; ++i) {
    if (i) out += ',';
    append_float(out, values[i], precision);
  }
  out += ']';
}

void append_float_matrix(std::string& out, const float* values, std::size_t rows, std::size_t cols, int precision) {
  out += '[';
  for (std::size_t r = 0; r < rows; ++r) {
    if (r) out += ',';
    append_float_array(out, values + r * cols, cols, precision);
  }
  out += ']';
}

void append_key(std::string& out, std::string_view key) {
  out += nlohmann::json(key).dump();
  out += ':';
}

}  // namespace bertcpp::cli
