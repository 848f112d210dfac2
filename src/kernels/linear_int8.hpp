// Int8 linear layers over oneDNN matmul: y[M, N] = epilogue(dequant(xq[M, K] * Wq^T) + b).
//
// Weights are quantized once at load, symmetric per output channel (kernels/quantize.hpp), after an optional
// per-input-channel smoothing (below), and reordered into the layout measured fastest for s8 weights
// (chosen_weight_layout with GemmTypes::u8s8). The input arrives quantized to u8 per token row (scale s_x[m],
// zero point z[m]); oneDNN multiplies u8 x s8 into s32 (VNNI's vpdpbusd on AVX512-VNNI / AVX-VNNI CPUs), and
// bertcpp's epilogue pass turns each s32 row into real values while it is in cache:
//
//   y[m, n] = s_x[m] s_w[n] (acc[m, n] - z[m] rowsum_w[n]) + b[n], then the activation or the residual sum.
//
// The zero-point correction is exact integer arithmetic (|z rowsum| <= 255 * 127 * K < 2^31 for K < 66000).
// Why not oneDNN post-ops, as the fp32 GEMMs use: oneDNN 2.6 applies per-row ([M, 1]) scales and zero points
// only in its reference implementation, and one scale for the whole tensor lets a single outlier token (BERT's
// [CLS] / [SEP] rows) coarsen every other token's quantization step (docs/quantization.md has the figures).
//
// Smoothing (as SmoothQuant): a few input channels of a BERT activation are 10-50x larger than the rest, and
// with one step per row they make the step coarse for all the others. Scaling input channel k of the weights by
// smooth[k] and dividing the activation by it leaves the product unchanged and moves part of that range into
// the weights, whose per-output-channel scales absorb it better. The factors come from calibration at load
// (encoder/bert_encoder.cpp); the quantizers divide by them (inv_smooth()) while quantizing, at no extra pass.
//
// The primitive never depends on the values of s_x, z, the weights or the epilogue, so every int8 layer of
// one shape shares it through GemmCache.
#pragma once

#include <cstdint>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "common/aligned.hpp"
#include "kernels/linear.hpp"
#include "kernels/quantize.hpp"

namespace bertcpp::kernels {

class LinearInt8 {
 public:
  LinearInt8() = default;
  // weight: [out_features, in_features] row-major fp32, bias: [out_features] (may be empty), smooth:
  // [in_features] positive factors or empty (none).
  LinearInt8(const DnnlContext& ctx, const std::vector<float>& weight, const std::vector<float>& bias,
             std::int64_t in_features, std::int64_t out_features, Epilogue epilogue,
             const std::vector<float>& smooth = {});

  // 1 / smooth [in_features], or null without smoothing: what the quantizer of this layer's input multiplies by.
  const float* inv_smooth() const noexcept { return inv_smooth_.empty() ? nullptr : inv_smooth_.data(); }

  // x: [M, K] u8, row m quantized from x[m, :] * inv_smooth() with (row_scale[m], row_zero_point[m]);
  // y: [M, N] fp32 (read too when the epilogue is `residual`). Thread-safe.
  // `requantize`, when set (not with the residual epilogue): each output row is also quantized for the next
  // int8 layer while it is in cache (FFN up -> FFN down), saving that layer's own pass over y.
  struct Requantize {
    const float* inv_smooth;  // the next layer's inv_smooth()
    RowQuantTarget out;       // [M, N] u8 + [M] scales and zero points; must not alias x's buffers
  };
  void forward(GemmExec& exec, const std::uint8_t* x, const float* row_scale, const std::int32_t* row_zero_point,
               std::int64_t m, float* y, const Requantize* requantize = nullptr) const;

  std::int64_t in_features() const noexcept { return k_; }
  std::int64_t out_features() const noexcept { return n_; }
  WeightLayout layout() const noexcept { return layout_; }
  std::size_t packed_bytes() const noexcept {
    return packed_weight_.size() + (bias_.size() + scales_.size() + row_sums_.size() + inv_smooth_.size()) * 4;
  }

 private:
  GemmPrimitive create(std::int64_t m) const;
  // y rows [0, m) from the s32 rows acc (see the file comment).
  void epilogue_rows(const std::int32_t* acc, const float* row_scale, const std::int32_t* row_zero_point,
                     std::int64_t m, float* y, const Requantize* requantize) const;

  const DnnlContext* ctx_ = nullptr;
  std::int64_t k_ = 0, n_ = 0;
  Epilogue epilogue_ = Epilogue::none;
  WeightLayout layout_ = WeightLayout::onednn_preferred;
  dnnl::memory::desc weight_desc_;             // s8 {K, N} in the chosen layout
  common::PackedVector<std::byte> packed_weight_;   // Wq^T in weight_desc_'s layout (with oneDNN's compensation, if any)
  common::AlignedVector<float> bias_;          // b [N], zeros when the checkpoint has none
  common::AlignedVector<float> scales_;        // s_w [N]
  common::AlignedVector<std::int32_t> row_sums_;  // rowsum_w [N]
  common::AlignedVector<float> inv_smooth_;    // [K] or empty
};

}  // namespace bertcpp::kernels
