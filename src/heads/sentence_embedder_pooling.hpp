// Pooling of token embeddings into one sentence vector, and L2 normalization, as sentence-transformers'
// Pooling and Normalize modules compute them.
#pragma once

#include <cstdint>

#include "bertcpp/pipelines.hpp"

namespace bertcpp::heads {

// tokens: [length, hidden], every row attended (length >= 1); out: [hidden].
//   cls: row 0; mean: sum / length; max: the per-dimension maximum; mean_sqrt_len: sum / sqrt(length).
// Sums are accumulated in double.
void pool_tokens(Pooling pooling, const float* tokens, std::int64_t length, std::int64_t hidden, float* out);

// x / max(||x||_2, 1e-12), in place (torch.nn.functional.normalize).
void l2_normalize(float* x, std::int64_t hidden);

}  // namespace bertcpp::heads
