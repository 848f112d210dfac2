// Int8 linear layers over oneDNN matmul: y[M, N] = epilogue(dequant(xq[M, K] * Wq^T) + b).
//
// Weights are quantized once at load, symmetric per output channel (kernels/quantize.hpp), and reordered into
// the layout measured fastest for s8 weights (chosen_weight_layout with GemmTypes::u8s8). The input x arrives
// quantized to u8 with one (scale s_x, zero point z) for the tensor; oneDNN multiplies u8 x s8 into s32
// (VNNI's vpdpbusd on AVX512-VNNI / AVX-VNNI CPUs) and the epilogue runs on the dequantized values:
//
//   y[m, n] = s_x s_w[n] (sum_k xq[m, k] Wq[n, k] - z rowsum_w[n]) + b[n]
//           = s_x s_w[n] (acc[m, n] + b[n] / (s_x s_w[n]) - z rowsum_w[n])
//
// oneDNN 2.6 adds the matmul bias to the s32 accumulator before any scaling, so the per-call bias is the
// second bracket's tail, and the per-channel factor s_x s_w[n] is a binary-multiply post-op on a runtime
// [1, N] tensor. Measured here (AVX512-VNNI, 2 threads, M=128, K=768, N=3072 + GELU): this form runs as
// brg:avx512_core_vnni at ~730 GOP/s, whereas runtime output scales (set_output_scales with
// DNNL_RUNTIME_F32_VAL) select gemm:jit at ~540 GOP/s, and a runtime src zero point costs another ~5%.
// The primitive never depends on the values of s_x, z or the weights, so it is shared through GemmCache.
#pragma once

#include <cstdint>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "kernels/linear.hpp"
#include "kernels/quantize.hpp"

namespace bertcpp::kernels {

class LinearInt8 {
 public:
  LinearInt8() = default;
  // weight: [out_features, in_features] row-major fp32, bias: [out_features] (may be empty).
  LinearInt8(const DnnlContext& ctx, const std::vector<float>& weight, const std::vector<float>& bias,
             std::int64_t in_features, std::int64_t out_features, Epilogue epilogue);

  // x: [M, K] u8 quantized with `params`; y: [M, N] fp32 (read too when the epilogue is `residual`).
  // Thread-safe.
  void forward(GemmExec& exec, const std::uint8_t* x, QuantParams params, std::int64_t m, float* y) const;

  std::int64_t in_features() const noexcept { return k_; }
  std::int64_t out_features() const noexcept { return n_; }
  WeightLayout layout() const noexcept { return layout_; }
  std::size_t packed_bytes() const noexcept {
    return packed_weight_.size() + (bias_.size() + scales_.size() + row_sums_.size()) * sizeof(float);
  }

 private:
  GemmPrimitive create(std::int64_t m) const;

  const DnnlContext* ctx_ = nullptr;
  std::int64_t k_ = 0, n_ = 0;
  Epilogue epilogue_ = Epilogue::none;
  WeightLayout layout_ = WeightLayout::onednn_preferred;
  dnnl::memory::desc weight_desc_;         // s8 {K, N} in the chosen layout
  std::vector<std::int8_t> packed_weight_;  // Wq^T in weight_desc_'s layout (with oneDNN's compensation, if any)
  std::vector<float> bias_;                 // b [N], zeros when the checkpoint has none
  std::vector<float> scales_;               // s_w [N]
  std::vector<float> row_sums_;             // rowsum_w [N] (exact: |sum| <= 127 K < 2^24)
};

}  // namespace bertcpp::kernels
