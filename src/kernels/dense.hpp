// A linear layer in the model's compute type (bertcpp/compute.hpp): Linear (fp32 or bf16) or LinearInt8.
//
// The input of a low-precision GEMM has to be converted first (quantized to u8, or rounded to bf16). That is a
// separate step, prepare(), so that the encoder can fuse it with the op producing the input
// (layer_norm_prepared: LayerNorm and the range of its output in one pass) and so that one prepared input can
// feed several GEMMs. For fp32 prepare() is free and forward() is exactly Linear::forward.
#pragma once

#include <cstdint>
#include <vector>

#include "bertcpp/compute.hpp"
#include "common/aligned.hpp"
#include "kernels/linear.hpp"
#include "kernels/linear_int8.hpp"
#include "kernels/quantize.hpp"

namespace bertcpp::kernels {

// x [M, K] in the form a GEMM of some compute type reads: f32, int8.q or bf16 is set.
struct GemmInput {
  const float* f32 = nullptr;
  LinearInt8::Input int8;  // u8 quantized per row, with the outlier channels' fp32 values (linear_int8.hpp)
  const std::uint16_t* bf16 = nullptr;
};

// Where prepare() puts converted inputs; grown as needed. One per concurrent caller (it lives in the
// encoder's Workspace). A GemmInput pointing here is valid until the next prepare() into the same buffers.
struct GemmInputBuffers {
  common::AlignedVector<std::uint8_t> u8;
  common::AlignedVector<float> row_scale;
  common::AlignedVector<std::int32_t> row_zero_point;
  common::AlignedVector<float> outliers;
  common::AlignedVector<std::uint16_t> bf16;
};

class Dense {
 public:
  Dense() = default;
  // weight: [out_features, in_features] row-major fp32 (any storage dtype already converted), bias: [out] or
  // empty. bf16 on a CPU without native bf16: UnsupportedError (see linear.hpp).
  // `outlier_channels` (int8 only, may be empty): input channels kept in fp32 (linear_int8.hpp).
  Dense(const DnnlContext& ctx, ComputeType compute, const std::vector<float>& weight, const std::vector<float>& bias,
        std::int64_t in_features, std::int64_t out_features, Epilogue epilogue,
        const std::vector<std::int32_t>& outlier_channels = {});

  ComputeType compute() const noexcept { return compute_; }
  // int8: the channels the input's quantizer leaves out and copies (none for the other types).
  OutlierChannels int8_outlier_channels() const noexcept {
    return compute_ == ComputeType::int8 ? int8_.outlier_channels() : OutlierChannels{};
  }
  std::int64_t in_features() const noexcept;
  std::int64_t out_features() const noexcept;

  // x [M, K] fp32 in the form this layer reads (fp32: x itself; int8: quantized per row into buffers.u8, the
  // outlier channels copied into buffers.outliers; bf16: rounded into buffers.bf16).
  GemmInput prepare(const float* x, std::int64_t m, GemmInputBuffers& buffers) const;

  // y [M, N] = epilogue(x W^T + b); x must have been prepared for this compute type. Thread-safe.
  void forward(GemmExec& exec, const GemmInput& x, std::int64_t m, float* y) const;

  // forward(), then y prepared for `next` into next_buffers (which must not be x's). Both int8: one pass, the
  // output rows quantized in this layer's epilogue (FFN up -> FFN down); without keep_output, y [M, N] is only
  // scratch there and its contents afterwards are unspecified (the fp32 output is not written out).
  GemmInput forward_then_prepare(GemmExec& exec, const GemmInput& x, std::int64_t m, float* y, const Dense& next,
                                 GemmInputBuffers& next_buffers, bool keep_output = true) const;

 private:
  ComputeType compute_ = ComputeType::fp32;
  Linear linear_;  // fp32 and bf16
  LinearInt8 int8_;
};

// LayerNorm of x into y ([rows, hidden], in place allowed; bit for bit kernels::layer_norm), and y prepared
// for `consumer` (null: fp32, y itself). int8 quantizes each row while LayerNorm has it in cache.
GemmInput layer_norm_prepared(const Dense* consumer, const float* x, float* y, std::int64_t rows,
                              std::int64_t hidden, const float* gamma, const float* beta, float eps,
                              GemmInputBuffers& buffers);

}  // namespace bertcpp::kernels
