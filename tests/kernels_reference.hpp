// Plain reference twins of the optimized kernels, used only by tests: straightforward loops in double.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

namespace bertcpp::testing::reference {

// y[m, n] = x[m, :] . w[n, :] + b[n]   (w as nn.Linear stores it: [out, in])
inline std::vector<double> linear(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
                                  std::int64_t m, std::int64_t k, std::int64_t n) {
  std::vector<double> y(static_cast<std::size_t>(m * n));
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double acc = b.empty() ? 0.0 : b[j];
      for (std::int64_t p = 0; p < k; ++p) acc += double(x[i * k + p]) * double(w[j * k + p]);
      y[i * n + j] = acc;
    }
  return y;
}

inline double gelu_erf(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
inline double gelu_tanh(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}
inline double silu(double x) { return x / (1.0 + std::exp(-x)); }

inline std::vector<double> layer_norm(const std::vector<float>& x, std::int64_t rows, std::int64_t h,
                                      const std::vector<float>& gamma, const std::vector<float>& beta, double eps) {
  std::vector<double> y(x.size());
  for (std::int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (std::int64_t j = 0; j < h; ++j) mean += x[r * h + j];
    mean /= double(h);
    for (std::int64_t j = 0; j < h; ++j) var += (x[r * h + j] - mean) * (x[r * h + j] - mean);
    var /= double(h);
    for (std::int64_t j = 0; j < h; ++j)
      y[r * h + j] = (x[r * h + j] - mean) / std::sqrt(var + eps) * gamma[j] + beta[j];
  }
  return y;
}

// qkv [tokens, 3H] packed sequences -> context [tokens, H]. `bias`, when given, is added to the scaled score of
// head h, query token i and key token j (packed rows): bias(h, i, j).
inline std::vector<double> attention(const std::vector<float>& qkv, const std::vector<std::int64_t>& offsets,
                                     std::int64_t heads, std::int64_t d,
                                     const std::function<double(std::int64_t, std::int64_t, std::int64_t)>& bias = {}) {
  const std::int64_t H = heads * d, total = offsets.back();
  std::vector<double> ctx(static_cast<std::size_t>(total * H), 0.0);
  for (std::size_t b = 0; b + 1 < offsets.size(); ++b) {
    const std::int64_t begin = offsets[b], len = offsets[b + 1] - begin;
    for (std::int64_t h = 0; h < heads; ++h)
      for (std::int64_t i = 0; i < len; ++i) {
        std::vector<double> s(static_cast<std::size_t>(len));
        double mx = -1e300;
        for (std::int64_t j = 0; j < len; ++j) {
          double acc = 0;
          for (std::int64_t p = 0; p < d; ++p)
            acc += double(qkv[(begin + i) * 3 * H + h * d + p]) * double(qkv[(begin + j) * 3 * H + H + h * d + p]);
          s[j] = acc / std::sqrt(double(d)) + (bias ? bias(h, begin + i, begin + j) : 0.0);
          mx = std::max(mx, s[j]);
        }
        double sum = 0;
        for (auto& v : s) sum += (v = std::exp(v - mx));
        for (std::int64_t p = 0; p < d; ++p) {
          double acc = 0;
          for (std::int64_t j = 0; j < len; ++j) acc += s[j] / sum * double(qkv[(begin + j) * 3 * H + 2 * H + h * d + p]);
          ctx[(begin + i) * H + h * d + p] = acc;
        }
      }
  }
  return ctx;
}

}  // namespace bertcpp::testing::reference
