// Scaled dot-product attention over packed sequences.
//
// The encoder keeps the activations of a whole batch as one packed matrix of real tokens, [total_tokens, ...],
// with sequence b occupying rows [offsets[b], offsets[b+1]). Attention runs per (sequence, head) block, so no
// work is spent on padding and no mask is needed: every token attends to exactly the tokens of its sequence.
#pragma once

#include <cstdint>
#include <span>
#include "common/aligned.hpp"

namespace bertcpp::kernels {

struct AttentionShape {
  std::int64_t num_heads = 0;
  std::int64_t head_dim = 0;  // hidden = num_heads * head_dim
};

// qkv:     [total_tokens, 3 * hidden]: per token Q (heads x head_dim), then K, then V - the fused projection.
// context: [total_tokens, hidden]: softmax(Q K^T / sqrt(head_dim)) V, heads side by side.
// offsets: [batch + 1], offsets[0] == 0, offsets[batch] == total_tokens.
// scores:  scratch, resized to threads x max_len^2 floats (reused across calls).
void attention(const float* qkv, float* context, std::span<const std::int64_t> offsets,
               const AttentionShape& shape, common::AlignedVector<float>& scores);

// In-place softmax of each row of x [rows, cols], subtracting the row max first.
void softmax_rows(float* x, std::int64_t rows, std::int64_t cols);

}  // namespace bertcpp::kernels
