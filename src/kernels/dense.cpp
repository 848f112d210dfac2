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
             const std::vector<float>& bias, std::int64_t in_features, std::int64_t out_features, Epilogue epilogue,
             const std::vector<std::int32_t>& outlier_channels)
    : compute_(compute) {
  if (!outlier_channels.empty() && compute != ComputeType::int8)
    throw InvalidArgumentError("Dense: outlier channels are for int8 layers only");
  switch (compute) {
    case ComputeType::fp32: linear_ = Linear(ctx, weight, bias, in_features, out_features, epilogue); break;
    case ComputeType::int8:
      int8_ = LinearInt8(ctx, weight, bias, in_features, out_features, epilogue, outlier_channels);
      break;
    case ComputeType::bf16:
      linear_ = Linear(ctx, weight, bias, in_features, out_features, epilogue, GemmTypes::bf16);
      break;
  }
}

std::int64_t Dense::in_features() const noexcept {
  return compute_ == ComputeType::int8 ? int8_.in_features() : linear_.in_features();
}

std::int64_t Dense::out_features() const noexcept {
  return compute_ == ComputeType::int8 ? int8_.out_features() : linear_.out_features();
}

namespace {

// The per-row int8 buffers for [rows, cols] with `outlier` channels, grown as needed; `in` points at them.
RowQuantTarget int8_target(GemmInputBuffers& buffers, std::int64_t rows, std::int64_t cols, OutlierChannels outlier,
                           GemmInput& in) {
  grow(buffers.u8, rows * cols);
  grow(buffers.row_scale, rows);
  grow(buffers.row_zero_point, rows);
  grow(buffers.outliers, rows * outlier.count);
  in.int8 = {buffers.u8.data(), buffers.row_scale.data(), buffers.row_zero_point.data(),
             outlier.count > 0 ? buffers.outliers.data() : nullptr};
  return {buffers.u8.data(), buffers.row_scale.data(), buffers.row_zero_point.data(), buffers.outliers.data()};
}

}  // namespace

GemmInput Dense::prepare(const float* x, std::int64_t m, GemmInputBuffers& buffers) const {
  GemmInput in;
  const std::int64_t k = in_features();
  switch (compute_) {
    case ComputeType::fp32: in.f32 = x; break;
    case ComputeType::int8: {
      const OutlierChannels outlier = int8_.outlier_channels();
      quantize_rows_u8(x, m, k, outlier, int8_target(buffers, m, k, outlier, in));
      break;
    }
    case ComputeType::bf16:
      grow(buffers.bf16, m * k);
      convert_to_bf16(x, m * k, buffers.bf16.data());
      in.bf16 = buffers.bf16.data();
      break;
  }
  return in;
}

GemmInput layer_norm_prepared(const Dense* consumer, const float* x, float* y, std::int64_t rows,
                              std::int64_t hidden, const float* gamma, const float* beta, float eps,
                              GemmInputBuffers& buffers) {
  if (consumer == nullptr || consumer->compute() != ComputeType::int8) {
    layer_norm(x, y, rows, hidden, gamma, beta, eps);
    if (consumer == nullptr) {
      GemmInput in;
      in.f32 = y;
      return in;
    }
    return consumer->prepare(y, rows, buffers);
  }
  GemmInput in;
  const OutlierChannels outlier = consumer->int8_outlier_channels();
  layer_norm_quantize_rows_u8(x, y, rows, hidden, gamma, beta, eps, outlier,
                              int8_target(buffers, rows, hidden, outlier, in));
  return in;
}

void Dense::forward(GemmExec& exec, const GemmInput& x, std::int64_t m, float* y) const {
  switch (compute_) {
    case ComputeType::fp32:
      if (!x.f32) throw InvalidArgumentError("Dense: fp32 layer given an input not prepared as fp32");
      linear_.forward(exec, x.f32, m, y);
      return;
    case ComputeType::int8:
      if (!x.int8.q) throw InvalidArgumentError("Dense: int8 layer given an input not quantized to u8");
      int8_.forward(exec, x.int8, m, y);
      return;
    case ComputeType::bf16:
      if (!x.bf16) throw InvalidArgumentError("Dense: bf16 layer given an input not converted to bf16");
      linear_.forward(exec, x.bf16, m, y);
      return;
  }
}

GemmInput Dense::forward_then_prepare(GemmExec& exec, const GemmInput& x, std::int64_t m, float* y,
                                     const Dense& next, GemmInputBuffers& next_buffers, bool keep_output) const {
  if (compute_ != ComputeType::int8 || next.compute_ != ComputeType::int8) {
    forward(exec, x, m, y);
    return next.prepare(y, m, next_buffers);
  }
  if (!x.int8.q) throw InvalidArgumentError("Dense: int8 layer given an input not quantized to u8");
  GemmInput out;
  const OutlierChannels next_outlier = next.int8_.outlier_channels();
  const LinearInt8::Requantize requantize{next_outlier, int8_target(next_buffers, m, out_features(), next_outlier, out),
                                          keep_output};
  int8_.forward(exec, x.int8, m, y, &requantize);
  return out;
}

}  // namespace bertcpp::kernels
