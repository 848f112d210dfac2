// Scaled dot-product attention over packed sequences.
//
// The encoder keeps the activations of a whole batch as one packed matrix of real tokens, [total_tokens, ...],
// with sequence b occupying rows [offsets[b], offsets[b+1]). Attention runs per (sequence, head, block of
// queries), so no work is spent on padding and no mask is needed: every token attends to exactly the tokens of
// its sequence.
//
// attention() is blocked (flash-attention style): keys and values are visited in blocks of `key_block` rows with
// an online softmax (a running row max and row sum; earlier partial results are rescaled when the max grows),
// so the scratch per thread is O(query_block x key_block + query_block x head_dim) whatever the sequence length.
// Q K^T and P V of each block are oneDNN sgemm calls (its JIT kernel for the CPU at hand, single-threaded
// inside the task); the 1/sqrt(d) scale is folded into the first one as alpha.
// attention_full_scores() is the plain kernel it replaced (whole len x len score matrix per head), kept as the
// reference twin for tests.
//
// Both take an optional additive score bias that depends only on the distance between key and query (MPNet's
// relative position bias, encoder/relative_position.hpp): score(h, i, j) = Q_i . K_j / sqrt(d) + bias(h, j - i),
// before the softmax. A null bias leaves the kernels exactly as they are without one.
#pragma once

#include <cstdint>
#include <span>
#include "common/aligned.hpp"

namespace bertcpp::kernels {

struct AttentionShape {
  std::int64_t num_heads = 0;
  std::int64_t head_dim = 0;  // hidden = num_heads * head_dim
};

// Defaults measured on BERT-base shapes (1x128 .. 1x512; docs/benchmarks.md): within noise of each other from
// 32 to 128 queries and 128 to 512 keys; 256 keys keeps sequences up to 256 tokens in one softmax step.
struct AttentionBlocking {
  std::int64_t query_block = 64;  // queries per task (rows of the score block)
  std::int64_t key_block = 256;   // keys per online-softmax step (columns of the score block)
};

// bias(h, j - i) = table[h * (2 * span - 1) + (pos(j) - pos(i)) + span - 1], where pos(t) is positions[t] (the
// token's column in its input row: masked-out tokens leave gaps, as in transformers' padded row) or, with no
// positions, the token's index in its sequence. Every |pos(j) - pos(i)| of a sequence must be < span.
struct RelativeBias {
  const float* table = nullptr;              // [num_heads, 2 * span - 1]; null: no bias
  std::int64_t span = 0;                     // distances -(span - 1) .. span - 1
  const std::int32_t* positions = nullptr;   // [total_tokens], or null: 0, 1, 2, ... within each sequence
};

// qkv:     [total_tokens, 3 * hidden]: per token Q (heads x head_dim), then K, then V - the fused projection.
// context: [total_tokens, hidden]: softmax(Q K^T / sqrt(head_dim)) V, heads side by side.
// offsets: [batch + 1], offsets[0] == 0, offsets[batch] == total_tokens.
// scratch: per-thread blocks, resized as needed (reused across calls).
// threads: OpenMP threads for the (sequence, head, query block) tasks; 0 = the OpenMP default.
// bias:    added to the scaled scores before the softmax (see RelativeBias); default: none.
void attention(const float* qkv, float* context, std::span<const std::int64_t> offsets, const AttentionShape& shape,
               common::AlignedVector<float>& scratch, int threads = 0, const AttentionBlocking& blocking = {},
               const RelativeBias& bias = {});

// The unblocked kernel: S = Q K^T / sqrt(d) (+ bias) for the whole sequence, row softmax, S V. Scratch
// threads x len^2.
void attention_full_scores(const float* qkv, float* context, std::span<const std::int64_t> offsets,
                           const AttentionShape& shape, common::AlignedVector<float>& scores,
                           const RelativeBias& bias = {});

// In-place softmax of each row of x [rows, cols], subtracting the row max first.
void softmax_rows(float* x, std::int64_t rows, std::int64_t cols);

}  // namespace bertcpp::kernels
