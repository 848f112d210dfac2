// bertcpp/compute.hpp - the arithmetic the encoder's large matrix products use (LoadOptions::compute).
//
//   fp32  every product in fp32 (the default; matches transformers to ~1e-5).
//   int8  dynamic quantization: weights quantized once at load to int8 (symmetric, one scale per output
//         channel), each product's input quantized right before it to uint8 (one scale and zero point per
//         token), int32 accumulation, fp32 output; the 4 input channels of each product with the largest
//         values (found by calibration at load) stay fp32. Attention, softmax, LayerNorm and the embeddings
//         stay fp32. About 3x faster than fp32 on CPUs with AVX512-VNNI / AVX-VNNI; all-MiniLM-L6-v2
//         embeddings: mean cosine 0.9995 to fp32
//         (docs/quantization.md has the figures, and the 7-bit weights of CPUs without VNNI).
//   bf16  weights and product inputs rounded to bfloat16, fp32 accumulation. Only on CPUs with AVX512-BF16
//         or AMX: elsewhere BertModel::load throws UnsupportedError naming the missing instruction set.
#pragma once

#include <optional>
#include <string_view>

namespace bertcpp {

enum class ComputeType { fp32, int8, bf16 };

// "fp32", "int8", "bf16".
std::string_view to_string(ComputeType compute) noexcept;
// The inverse of to_string; nullopt for any other text.
std::optional<ComputeType> parse_compute_type(std::string_view text) noexcept;

}  // namespace bertcpp
