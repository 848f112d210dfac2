// JSON from files and input lines, parsed with a nesting-depth limit, and JSON values printed into messages
// without recursion and cut short.
//
// nlohmann's parser itself is iterative, but copying, comparing and dump() of a value recurse once per nesting
// level: a line of 70000 '[' took the process down when a message printed it. No value deeper than
// kMaxJsonDepth is ever built here, and brief_json() prints with an explicit stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"

namespace bertcpp::common {

// Deeper than any Hugging Face file needs (tokenizer.json nests about 6 levels), shallow enough for recursion.
inline constexpr std::size_t kMaxJsonDepth = 128;

// Parses `text` as one JSON value: nullopt and `reason` set when it is not JSON, holds a NUL byte (nlohmann
// would stop there and accept what came before), or nests arrays/objects deeper than max_depth.
// `reason` reads "<what> at byte N" or nlohmann's message without its "[json.exception...]" tag.
std::optional<nlohmann::json> try_parse_json(std::string_view text, std::string& reason,
                                             std::size_t max_depth = kMaxJsonDepth);

// try_parse_json or FormatError "<source>: invalid JSON: <reason>".
nlohmann::json parse_json(std::string_view text, const std::string& source);

// read_regular_file(path, max_bytes) then parse_json(text, path): the one way a JSON file is read.
nlohmann::json read_json_file(const std::filesystem::path& path, std::uint64_t max_bytes);

// read_json_file, and the top-level value must be an object: otherwise an error of `code`
// "<path>: expected a JSON object, found <type>".
nlohmann::json read_json_object(const std::filesystem::path& path, std::uint64_t max_bytes,
                                ErrorCode code = ErrorCode::format);

// How many times read_json_file has parsed a file of this name (the last path component, e.g. "tokenizer.json")
// in this process: tests check with it that a load parses each file once.
std::uint64_t json_file_parse_count(const std::string& file_name);

// A value for a message: compact JSON cut to at most max_chars characters ("..." at the end when cut), built
// without recursion; bytes that are not UTF-8 are replaced.
std::string brief_json(const nlohmann::json& value, std::size_t max_chars = 64);

}  // namespace bertcpp::common
