#include "heads/sentence_embedder_pooling.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace bertcpp::heads {

void pool_tokens(Pooling pooling, const float* tokens, std::int64_t length, std::int64_t hidden, float* out) {
  if (pooling == Pooling::cls) {
    std::copy(tokens, tokens + hidden, out);
    return;
  }
  if (pooling == Pooling::max) {
    std::copy(tokens, tokens + hidden, out);
    for (std::int64_t t = 1; t < length; ++t) {
      const float* row = tokens + t * hidden;
      for (std::int64_t h = 0; h < hidden; ++h) out[h] = std::max(out[h], row[h]);
    }
    return;
  }
  std::vector<double> sum(static_cast<std::size_t>(hidden), 0.0);
  for (std::int64_t t = 0; t < length; ++t) {
    const float* row = tokens + t * hidden;
    for (std::int64_t h = 0; h < hidden; ++h) sum[static_cast<std::size_t>(h)] += row[h];
  }
  const double n = static_cast<double>(length);
  const double divisor = pooling == Pooling::mean ? n : std::sqrt(n);
  for (std::int64_t h = 0; h < hidden; ++h) out[h] = static_cast<float>(sum[static_cast<std::size_t>(h)] / divisor);
}

void l2_normalize(float* x, std::int64_t hidden) {
  double squares = 0.0;
  for (std::int64_t h = 0; h < hidden; ++h) squares += static_cast<double>(x[h]) * x[h];
  const double norm = std::max(std::sqrt(squares), 1e-12);
  for (std::int64_t h = 0; h < hidden; ++h) x[h] = static_cast<float>(x[h] / norm);
}

}  // namespace bertcpp::heads
