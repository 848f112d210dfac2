// Quantization kernels of the int8 and bf16 compute types (bertcpp/compute.hpp, docs/quantization.md).
//
// Activations (dynamic, per token row): row r of x, in [lo_r, hi_r] ->
// u8 q = clamp(round(x * (1 / scale_r)) + zero_point_r, 0, 255), with the range widened to include 0 (so 0, the
// value of padding and of ReLU/GELU floors, is exact), scale_r = (hi_r - lo_r) / 255,
// zero_point_r = round(-lo_r / scale_r). Dequantized: x ~ scale_r * (q - zero_point_r); the error of one
// element is at most scale_r / 2 inside the range. One row's outliers (the [CLS]/[SEP] tokens of BERT models
// carry activations 10-100x the others') no longer coarsen every other token's step, as one range per
// tensor did. The consuming layer's outlier channels (linear_int8.hpp), when it has any, are left out of the
// range: their q is the zero point (the quantized 0) and their fp32 values are copied out for the layer's
// fp32 part.
// Weights (static, per output channel): W[n, :] -> s8 q = round(W / scale[n]), scale[n] = max|W[n, :]| / L,
// symmetric (no zero point), error at most scale[n] / 2; L = 127, or 63 on CPUs without VNNI
// (kernels::int8_levels).
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

// The parameters for values in [lo, hi] (lo <= hi), the range first widened to include 0, mapped onto
// [0, max_level]. A range of width 0 (all zeros) gets scale 1.
QuantParams u8_params(float lo, float hi, int max_level = 255) noexcept;

// The integer ranges int8 uses on this CPU (oneDNN's effective ISA). With VNNI (AVX512-VNNI, AVX-VNNI:
// vpdpbusd sums u8 x s8 products exactly in s32): activations u8 [0, 255], weights s8 [-127, 127]. Without
// (AVX2, AVX-512 before VNNI): oneDNN multiplies with vpmaddubsw, which adds two u8 x s8 products in a
// saturating int16; 2 x 255 x 127 overflows it (measured under ONEDNN_MAX_CPU_ISA=AVX2: outputs off by up to
// 0.3 at unit scale), so one operand gives up a bit: the activations ([0, 127]; 2 x 127 x 127 fits), measured
// closer to fp32 than 7-bit weights. The coarser grid is made up for by keeping 8 input channels of each GEMM
// in fp32 instead of 4 (docs/quantization.md has the figures).
struct Int8Levels {
  int activation_max;    // u8 activations use [0, activation_max]
  int weight_max;        // s8 weights use [-weight_max, weight_max]
  int outlier_channels;  // input channels of each int8 GEMM kept in fp32 (linear_int8.hpp)
};
Int8Levels int8_levels() noexcept;

// The input channels an int8 layer keeps in fp32 (linear_int8.hpp): `count` column indices, strictly
// increasing. Empty: none.
struct OutlierChannels {
  const std::int32_t* index = nullptr;
  std::int64_t count = 0;
};

// Where a per-row quantized [rows, cols] tensor goes: q [rows, cols], scale [rows], zero_point [rows], and
// outliers [rows, channels.count]: the fp32 values of the outlier channels (unused when there are none).
struct RowQuantTarget {
  std::uint8_t* q;
  float* scale;
  std::int32_t* zero_point;
  float* outliers = nullptr;

  // Row r's outlier values, for `count` outlier channels (null when there are none).
  float* outlier_row(std::int64_t r, std::int64_t count) const noexcept {
    return count > 0 ? outliers + r * count : nullptr;
  }
};

// One row x [cols] -> q [cols] in [0, int8_levels().activation_max], the outlier channels' values into
// outliers [outlier.count]; returns the row's parameters. Two passes over the row (range, then quantize): a
// row of a BERT activation (<= 16 KB) stays in L1 in between.
QuantParams quantize_row_u8(const float* x, std::int64_t cols, OutlierChannels outlier, std::uint8_t* q,
                            float* outliers);

// x: [rows, cols] row-major -> per-row u8 (see above), parallel over rows.
void quantize_rows_u8(const float* x, std::int64_t rows, std::int64_t cols, OutlierChannels outlier,
                      RowQuantTarget out);

// q[i] = clamp(round(x[i] * (1 / params.scale)) + zero_point, 0, 255) for a known range.
void quantize_u8_with(const float* x, std::int64_t count, QuantParams params, std::uint8_t* q);

// LayerNorm (as kernels::layer_norm, bit for bit) of x into y, and y quantized per row into `out` in the same
// call, each row while it is in cache.
void layer_norm_quantize_rows_u8(const float* x, float* y, std::int64_t rows, std::int64_t hidden,
                                 const float* gamma, const float* beta, float eps, OutlierChannels outlier,
                                 RowQuantTarget out);

// Weights quantized per output channel.
struct QuantizedWeights {
  std::vector<std::int8_t> values;     // [out, in] row-major, as the fp32 weights were
  std::vector<float> scales;           // [out]: W[n, k] ~ scales[n] * values[n, k]
  std::vector<std::int32_t> row_sums;  // [out]: sum over k of values[n, k] (the zero-point correction)
};
// weight: [out, in] row-major fp32; values in [-max_level, max_level] (scale[n] = max|W[n, :]| / max_level).
QuantizedWeights quantize_weights_s8(const float* weight, std::int64_t out, std::int64_t in, int max_level = 127);

// bfloat16 (the upper 16 bits of an fp32) rounded to nearest even; NaN stays NaN.
std::uint16_t to_bf16(float x) noexcept;
float from_bf16(std::uint16_t x) noexcept;
// y[i] = to_bf16(x[i]), parallel.
void convert_to_bf16(const float* x, std::int64_t count, std::uint16_t* y);

}  // namespace bertcpp::kernels
