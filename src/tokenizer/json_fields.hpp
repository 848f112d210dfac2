// JSON helpers for the tokenizer loaders: reading a file, and typed field access whose errors name the file
// and the field path (FormatError "tokenizer.json: field 'model.vocab' must be an object ...").
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "common/file_io.hpp"

namespace bertcpp::tokenizer {

// The whole file (a regular file of at most common::kMaxTokenizerFileBytes); IoError when it cannot be read.
std::string read_text(const std::filesystem::path& file);
// FormatError naming the file when it is not JSON (or nests deeper than common::kMaxJsonDepth).
// Settings files (tokenizer_config.json, special_tokens_map.json) pass common::kMaxSettingsFileBytes.
nlohmann::json parse_json(const std::filesystem::path& file, std::uint64_t max_bytes = common::kMaxTokenizerFileBytes);

constexpr std::int64_t kMaxTokenId = std::numeric_limits<std::int32_t>::max();

// Typed field access with messages naming the file and the field path.
class Fields {
 public:
  explicit Fields(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw FormatError(file_ + ": field '" + path + "' " + what);
  }
  static const char* type_name(const nlohmann::json& j) { return j.type_name(); }

  const nlohmann::json& require(const nlohmann::json& obj, const std::string& key, const std::string& path) const {
    if (!obj.is_object()) fail(path, std::string("must be inside an object, found ") + type_name(obj));
    auto it = obj.find(key);
    if (it == obj.end()) fail(path, "is missing");
    return *it;
  }
  std::string string(const nlohmann::json& j, const std::string& path) const {
    if (!j.is_string()) fail(path, std::string("must be a string, found ") + type_name(j));
    return j.get<std::string>();
  }
  bool boolean(const nlohmann::json& j, const std::string& path) const {
    if (!j.is_boolean()) fail(path, std::string("must be a boolean, found ") + type_name(j));
    return j.get<bool>();
  }
  std::int64_t integer(const nlohmann::json& j, const std::string& path, std::int64_t min, std::int64_t max) const {
    if (!j.is_number_integer()) fail(path, std::string("must be an integer, found ") + type_name(j));
    const auto v = j.get<std::int64_t>();
    if (v < min || v > max) {
      fail(path, "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], found " + std::to_string(v));
    }
    return v;
  }
  bool optional_bool(const nlohmann::json& obj, const std::string& key, const std::string& path, bool fallback) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fallback;
    return boolean(*it, path);
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

}  // namespace bertcpp::tokenizer
