#include "kernels/linear_int8.hpp"

#include <string>
#include <unordered_map>

#include "bertcpp/error.hpp"

namespace bertcpp::kernels {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// Post-ops: the per-channel dequantization factor first, then the epilogue on real values.
dnnl::primitive_attr make_int8_attr(Epilogue epilogue, std::int64_t n) {
  dnnl::post_ops ops;
  ops.append_binary(dnnl::algorithm::binary_mul, dnnl::memory::desc({1, n}, dt::f32, tag::ab));
  return epilogue_attr(epilogue, ops);
}

}  // namespace

LinearInt8::LinearInt8(const DnnlContext& ctx, const std::vector<float>& weight, const std::vector<float>& bias,
                       std::int64_t in_features, std::int64_t out_features, Epilogue epilogue)
    : ctx_(&ctx), k_(in_features), n_(out_features), epilogue_(epilogue) {
  if (static_cast<std::int64_t>(weight.size()) != k_ * n_ ||
      (!bias.empty() && static_cast<std::int64_t>(bias.size()) != n_)) {
    throw InvalidArgumentError("LinearInt8: weight/bias sizes do not match [" + std::to_string(n_) + "," +
                               std::to_string(k_) + "]");
  }
  QuantizedWeights q = quantize_weights_s8(weight.data(), n_, k_);
  scales_ = std::move(q.scales);
  row_sums_.assign(q.row_sums.begin(), q.row_sums.end());
  bias_ = bias.empty() ? std::vector<float>(static_cast<std::size_t>(n_), 0.0f) : bias;

  layout_ = chosen_weight_layout(ctx.engine, k_, n_, GemmTypes::u8s8);
  weight_desc_ = packed_weights_desc(ctx.engine, layout_, k_, n_, GemmTypes::u8s8);
  // Wq [N, K] row-major is Wq^T {K, N} in "ba".
  const dnnl::memory::desc user_weights({k_, n_}, dt::s8, tag::ba);
  packed_weight_.resize(weight_desc_.get_size());
  dnnl::memory from(user_weights, ctx.engine, q.values.data());
  dnnl::memory to(weight_desc_, ctx.engine, packed_weight_.data());
  dnnl::stream stream(ctx.engine);
  dnnl::reorder(from, to).execute(stream, from, to);
  stream.wait();
}

GemmPrimitive LinearInt8::create(std::int64_t m) const {
  GemmPrimitive p;
  p.src = dnnl::memory::desc({m, k_}, dt::u8, tag::ab);
  p.dst = dnnl::memory::desc({m, n_}, dt::f32, tag::ab);
  const dnnl::memory::desc bias_desc({1, n_}, dt::f32, tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(p.src, weight_desc_, bias_desc, p.dst),
                                        make_int8_attr(epilogue_, n_), ctx_->engine);
  p.scratchpad = pd.scratchpad_desc();
  p.matmul = dnnl::matmul(pd);
  return p;
}

void LinearInt8::forward(GemmExec& exec, const std::uint8_t* x, QuantParams params, std::int64_t m, float* y) const {
  if (m == 0) return;
  const auto p = ctx_->gemms.get({m, k_, n_, static_cast<int>(epilogue_), true, static_cast<int>(layout_),
                                  static_cast<int>(GemmTypes::u8s8)},
                                 [&] { return create(m); });
  const auto& engine = ctx_->engine;
  const std::size_t scratch_bytes = p->scratchpad.get_size();
  if (exec.scratchpad->size() < scratch_bytes) exec.scratchpad->resize(scratch_bytes);

  // This call's dequantization factors and bias in accumulator units (see the header).
  std::vector<float> factor(static_cast<std::size_t>(n_)), bias(static_cast<std::size_t>(n_));
  const float zp = static_cast<float>(params.zero_point);
  for (std::size_t j = 0; j < factor.size(); ++j) {
    factor[j] = params.scale * scales_[j];
    bias[j] = bias_[j] / factor[j] - zp * row_sums_[j];
  }

  dnnl::memory src(p->src, engine, const_cast<std::uint8_t*>(x));
  dnnl::memory weights(weight_desc_, engine, const_cast<std::int8_t*>(packed_weight_.data()));
  dnnl::memory dst(p->dst, engine, y);
  dnnl::memory scratch(p->scratchpad, engine, exec.scratchpad->data());
  const dnnl::memory::desc vec({1, n_}, dt::f32, tag::ab);
  const std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, src},
      {DNNL_ARG_WEIGHTS, weights},
      {DNNL_ARG_DST, dst},
      {DNNL_ARG_SCRATCHPAD, scratch},
      {DNNL_ARG_BIAS, dnnl::memory(vec, engine, bias.data())},
      {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, dnnl::memory(vec, engine, factor.data())}};
  p->matmul.execute(exec.stream, args);
  // factor and bias die with this call: the CPU stream has executed the primitive before execute returns
  // (OpenMP runtime), as the fp32 Linear relies on for its arguments too.
}

}  // namespace bertcpp::kernels
