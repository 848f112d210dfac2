#include "kernels/dense.hpp"

#include <string>

#include "bertcpp/error.hpp"
#include "kernels/layer_norm.hpp"

namespace bertcpp::kernels {
namespace {

template <typename Vector>
void grow(Vector& v, std::int64_t n) {
  if (static_cast<std::int64_t>(v.size()) < n) v.resize(static_cast<std::size_t>(n));
}

}  // namespace

Dense::Dense(const DnnlContext& ctx, ComputeType compute, const std::vector<float>& weight,
             const std::vector<float>& bias, std::int64_t in_features, std::int64_t out_features, Epilogue epilogue)
    : compute_(compute) {
  switch (compute) {
    case ComputeType::fp32: f32_ = Linear(ctx, weight, bias, in_features, out_features, epilogue); break;
    case ComputeType::int8: int8_ = LinearInt8(ctx, weight, bias, in_features, out_features, epilogue); break;
    case ComputeType::bf16: bf16_ = LinearBf16(ctx, weight, bias, in_features, out_features, epilogue); break;
  }
}

std::int64_t Dense::in_features() const noexcept {
  switch (compute_) {
    case ComputeType::int8: return int8_.in_features();
    case ComputeType::bf16: return bf16_.in_features();
    case ComputeType::fp32: break;
  }
  return f32_.in_features();
}

std::int64_t Dense::out_features() const noexcept {
  switch (compute_) {
    case ComputeType::int8: return int8_.out_features();
    case ComputeType::bf16: return bf16_.out_features();
    case ComputeType::fp32: break;
  }
  return f32_.out_features();
}

GemmInput prepare_gemm_input(ComputeType compute, const float* x, std::int64_t rows, std::int64_t cols,
                             GemmInputBuffers& buffers) {
  GemmInput in;
  switch (compute) {
    case ComputeType::fp32: in.f32 = x; break;
    case ComputeType::int8:
      grow(buffers.u8, rows * cols);
      in.params = quantize_u8(x, rows, cols, buffers.u8.data());
      in.u8 = buffers.u8.data();
      break;
    case ComputeType::bf16:
      grow(buffers.bf16, rows * cols);
      convert_to_bf16(x, rows * cols, buffers.bf16.data());
      in.bf16 = buffers.bf16.data();
      break;
  }
  return in;
}

GemmInput Dense::prepare(const float* x, std::int64_t m, GemmInputBuffers& buffers) const {
  return prepare_gemm_input(compute_, x, m, in_features(), buffers);
}

GemmInput layer_norm_prepared(ComputeType compute, const float* x, float* y, std::int64_t rows, std::int64_t hidden,
                              const float* gamma, const float* beta, float eps, GemmInputBuffers& buffers) {
  if (compute != ComputeType::int8) {
    layer_norm(x, y, rows, hidden, gamma, beta, eps);
    return prepare_gemm_input(compute, y, rows, hidden, buffers);
  }
  grow(buffers.u8, rows * hidden);
  GemmInput in;
  in.params = layer_norm_quantize_u8(x, y, rows, hidden, gamma, beta, eps, buffers.u8.data());
  in.u8 = buffers.u8.data();
  return in;
}

void Dense::forward(GemmExec& exec, const GemmInput& x, std::int64_t m, float* y) const {
  switch (compute_) {
    case ComputeType::fp32:
      if (!x.f32) throw InvalidArgumentError("Dense: fp32 layer given an input not prepared as fp32");
      f32_.forward(exec, x.f32, m, y);
      return;
    case ComputeType::int8:
      if (!x.u8) throw InvalidArgumentError("Dense: int8 layer given an input not quantized to u8");
      int8_.forward(exec, x.u8, x.params, m, y);
      return;
    case ComputeType::bf16:
      if (!x.bf16) throw InvalidArgumentError("Dense: bf16 layer given an input not converted to bf16");
      bf16_.forward(exec, x.bf16, m, y);
      return;
  }
}

}  // namespace bertcpp::kernels
