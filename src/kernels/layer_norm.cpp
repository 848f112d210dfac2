#include "kernels/layer_norm.hpp"

#include <cmath>

#include <Eigen/Core>

namespace bertcpp::kernels {

void layer_norm(const float* x, float* y, std::int64_t rows, std::int64_t hidden, const float* gamma,
                const float* beta, float eps) {
  using Row = Eigen::Map<const Eigen::ArrayXf>;
  const Row g(gamma, hidden), b(beta, hidden);
#pragma omp parallel for schedule(static)
  for (std::int64_t r = 0; r < rows; ++r) {
    const Row in(x + r * hidden, hidden);
    Eigen::Map<Eigen::ArrayXf> out(y + r * hidden, hidden);
    const float mean = in.mean();
    const float var = (in - mean).square().mean();
    const float inv_std = 1.0f / std::sqrt(var + eps);
    out = (in - mean) * inv_std * g + b;
  }
}

}  // namespace bertcpp::kernels
