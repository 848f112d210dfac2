#include "common/json_io.hpp"

#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "bertcpp/error.hpp"
#include "common/file_io.hpp"
#include "common/json_fields.hpp"

namespace bertcpp::common {
namespace {

using nlohmann::json;

// Offset of the first '[' or '{' that opens level max_depth + 1, skipping strings; npos when there is none.
// On text that is not JSON the answer may be meaningless, but then the parser rejects the text anyway.
std::size_t depth_violation(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > max_depth) return i;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return std::string_view::npos;
}

std::string strip_exception_tag(std::string message) {
  if (!message.empty() && message.front() == '[') {
    if (const auto end = message.find("] "); end != std::string::npos) message.erase(0, end + 2);
  }
  return message;
}

// Parses per file name, for json_file_parse_count(). Files are read at load time only: a lock is cheap there.
std::mutex parse_counts_mutex;
std::map<std::string, std::uint64_t> parse_counts;

// A string for a message: JSON-quoted, at most `limit` bytes of it taken.
void append_quoted(std::string& out, std::string_view s, std::size_t limit) {
  out += json(std::string(s.substr(0, limit))).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::optional<json> try_parse_json(std::string_view text, std::string& reason, std::size_t max_depth) {
  if (const void* nul = std::memchr(text.data(), '\0', text.size())) {
    reason = "NUL byte at byte " + std::to_string(static_cast<const char*>(nul) - text.data());
    return std::nullopt;
  }
  if (const auto at = depth_violation(text, max_depth); at != std::string_view::npos) {
    reason = "arrays/objects nested deeper than " + std::to_string(max_depth) + " levels at byte " + std::to_string(at);
    return std::nullopt;
  }
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    reason = strip_exception_tag(e.what());
  }
  return std::nullopt;
}

json parse_json(std::string_view text, const std::string& source) {
  std::string reason;
  auto value = try_parse_json(text, reason);
  if (!value) throw FormatError(source + ": invalid JSON: " + reason);
  return std::move(*value);
}

json read_json_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
  {
    const std::lock_guard<std::mutex> lock(parse_counts_mutex);
    ++parse_counts[path.filename().string()];
  }
  return parse_json(read_regular_file(path, max_bytes), path.string());
}

json read_json_object(const std::filesystem::path& path, std::uint64_t max_bytes, ErrorCode code) {
  json value = read_json_file(path, max_bytes);
  if (!value.is_object()) {
    Fields::throw_error(code, path.string() + ": expected a JSON object, found " + value.type_name());
  }
  return value;
}

std::uint64_t json_file_parse_count(const std::string& file_name) {
  const std::lock_guard<std::mutex> lock(parse_counts_mutex);
  const auto it = parse_counts.find(file_name);
  return it == parse_counts.end() ? 0 : it->second;
}

std::string brief_json(const json& value, std::size_t max_chars) {
  struct Frame {
    const json* node;
    json::const_iterator next;
  };
  std::vector<Frame> stack;
  std::string out;
  // Scalars are written whole (strings cut); arrays and objects are opened and pushed.
  const auto open = [&](const json& v) {
    if (v.is_array() || v.is_object()) {
      out += v.is_array() ? '[' : '{';
      stack.push_back({&v, v.cbegin()});
    } else if (v.is_string()) {
      append_quoted(out, v.get_ref<const std::string&>(), max_chars);
    } else {
      out += v.dump();
    }
  };
  open(value);
  while (!stack.empty() && out.size() <= max_chars) {
    Frame& f = stack.back();
    if (f.next == f.node->cend()) {
      out += f.node->is_array() ? ']' : '}';
      stack.pop_back();
      continue;
    }
    if (f.next != f.node->cbegin()) out += ',';
    if (f.node->is_object()) {
      append_quoted(out, f.next.key(), max_chars);
      out += ':';
    }
    const json& child = *f.next;
    ++f.next;
    open(child);  // may grow `stack`: `f` is not used after this
  }
  if (out.size() > max_chars) {
    out.resize(max_chars > 3 ? max_chars - 3 : 0);
    // Do not leave half a UTF-8 sequence: drop the last (possibly cut) code point's bytes.
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
    out += "...";
  }
  return out;
}

}  // namespace bertcpp::common
