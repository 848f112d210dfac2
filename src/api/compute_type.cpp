#include "bertcpp/compute.hpp"

namespace bertcpp {

std::string_view to_string(ComputeType compute) noexcept {
  switch (compute) {
    case ComputeType::fp32: return "fp32";
    case ComputeType::int8: return "int8";
    case ComputeType::bf16: return "bf16";
  }
  return "?";
}

std::optional<ComputeType> parse_compute_type(std::string_view text) noexcept {
  for (ComputeType c : {ComputeType::fp32, ComputeType::int8, ComputeType::bf16})
    if (text == to_string(c)) return c;
  return std::nullopt;
}

}  // namespace bertcpp
