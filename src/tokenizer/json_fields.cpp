#include "tokenizer/json_fields.hpp"

#include <fstream>
#include <sstream>

namespace bertcpp::tokenizer {

using nlohmann::json;

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw IoError(file.string() + ": cannot open for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError(file.string() + ": read error");
  return ss.str();
}

json parse_json(const std::filesystem::path& file) {
  const std::string text = read_text(file);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw FormatError(file.string() + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  }
}

}  // namespace bertcpp::tokenizer
