#include "kernels/linear_int8.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>

#include "bertcpp/error.hpp"

namespace bertcpp::kernels {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

constexpr std::int64_t kRowBlock = 256;

}  // namespace

LinearInt8::LinearInt8(const DnnlContext& ctx, const std::vector<float>& weight, const std::vector<float>& bias,
                       std::int64_t in_features, std::int64_t out_features, Epilogue epilogue,
                       const std::vector<float>& smooth)
    : ctx_(&ctx), k_(in_features), n_(out_features), epilogue_(epilogue) {
  if (static_cast<std::int64_t>(weight.size()) != k_ * n_ ||
      (!bias.empty() && static_cast<std::int64_t>(bias.size()) != n_) ||
      (!smooth.empty() && static_cast<std::int64_t>(smooth.size()) != k_)) {
    throw InvalidArgumentError("LinearInt8: weight/bias/smoothing sizes do not match [" + std::to_string(n_) + "," +
                               std::to_string(k_) + "]");
  }
  QuantizedWeights q;
  if (smooth.empty()) {
    q = quantize_weights_s8(weight.data(), n_, k_, int8_levels().weight_max);
  } else {
    std::vector<float> smoothed(weight.size());
    inv_smooth_.resize(static_cast<std::size_t>(k_));
    for (std::int64_t j = 0; j < k_; ++j) {
      if (!(smooth[j] > 0.0f) || !std::isfinite(smooth[j]))
        throw InvalidArgumentError("LinearInt8: smoothing factor " + std::to_string(j) + " is not positive and finite");
      inv_smooth_[j] = 1.0f / smooth[j];
    }
    for (std::int64_t i = 0; i < n_; ++i)
      for (std::int64_t j = 0; j < k_; ++j) smoothed[i * k_ + j] = weight[i * k_ + j] * smooth[j];
    q = quantize_weights_s8(smoothed.data(), n_, k_, int8_levels().weight_max);
  }
  scales_.assign(q.scales.begin(), q.scales.end());
  row_sums_.assign(q.row_sums.begin(), q.row_sums.end());
  if (bias.empty()) bias_.assign(static_cast<std::size_t>(n_), 0.0f);
  else bias_.assign(bias.begin(), bias.end());

  layout_ = chosen_weight_layout(ctx.engine, k_, n_, GemmTypes::u8s8);
  weight_desc_ = packed_weights_desc(ctx.engine, layout_, k_, n_, GemmTypes::u8s8);
  pack_weights(ctx.engine, GemmTypes::u8s8, k_, n_, q.values.data(), weight_desc_, packed_weight_);
}

GemmPrimitive LinearInt8::create(std::int64_t m) const {
  GemmPrimitive p;
  p.src = dnnl::memory::desc({m, k_}, dt::u8, tag::ab);
  p.dst = dnnl::memory::desc({m, n_}, dt::s32, tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(p.src, weight_desc_, p.dst),
                                        epilogue_attr(Epilogue::none), ctx_->engine);
  p.scratchpad = pd.scratchpad_desc();
  p.matmul = dnnl::matmul(pd);
  return p;
}

