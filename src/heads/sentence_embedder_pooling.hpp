// Pooling of token embeddings into one sentence vector, the Dense modules after it, and L2 normalization, as
// sentence-transformers' Pooling, Dense and Normalize modules compute them.
#pragma once

#include <cstdint>
#include <vector>

#include "bertcpp/pipelines.hpp"
#include "heads/sentence_embedder_config.hpp"

namespace bertcpp::heads {

// tokens: [length, hidden], every row attended (length >= 1); out: [hidden]. The first `skip` rows (a prompt left
// out of the pooling) do not count, except that positions keep their weights and last_token is still the last
// row; with nothing left, the result is sentence-transformers': cls the first row, max -inf, the means 0.
//   cls: row 0; mean: sum / length; max: the per-dimension maximum; mean_sqrt_len: sum / sqrt(length);
//   weighted_mean: sum of (t + 1) row t / sum of (t + 1); last_token: row length - 1.
// Sums are accumulated in double.
void pool_tokens(Pooling pooling, const float* tokens, std::int64_t length, std::int64_t hidden, float* out,
                 std::int64_t skip = 0);

// A loaded Dense module (sentence_embedder_config.hpp): weight [out, in] and residual [out, in] row-major, bias [out]
// (empty when the module has none; residual empty unless use_residual with in != out).
struct DenseLayer {
  std::int64_t in = 0, out = 0;
  std::vector<float> weight, bias, residual;
  DenseActivation activation = DenseActivation::tanh;
  bool use_residual = false;
};

// y [out] = activation(W x + b) (+ x or R x), x [in]; sums in double. y must not alias x.
void dense_forward(const DenseLayer& layer, const float* x, float* y);

// x / max(||x||_2, 1e-12), in place (torch.nn.functional.normalize).
void l2_normalize(float* x, std::int64_t hidden);

}  // namespace bertcpp::heads
