#include "kernels/softmax.hpp"

#include <algorithm>
#include <cmath>

namespace bertcpp::kernels {

void probabilities(float* x, std::int64_t rows, std::int64_t cols) {
  if (cols <= 0) return;
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    const float mx = *std::max_element(row, row + cols);
    double sum = 0;
    for (std::int64_t c = 0; c < cols; ++c) sum += (row[c] = std::exp(row[c] - mx));
    for (std::int64_t c = 0; c < cols; ++c) row[c] = static_cast<float>(row[c] / sum);
  }
}

void sigmoid(std::span<float> x) {
  for (float& v : x) v = 1.0f / (1.0f + std::exp(-v));
}

}  // namespace bertcpp::kernels
