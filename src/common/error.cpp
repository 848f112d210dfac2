#include "bertcpp/error.hpp"

namespace bertcpp {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::io: return "io";
    case ErrorCode::format: return "format";
    case ErrorCode::config: return "config";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::invalid_utf8: return "invalid_utf8";
  }
  return "unknown";
}

}  // namespace bertcpp