void LinearInt8::epilogue_rows(const std::int32_t* acc, const float* row_scale, const std::int32_t* row_zero_point,
                               std::int64_t m, float* y, const Requantize* requantize) const {
  using Eigen::ArrayXf;
  using Eigen::ArrayXi;
  const Eigen::Map<const ArrayXf> sw(scales_.data(), n_), b(bias_.data(), n_);
  const Eigen::Map<const ArrayXi> rowsum(row_sums_.data(), n_);
  constexpr float kSqrtHalf = 0.70710678118654752f, kSqrt2OverPi = 0.79788456080286536f;
#pragma omp parallel for schedule(static)
  for (std::int64_t r = 0; r < m; ++r) {
    const Eigen::Map<const ArrayXi> a(acc + r * n_, n_);
    Eigen::Map<ArrayXf> out(y + r * n_, n_);
    const float sx = row_scale[r];
    const std::int32_t z = row_zero_point[r];
    const auto value = (a - z * rowsum).cast<float>() * (sx * sw) + b;
    switch (epilogue_) {
      case Epilogue::residual: out += value; break;
      case Epilogue::none: out = value; break;
      case Epilogue::gelu_erf:
        out = value;
        out = 0.5f * out * (1.0f + (out * kSqrtHalf).erf());
        break;
      case Epilogue::gelu_tanh:
        out = value;
        out = 0.5f * out * (1.0f + (kSqrt2OverPi * (out + 0.044715f * out.cube())).tanh());
        break;
      case Epilogue::relu: out = value.max(0.0f); break;
      case Epilogue::silu:
        out = value;
        out = out * out.logistic();
        break;
      case Epilogue::tanh: out = value.tanh(); break;
    }
    if (requantize) {
      const QuantParams p = quantize_row_u8(out.data(), n_, requantize->inv_smooth, requantize->out.q + r * n_);
      requantize->out.scale[r] = p.scale;
      requantize->out.zero_point[r] = p.zero_point;
    }
  }
}

void LinearInt8::forward(GemmExec& exec, const std::uint8_t* x, const float* row_scale,
                         const std::int32_t* row_zero_point, std::int64_t m, float* y,
                         const Requantize* requantize) const {
  if (m == 0) return;
  if (requantize && epilogue_ == Epilogue::residual)
    throw InvalidArgumentError("LinearInt8: a residual output cannot be requantized in the epilogue");
  // Blocks of kRowBlock rows: each block's s32 result ([256, N] is 3 MB at N = 3072) is turned into y by the
  // epilogue while it is still in cache, instead of a whole [M, N] s32 tensor going out to memory and back.
  const std::int64_t block = std::min(m, kRowBlock);
  common::AlignedVector<std::int32_t> own;
  common::AlignedVector<std::int32_t>& acc = exec.accumulator ? *exec.accumulator : own;
  if (static_cast<std::int64_t>(acc.size()) < block * n_) acc.resize(static_cast<std::size_t>(block * n_));
  const auto& engine = ctx_->engine;
  dnnl::memory weights(weight_desc_, engine, const_cast<std::byte*>(packed_weight_.data()));
  for (std::int64_t r0 = 0; r0 < m; r0 += block) {
    const std::int64_t rows = std::min(block, m - r0);
    const auto p = ctx_->gemms.get({rows, k_, n_, static_cast<int>(Epilogue::none), false, static_cast<int>(layout_),
                                    static_cast<int>(GemmTypes::u8s8)},
                                   [&] { return create(rows); });
    const std::size_t scratch_bytes = p->scratchpad.get_size();
    if (exec.scratchpad->size() < scratch_bytes) exec.scratchpad->resize(scratch_bytes);
    dnnl::memory src(p->src, engine, const_cast<std::uint8_t*>(x + r0 * k_));
    dnnl::memory dst(p->dst, engine, acc.data());
    dnnl::memory scratch(p->scratchpad, engine, exec.scratchpad->data());
    p->matmul.execute(exec.stream, {{DNNL_ARG_SRC, src},
                                    {DNNL_ARG_WEIGHTS, weights},
                                    {DNNL_ARG_DST, dst},
                                    {DNNL_ARG_SCRATCHPAD, scratch}});
    exec.stream.wait();  // the epilogue reads the s32 result (a no-op wait with the CPU runtime)
    Requantize block_requantize;
    if (requantize) {
      block_requantize = *requantize;
      block_requantize.out.q += r0 * n_;
      block_requantize.out.scale += r0;
      block_requantize.out.zero_point += r0;
    }
    epilogue_rows(acc.data(), row_scale + r0, row_zero_point + r0, rows, y + r0 * n_,
                  requantize ? &block_requantize : nullptr);
  }
}

}  // namespace bertcpp::kernels
