#include "encoder/relative_position.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace bertcpp::encoder {

std::int64_t relative_bucket(std::int64_t distance) {
  constexpr std::int64_t half = kRelativeBuckets / 2;  // one half per direction
  constexpr std::int64_t max_exact = half / 2;         // distances with a bucket of their own
  const std::int64_t n = std::abs(distance);
  const std::int64_t base = distance > 0 ? half : 0;   // keys after the query use the upper half
  if (n < max_exact) return base + n;
  // max_exact + log(n / max_exact) / log(max_distance / max_exact) * (half - max_exact), in float32 (torch's
  // fp32 log of n.float() / max_exact; the Python float log(16) scalar enters an fp32 op as float).
  const float ratio = static_cast<float>(n) / static_cast<float>(max_exact);
  const auto log_span = static_cast<float>(std::log(static_cast<double>(kRelativeMaxDistance) / max_exact));
  const float scaled = std::log(ratio) / log_span * static_cast<float>(half - max_exact);
  const std::int64_t large = max_exact + static_cast<std::int64_t>(scaled);
  return base + std::min(large, half - 1);
}

void relative_bias_table(std::span<const float> weight, std::int64_t heads, std::int64_t span, float* table) {
  const std::int64_t width = 2 * span - 1;
  for (std::int64_t i = 0; i < width; ++i) {
    const float* row = weight.data() + relative_bucket(i - (span - 1)) * heads;  // [heads]
    for (std::int64_t h = 0; h < heads; ++h) table[h * width + i] = row[h];
  }
}

}  // namespace bertcpp::encoder
