// bf16 linear layers over oneDNN matmul: y[M, N] = epilogue(bf16(x)[M, K] * bf16(W)^T + b), fp32 accumulation.
//
// Needs a CPU whose oneDNN ISA includes AVX512-BF16 (or AMX): bf16_supported() says so, and the constructor
// throws UnsupportedError naming the missing instruction set otherwise (oneDNN would emulate bf16 on
// AVX512-core only, slower than fp32, and not at all on AVX2). Weights are rounded to bf16 once at load and
// packed in the layout measured fastest for bf16 (GemmTypes::bf16); the input arrives already converted
// (kernels::convert_to_bf16). Bias, epilogue and residual are fp32, as in Linear.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "common/aligned.hpp"
#include "kernels/linear.hpp"

namespace bertcpp::kernels {

// Whether oneDNN's effective ISA on this CPU (after ONEDNN_MAX_CPU_ISA) has native bf16 dot products.
bool bf16_supported() noexcept;
// oneDNN's effective ISA, e.g. "AVX2", "AVX-512 with VNNI", "AVX-512 with BF16", "AMX".
std::string effective_isa_name();

class LinearBf16 {
 public:
  LinearBf16() = default;
  // weight: [out_features, in_features] row-major fp32, bias: [out_features] (may be empty).
  LinearBf16(const DnnlContext& ctx, const std::vector<float>& weight, const std::vector<float>& bias,
             std::int64_t in_features, std::int64_t out_features, Epilogue epilogue);

  // x: [M, K] bf16 bits; y: [M, N] fp32 (read too when the epilogue is `residual`). Thread-safe.
  void forward(GemmExec& exec, const std::uint16_t* x, std::int64_t m, float* y) const;

  std::int64_t in_features() const noexcept { return k_; }
  std::int64_t out_features() const noexcept { return n_; }
  WeightLayout layout() const noexcept { return layout_; }

 private:
  GemmPrimitive create(std::int64_t m) const;

  const DnnlContext* ctx_ = nullptr;
  std::int64_t k_ = 0, n_ = 0;
  Epilogue epilogue_ = Epilogue::none;
  WeightLayout layout_ = WeightLayout::onednn_preferred;
  dnnl::memory::desc weight_desc_, bias_desc_;
  common::PackedVector<std::uint16_t> packed_weight_;  // bf16(W)^T in weight_desc_'s layout
  std::vector<float> bias_;
};

}  // namespace bertcpp::kernels
