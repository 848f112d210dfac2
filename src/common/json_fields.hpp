// Typed access to the fields of a JSON file, with errors that name the file and the field path:
//   tokenizer.json: field 'model.vocab' must be an object, found array
//   config.json: field 'hidden_size' has type string ("384"), expected an integer
// Every loader of a JSON file (config.json, tokenizer.json, vocab.json, tokenizer_config.json,
// special_tokens_map.json, the sentence-transformers files) checks its values through this class, so no
// nlohmann type_error escapes and no two files word the same mistake differently by accident.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"

namespace bertcpp::common {

class Fields {
 public:
  // How a value of the wrong type is reported. config.json has always said "has type T, expected X", the
  // tokenizer and sentence-transformers files "must be X, found T"; both wordings are matched by users and tests.
  enum class Wording { must_be, has_type };

  // `source` starts every message (a path, or a file name); errors are of `code` (format, config, ...).
  explicit Fields(std::string source, ErrorCode code = ErrorCode::format, Wording wording = Wording::must_be)
      : source_(std::move(source)), code_(code), wording_(wording) {}

  // Throws "<source>: field '<path>' <what>" as the error of code() (or of `code`).
  [[noreturn]] void fail(std::string_view path, const std::string& what) const { fail(path, what, code_); }
  [[noreturn]] void fail(std::string_view path, const std::string& what, ErrorCode code) const;

  // The member `key` of `obj`, or nullptr when it is absent or null (transformers reads null as "the default").
  // `obj` must be an object: otherwise the error names `path`'s parent as the wrong type.
  const nlohmann::json* find(const nlohmann::json& obj, std::string_view key, std::string_view path) const;
  // The member `key` of `obj`; "is missing" when absent (null is a value here: the typed reads reject it).
  const nlohmann::json& require(const nlohmann::json& obj, std::string_view key, std::string_view path) const;

  // The value as a type, or the wrong-type error. Integers also fail outside [min, max] (and outside int64).
  std::string string(const nlohmann::json& j, std::string_view path) const;
  bool boolean(const nlohmann::json& j, std::string_view path) const;
  std::int64_t integer(const nlohmann::json& j, std::string_view path,
                       std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
  double number(const nlohmann::json& j, std::string_view path) const;
  // Wrong-type error unless `j` is an object / an array; `expected` overrides the noun ("an object token -> id").
  void object(const nlohmann::json& j, std::string_view path, std::string_view expected = "an object") const;
  void array(const nlohmann::json& j, std::string_view path, std::string_view expected = "an array") const;

  // Members of `obj` with a fallback for absent / null, or "is missing" (required_int); `path` names the member
  // in messages ("mask_token.lstrip" for key "lstrip" of the object at "mask_token").
  bool optional_bool(const nlohmann::json& obj, std::string_view key, std::string_view path, bool fallback) const;
  std::int64_t optional_int(const nlohmann::json& obj, std::string_view key, std::string_view path,
                            std::int64_t fallback) const;
  std::string optional_string(const nlohmann::json& obj, std::string_view key, std::string_view path,
                              std::string fallback) const;
  double optional_number(const nlohmann::json& obj, std::string_view key, std::string_view path,
                         double fallback) const;
  std::int64_t required_int(const nlohmann::json& obj, std::string_view key, std::string_view path) const;

  const std::string& source() const { return source_; }
  ErrorCode code() const { return code_; }

  // The error of `code` with `message`: the one place an ErrorCode becomes an exception type.
  [[noreturn]] static void throw_error(ErrorCode code, const std::string& message);

 private:
  // "must be <expected>, found <type>[ (<value>)]" or "has type <type>[ (<value>)], expected <expected>".
  [[noreturn]] void wrong_type(const nlohmann::json& j, std::string_view path, std::string_view expected,
                               bool show_value = false) const;

  std::string source_;
  ErrorCode code_;
  Wording wording_;
};

}  // namespace bertcpp::common
