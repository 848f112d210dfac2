#include "tokenizer/json_fields.hpp"

#include "common/file_io.hpp"
#include "common/json_io.hpp"

namespace bertcpp::tokenizer {

std::string read_text(const std::filesystem::path& file) {
  return common::read_regular_file(file, common::kMaxTokenizerFileBytes);
}

nlohmann::json parse_json(const std::filesystem::path& file, std::uint64_t max_bytes) {
  return common::read_json_file(file, max_bytes);
}

}  // namespace bertcpp::tokenizer
