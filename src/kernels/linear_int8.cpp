#include "kernels/linear_int8.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

#include <Eigen/Core>
#include <omp.h>
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
                       const std::vector<std::int32_t>& outlier_channels)
    : ctx_(&ctx), k_(in_features), n_(out_features), epilogue_(epilogue), outlier_index_(outlier_channels) {
  if (static_cast<std::int64_t>(weight.size()) != k_ * n_ ||
      (!bias.empty() && static_cast<std::int64_t>(bias.size()) != n_)) {
    throw InvalidArgumentError("LinearInt8: weight/bias sizes do not match [" + std::to_string(n_) + "," +
                               std::to_string(k_) + "]");
  }
  for (std::size_t j = 0; j < outlier_index_.size(); ++j) {
    const std::int32_t c = outlier_index_[j];
    if (c < 0 || c >= k_ || (j > 0 && c <= outlier_index_[j - 1]))
      throw InvalidArgumentError("LinearInt8: outlier channels must be increasing indices below " + std::to_string(k_) +
                                 " (channel " + std::to_string(c) + " at position " + std::to_string(j) + ")");
  }
  // The outlier columns move to the fp32 part ([J, N]) and are zero in what is quantized, so that they neither
  // widen a row's weight scale nor contribute to the s8 product.
  const auto J = static_cast<std::int64_t>(outlier_index_.size());
  QuantizedWeights q;
  if (J == 0) {
    q = quantize_weights_s8(weight.data(), n_, k_, int8_levels().weight_max);
  } else {
    std::vector<float> rest(weight);
    outlier_weight_.resize(static_cast<std::size_t>(J * n_));
    for (std::int64_t n = 0; n < n_; ++n) {
      for (std::int64_t j = 0; j < J; ++j) {
        float& w = rest[static_cast<std::size_t>(n * k_ + outlier_index_[static_cast<std::size_t>(j)])];
        outlier_weight_[static_cast<std::size_t>(j * n_ + n)] = w;
        w = 0.0f;
      }
    }
    q = quantize_weights_s8(rest.data(), n_, k_, int8_levels().weight_max);
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

void LinearInt8::epilogue_rows(const std::int32_t* acc, const Input& x, std::int64_t m, float* y,
                               const Requantize* requantize) const {
  using Eigen::ArrayXf;
  using Eigen::ArrayXi;
  const Eigen::Map<const ArrayXf> sw(scales_.data(), n_), b(bias_.data(), n_);
  const Eigen::Map<const ArrayXi> rowsum(row_sums_.data(), n_);
  const auto J = static_cast<std::int64_t>(outlier_index_.size());
  constexpr float kSqrtHalf = 0.70710678118654752f, kSqrt2OverPi = 0.79788456080286536f;
  const bool scratch = requantize && !requantize->keep_output;
#pragma omp parallel
  {
    // The rows split as `omp for schedule(static)` would; with `scratch`, every row of a thread goes through
    // the first row of its share (in L1), not to its own row of y.
    const std::int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const std::int64_t begin = m * t / threads, end = m * (t + 1) / threads;
    for (std::int64_t r = begin; r < end; ++r) {
      const Eigen::Map<const ArrayXi> a(acc + r * n_, n_);
      Eigen::Map<ArrayXf> out(y + (scratch ? begin : r) * n_, n_);
      const float sx = x.row_scale[r];
      const std::int32_t z = x.row_zero_point[r];
      const auto value = (a - z * rowsum).cast<float>() * (sx * sw) + b;
      // The s8 part plus the fp32 outlier channels' products (up to four in the same pass over the row), plus the
      // residual, then the activation in place.
      const float* o = J > 0 ? x.outliers + r * J : nullptr;
      const auto w = [&](std::int64_t j) { return Eigen::Map<const ArrayXf>(outlier_weight_.data() + j * n_, n_); };
      const auto assign = [&](const auto& expr) {
        if (epilogue_ == Epilogue::residual) out += expr;
        else out = expr;
      };
      switch (std::min<std::int64_t>(J, 4)) {
        case 0: assign(value); break;
        case 1: assign(value + o[0] * w(0)); break;
        case 2: assign(value + o[0] * w(0) + o[1] * w(1)); break;
        case 3: assign(value + o[0] * w(0) + o[1] * w(1) + o[2] * w(2)); break;
        default: assign(value + o[0] * w(0) + o[1] * w(1) + o[2] * w(2) + o[3] * w(3)); break;
      }
      for (std::int64_t j = 4; j < J; ++j) out += o[j] * w(j);
      switch (epilogue_) {
        case Epilogue::residual:
        case Epilogue::none: break;
        case Epilogue::gelu_erf: out = 0.5f * out * (1.0f + (out * kSqrtHalf).erf()); break;
        case Epilogue::gelu_tanh: out = 0.5f * out * (1.0f + (kSqrt2OverPi * (out + 0.044715f * out.cube())).tanh()); break;
        case Epilogue::relu: out = out.max(0.0f); break;
        case Epilogue::silu: out = out * out.logistic(); break;
        case Epilogue::tanh: out = out.tanh(); break;
      }
      if (requantize) {
        const QuantParams p = quantize_row_u8(out.data(), n_, requantize->outlier, requantize->out.q + r * n_,
                                              requantize->out.outlier_row(r, requantize->outlier.count));
        requantize->out.scale[r] = p.scale;
        requantize->out.zero_point[r] = p.zero_point;
      }
    }
  }
}

void LinearInt8::forward(GemmExec& exec, const Input& x, std::int64_t m, float* y,
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
    dnnl::memory src(p->src, engine, const_cast<std::uint8_t*>(x.q + r0 * k_));
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
      block_requantize.out.outliers = requantize->out.outlier_row(r0, requantize->outlier.count);
    }
    const auto J = static_cast<std::int64_t>(outlier_index_.size());
    const Input block_x{x.q + r0 * k_, x.row_scale + r0, x.row_zero_point + r0,
                        J > 0 ? x.outliers + r0 * J : nullptr};
    epilogue_rows(acc.data(), block_x, rows, y + r0 * n_, requantize ? &block_requantize : nullptr);
  }
}

}  // namespace bertcpp::kernels
