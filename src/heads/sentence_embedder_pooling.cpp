#include "heads/sentence_embedder_pooling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace bertcpp::heads {

void pool_tokens(Pooling pooling, const float* tokens, std::int64_t length, std::int64_t hidden, float* out,
                 std::int64_t skip) {
  const std::int64_t first = std::clamp<std::int64_t>(skip, 0, length);  // the first row that counts
  if (pooling == Pooling::cls || pooling == Pooling::last_token) {
    // cls: the first counted row (sentence-transformers takes the first unmasked position; none: row 0).
    const std::int64_t t = pooling == Pooling::last_token ? length - 1 : first < length ? first : 0;
    std::copy(tokens + t * hidden, tokens + (t + 1) * hidden, out);
    return;
  }
  if (pooling == Pooling::max) {
    std::fill(out, out + hidden, -std::numeric_limits<float>::infinity());
    for (std::int64_t t = first; t < length; ++t) {
      const float* row = tokens + t * hidden;
      for (std::int64_t h = 0; h < hidden; ++h) out[h] = std::max(out[h], row[h]);
    }
    return;
  }
  // Position weights t + 1 for weighted_mean (sentence-transformers' arange(1, n + 1)), 1 otherwise.
  const bool weighted = pooling == Pooling::weighted_mean;
  std::vector<double> sum(static_cast<std::size_t>(hidden), 0.0);
  double weights = 0.0;
  for (std::int64_t t = first; t < length; ++t) {
    const float* row = tokens + t * hidden;
    const double w = weighted ? static_cast<double>(t + 1) : 1.0;
    weights += w;
    for (std::int64_t h = 0; h < hidden; ++h) sum[static_cast<std::size_t>(h)] += w * row[h];
  }
  // sentence-transformers clamps the divisor at 1e-9: nothing counted gives zeros.
  const double divisor = std::max(pooling == Pooling::mean_sqrt_len ? std::sqrt(weights) : weights, 1e-9);
  for (std::int64_t h = 0; h < hidden; ++h) out[h] = static_cast<float>(sum[static_cast<std::size_t>(h)] / divisor);
}

void dense_forward(const DenseLayer& layer, const float* x, float* y) {
  for (std::int64_t o = 0; o < layer.out; ++o) {
    const float* w = layer.weight.data() + o * layer.in;
    double v = layer.bias.empty() ? 0.0 : layer.bias[static_cast<std::size_t>(o)];
    for (std::int64_t i = 0; i < layer.in; ++i) v += static_cast<double>(w[i]) * x[i];
    switch (layer.activation) {
      case DenseActivation::identity: break;
      case DenseActivation::tanh: v = std::tanh(v); break;
      case DenseActivation::relu: v = std::max(v, 0.0); break;
      case DenseActivation::gelu: v = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); break;  // nn.GELU()
      case DenseActivation::sigmoid: v = 1.0 / (1.0 + std::exp(-v)); break;
      case DenseActivation::silu: v = v / (1.0 + std::exp(-v)); break;
    }
    if (layer.use_residual) {
      if (layer.residual.empty()) {
        v += x[o];  // in == out
      } else {
        const float* r = layer.residual.data() + o * layer.in;
        for (std::int64_t i = 0; i < layer.in; ++i) v += static_cast<double>(r[i]) * x[i];
      }
    }
    y[o] = static_cast<float>(v);
  }
}

void l2_normalize(float* x, std::int64_t hidden) {
  double squares = 0.0;
  for (std::int64_t h = 0; h < hidden; ++h) squares += static_cast<double>(x[h]) * x[h];
  const double norm = std::max(std::sqrt(squares), 1e-12);
  for (std::int64_t h = 0; h < hidden; ++h) x[h] = static_cast<float>(x[h] / norm);
}

}  // namespace bertcpp::heads
