// Quantization kernels of the int8 and bf16 compute types (bertcpp/compute.hpp, docs/quantization.md).
//
// Activations (dynamic, per tensor): x in [lo, hi] -> u8 q = clamp(round(x * (1 / scale)) + zero_point, 0, 255), with
// the range widened to include 0 (so 0, the value of padding and of ReLU/GELU floors, is exact) and
// scale = (hi - lo) / 255, zero_point = round(-lo / scale). Dequantized: x ~ scale * (q - zero_point); the
// error of one element is at most scale / 2 inside the range.
// Weights (static, per output channel): W[n, :] -> s8 q = round(W / scale[n]), scale[n] = max|W[n, :]| / 127,
// symmetric (no zero point), error at most scale[n] / 2.
// Rounding is to nearest, ties to even (the CPU's default mode), everywhere.
#pragma once

#include <cstdint>
#include <vector>

namespace bertcpp::kernels {

// How a u8 tensor maps back to real values: x = scale * (q - zero_point).
struct QuantParams {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

// The parameters for values in [lo, hi] (lo <= hi), the range first widened to include 0. A range of width 0
// (all zeros) gets scale 1.
QuantParams u8_params(float lo, float hi) noexcept;

// x: [rows, cols] row-major -> q (same shape). Two passes (range, then quantize), parallel over rows.
QuantParams quantize_u8(const float* x, std::int64_t rows, std::int64_t cols, std::uint8_t* q);

// q[i] = clamp(round(x[i] * (1 / params.scale)) + zero_point, 0, 255) for a known range.
void quantize_u8_with(const float* x, std::int64_t count, QuantParams params, std::uint8_t* q);

// LayerNorm (as kernels::layer_norm, bit for bit) of x into y, and y quantized to q in the same call: each
// output row's range is taken while the row is in cache, so only the quantize pass reads y again.
QuantParams layer_norm_quantize_u8(const float* x, float* y, std::int64_t rows, std::int64_t hidden,
                                   const float* gamma, const float* beta, float eps, std::uint8_t* q);

// Weights quantized per output channel.
struct QuantizedWeights {
  std::vector<std::int8_t> values;     // [out, in] row-major, as the fp32 weights were
  std::vector<float> scales;           // [out]: W[n, k] ~ scales[n] * values[n, k]
  std::vector<std::int32_t> row_sums;  // [out]: sum over k of values[n, k] (the zero-point correction)
};
// weight: [out, in] row-major fp32.
QuantizedWeights quantize_weights_s8(const float* weight, std::int64_t out, std::int64_t in);

// bfloat16 (the upper 16 bits of an fp32) rounded to nearest even; NaN stays NaN.
std::uint16_t to_bf16(float x) noexcept;
float from_bf16(std::uint16_t x) noexcept;
// y[i] = to_bf16(x[i]), parallel.
void convert_to_bf16(const float* x, std::int64_t count, std::uint16_t* y);

}  // namespace bertcpp::kernels
