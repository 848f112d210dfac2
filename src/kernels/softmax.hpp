// The softmax (and sigmoid) of every task head: logits to probabilities, in place. (Attention's row softmax,
// attention.cpp, stays inside its kernel: it accumulates in fp32 on the hot path.)
#pragma once

#include <cstdint>
#include <span>

namespace bertcpp::kernels {

// x [rows, cols] row-major, in place: each row exp(x - max) / sum, the sum accumulated in double (so that the
// probabilities over a 30k-token vocabulary row match transformers' to fp32 rounding).
void probabilities(float* x, std::int64_t rows, std::int64_t cols);
inline void probabilities(std::span<float> x) { probabilities(x.data(), 1, static_cast<std::int64_t>(x.size())); }

// 1 / (1 + exp(-x)) of each value, in place.
void sigmoid(std::span<float> x);

}  // namespace bertcpp::kernels
