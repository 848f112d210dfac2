// LayerNorm over the last dimension: y = (x - mean) / sqrt(var + eps) * gamma + beta.
#pragma once

#include <cstdint>

namespace bertcpp::kernels {

// x, y: [rows, hidden] row-major; x == y (in place) is allowed. gamma, beta: [hidden].
// Two-pass mean/variance in fp32 (never E[x^2] - mean^2). Parallel over rows.
void layer_norm(const float* x, float* y, std::int64_t rows, std::int64_t hidden, const float* gamma,
                const float* beta, float eps);

}  // namespace bertcpp::kernels
