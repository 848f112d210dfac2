#include "common/json_fields.hpp"

#include "common/json_io.hpp"

namespace bertcpp::common {

using nlohmann::json;

void Fields::throw_error(ErrorCode code, const std::string& message) {
  switch (code) {
    case ErrorCode::io: throw IoError(message);
    case ErrorCode::format: throw FormatError(message);
    case ErrorCode::config: throw ConfigError(message);
    case ErrorCode::unsupported: throw UnsupportedError(message);
    case ErrorCode::invalid_argument: throw InvalidArgumentError(message);
    case ErrorCode::invalid_utf8: break;  // a Utf8Error carries a byte offset: not an error of a field
  }
  throw FormatError(message);
}

void Fields::fail(std::string_view path, const std::string& what, ErrorCode code) const {
  throw_error(code, source_ + ": field '" + std::string(path) + "' " + what);
}

void Fields::wrong_type(const json& j, std::string_view path, std::string_view expected, bool show_value) const {
  std::string found = j.type_name();
  if (show_value) found += " (" + brief_json(j, 40) + ")";
  if (wording_ == Wording::has_type) fail(path, "has type " + found + ", expected " + std::string(expected));
  fail(path, "must be " + std::string(expected) + ", found " + found);
}

const json* Fields::find(const json& obj, std::string_view key, std::string_view path) const {
  if (!obj.is_object()) fail(path, std::string("must be inside an object, found ") + obj.type_name());
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

const json& Fields::require(const json& obj, std::string_view key, std::string_view path) const {
  if (!obj.is_object()) fail(path, std::string("must be inside an object, found ") + obj.type_name());
  const auto it = obj.find(key);
  if (it == obj.end()) fail(path, "is missing");
  return *it;
}

std::string Fields::string(const json& j, std::string_view path) const {
  if (!j.is_string()) wrong_type(j, path, "a string");
  return j.get<std::string>();
}

bool Fields::boolean(const json& j, std::string_view path) const {
  if (!j.is_boolean()) wrong_type(j, path, wording_ == Wording::has_type ? "true or false" : "a boolean");
  return j.get<bool>();
}

std::int64_t Fields::integer(const json& j, std::string_view path, std::int64_t min, std::int64_t max) const {
  // The value is shown: "number" alone does not say why 6.5 is not an integer.
  if (!j.is_number_integer()) wrong_type(j, path, "an integer", true);
  constexpr std::int64_t kLargest = std::numeric_limits<std::int64_t>::max();
  const auto range = [&] {
    if (max == kLargest) return ">= " + std::to_string(min);
    return "in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  };
  if (j.is_number_unsigned() && j.get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    if (max == kLargest) fail(path, "= " + j.dump() + " is out of range");
    fail(path, "must be " + range() + ", found " + j.dump());
  }
  const auto v = j.get<std::int64_t>();
  if (v < min || v > max) fail(path, "must be " + range() + ", found " + std::to_string(v));
  return v;
}

double Fields::number(const json& j, std::string_view path) const {
  if (!j.is_number()) wrong_type(j, path, "a number");
  return j.get<double>();
}

void Fields::object(const json& j, std::string_view path, std::string_view expected) const {
  if (!j.is_object()) wrong_type(j, path, expected);
}

void Fields::array(const json& j, std::string_view path, std::string_view expected) const {
  if (!j.is_array()) wrong_type(j, path, expected);
}

bool Fields::optional_bool(const json& obj, std::string_view key, std::string_view path, bool fallback) const {
  const json* v = find(obj, key, path);
  return v ? boolean(*v, path) : fallback;
}

std::int64_t Fields::optional_int(const json& obj, std::string_view key, std::string_view path,
                                  std::int64_t fallback) const {
  const json* v = find(obj, key, path);
  return v ? integer(*v, path) : fallback;
}

std::string Fields::optional_string(const json& obj, std::string_view key, std::string_view path,
                                    std::string fallback) const {
  const json* v = find(obj, key, path);
  return v ? string(*v, path) : fallback;
}

double Fields::optional_number(const json& obj, std::string_view key, std::string_view path, double fallback) const {
  const json* v = find(obj, key, path);
  return v ? number(*v, path) : fallback;
}

std::int64_t Fields::required_int(const json& obj, std::string_view key, std::string_view path) const {
  const json* v = find(obj, key, path);
  if (!v) fail(path, "is missing");
  return integer(*v, path);
}

}  // namespace bertcpp::common
