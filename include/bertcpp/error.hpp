// bertcpp/error.hpp - the one error model of the public API.
//
// Every failure that bertcpp can detect is thrown as a bertcpp::Error (derived from std::runtime_error).
// The concrete type says what kind of failure it is; what() names the file, tensor or field involved
// and what was expected versus found, e.g.
//
//   model.safetensors: tensor 'encoder.layer.3.attention.self.query.weight' has shape [64,48], expected [48,48]
//
//   try {
//     auto model = bertcpp::BertModel::load("all-MiniLM-L6-v2");
//   } catch (const bertcpp::FormatError& e) {   // a file that is there but malformed
//     std::cerr << e.what() << '\n';
//   } catch (const bertcpp::Error& e) {         // any other bertcpp failure
//     std::cerr << to_string(e.code()) << ": " << e.what() << '\n';
//   }
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bertcpp {

enum class ErrorCode {
  io,               // a file or directory could not be opened or read
  format,           // a file is malformed: bad header, truncated data, invalid JSON, wrong tensor shape or dtype
  config,           // config.json (or a tokenizer config) lacks a field or holds an invalid value
  unsupported,      // well-formed but not supported by bertcpp (dtype, position_embedding_type, model_type, ...)
  invalid_argument, // a caller-supplied input is invalid (empty sequence, id out of range, too long, ...)
  invalid_utf8,     // text input is not valid UTF-8
};

std::string_view to_string(ErrorCode code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

class IoError : public Error {
 public:
  explicit IoError(const std::string& message) : Error(ErrorCode::io, message) {}
};

class FormatError : public Error {
 public:
  explicit FormatError(const std::string& message) : Error(ErrorCode::format, message) {}
};

class ConfigError : public Error {
 public:
  explicit ConfigError(const std::string& message) : Error(ErrorCode::config, message) {}
};

class UnsupportedError : public Error {
 public:
  explicit UnsupportedError(const std::string& message) : Error(ErrorCode::unsupported, message) {}
};

class InvalidArgumentError : public Error {
 public:
  explicit InvalidArgumentError(const std::string& message) : Error(ErrorCode::invalid_argument, message) {}
};

// Text that is not valid UTF-8. byte_offset() is the offset of the first invalid byte in the input.
class Utf8Error : public Error {
 public:
  Utf8Error(const std::string& message, std::size_t byte_offset)
      : Error(ErrorCode::invalid_utf8, message), byte_offset_(byte_offset) {}
  std::size_t byte_offset() const noexcept { return byte_offset_; }

 private:
  std::size_t byte_offset_;
};

}  // namespace bertcpp
