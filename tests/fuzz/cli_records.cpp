// Fuzz target: the JSON-lines record parsers of the CLI. The same line goes through the token-id record parser
// of `encode` / `bench` (parse_token_record, with limits taken from the first bytes) and the text-record parser
// of classify / embed / fill-mask / ner / qa / rtd / nsp / sop (parse_text_record + the field readers), and the
// line reader with --max-line-bytes.
#include <unistd.h>

#include "fuzz_util.hpp"
#include "jsonl.hpp"
#include "text_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bertcpp;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  cli::RecordLimits limits;
  limits.vocab_size = size > 0 ? 1 + data[0] * 300 : 30522;
  limits.type_vocab_size = size > 1 ? data[1] % 3 : 2;
  limits.max_length = size > 2 ? data[2] : 512;
  try {
    const cli::TokenRecord r = cli::parse_token_record(line, limits);
    fuzz::require(!r.input_ids.empty() && static_cast<std::int64_t>(r.input_ids.size()) <= limits.max_length, "length");
    for (auto id : r.input_ids) fuzz::require(id >= 0 && id < limits.vocab_size, "id range");
    fuzz::require(r.token_type_ids.empty() || r.token_type_ids.size() == r.input_ids.size(), "types");
    fuzz::require(r.attention_mask.empty() || r.attention_mask.size() == r.input_ids.size(), "mask");
  } catch (const InvalidArgumentError& e) {
    (void)cli::error_record(e.what(), 1);
  }
  try {
    const nlohmann::json record = cli::parse_text_record(std::string(line));
    for (const char* field : {"text", "text_pair", "question", "context"}) {
      try {
        (void)cli::required_string(record, field);
        (void)cli::optional_string(record, field);
      } catch (const InvalidArgumentError& e) {
        (void)cli::error_record(e.what(), 1);
      }
    }
  } catch (const InvalidArgumentError& e) {
    (void)cli::error_record(e.what(), 1);
  }
  // The line reader on the same bytes as a file, with a small line limit.
  const fuzz::MemFile file(line);
  try {
    cli::LineReader reader(file.path().string(), 64);
    std::string text;
    std::size_t lines = 0;
    while (reader.next(text)) {
      ++lines;
      fuzz::require(reader.line_too_long() ? text.empty() : text.size() <= 64, "line limit");
    }
    fuzz::require(lines == reader.line_number(), "line count");
  } catch (const IoError&) {
  }
  return 0;
}
