#include "kernels/linear.hpp"

#include <string>

#include "bertcpp/error.hpp"

namespace bertcpp::kernels {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// The M used to ask oneDNN for its preferred weight layout; any M then runs on that layout.
constexpr std::int64_t kLayoutProbeM = 128;

dnnl::primitive_attr make_attr(Epilogue epilogue) {
  dnnl::post_ops ops;
  switch (epilogue) {
    case Epilogue::none: break;
    case Epilogue::gelu_erf: ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f); break;
    case Epilogue::gelu_tanh: ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_tanh, 0.0f, 0.0f); break;
    case Epilogue::relu: ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f); break;
    case Epilogue::silu: ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.0f, 0.0f); break;
    case Epilogue::tanh: ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_tanh, 0.0f, 0.0f); break;
    case Epilogue::residual: ops.append_sum(1.0f); break;
  }
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

}  // namespace

Linear::Linear(const DnnlContext& ctx, const std::vector<float>& weight, const std::vector<float>& bias,
               std::int64_t in_features, std::int64_t out_features, Epilogue epilogue)
    : ctx_(&ctx), k_(in_features), n_(out_features), epilogue_(epilogue), bias_(bias) {
  if (static_cast<std::int64_t>(weight.size()) != k_ * n_ ||
      (!bias.empty() && static_cast<std::int64_t>(bias.size()) != n_)) {
    throw InvalidArgumentError("Linear: weight/bias sizes do not match [" + std::to_string(n_) + "," +
                               std::to_string(k_) + "]");
  }
  // Ask oneDNN which weight layout it wants for this (K, N), then reorder the checkpoint's [N, K] into it.
  const dnnl::memory::desc src({kLayoutProbeM, k_}, dt::f32, tag::ab);
  const dnnl::memory::desc dst({kLayoutProbeM, n_}, dt::f32, tag::ab);
  const dnnl::memory::desc any_weights({k_, n_}, dt::f32, tag::any);
  if (!bias_.empty()) bias_desc_ = dnnl::memory::desc({1, n_}, dt::f32, tag::ab);
  const dnnl::matmul::primitive_desc probe(dnnl::matmul::desc(src, any_weights, bias_desc_, dst),
                                           make_attr(epilogue_), ctx.engine);
  weight_desc_ = probe.weights_desc();

  packed_weight_.resize(weight_desc_.get_size() / sizeof(float));
  // W [N, K] row-major is W^T [K, N] in column-major order: format tag "ba" for dims {K, N}.
  const dnnl::memory::desc user_weights({k_, n_}, dt::f32, tag::ba);
  dnnl::memory from(user_weights, ctx.engine, const_cast<float*>(weight.data()));
  dnnl::memory to(weight_desc_, ctx.engine, packed_weight_.data());
  dnnl::stream stream(ctx.engine);
  dnnl::reorder(from, to).execute(stream, from, to);
  stream.wait();
}

GemmPrimitive Linear::create(std::int64_t m) const {
  GemmPrimitive p;
  p.src = dnnl::memory::desc({m, k_}, dt::f32, tag::ab);
  p.dst = dnnl::memory::desc({m, n_}, dt::f32, tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(p.src, weight_desc_, bias_desc_, p.dst),
                                        make_attr(epilogue_), ctx_->engine);
  p.scratchpad = pd.scratchpad_desc();
  p.matmul = dnnl::matmul(pd);
  return p;
}

void Linear::forward(GemmExec& exec, const float* x, std::int64_t m, float* y) const {
  if (m == 0) return;
  const GemmPrimitive& p = ctx_->gemms.get({m, k_, n_, static_cast<int>(epilogue_), !bias_.empty()},
                                            [&] { return create(m); });
  const auto& engine = ctx_->engine;
  const std::size_t scratch_bytes = p.scratchpad.get_size();
  if (exec.scratchpad->size() < scratch_bytes) exec.scratchpad->resize(scratch_bytes);

  dnnl::memory src(p.src, engine, const_cast<float*>(x));
  dnnl::memory weights(weight_desc_, engine, const_cast<float*>(packed_weight_.data()));
  dnnl::memory dst(p.dst, engine, y);
  dnnl::memory scratch(p.scratchpad, engine, exec.scratchpad->data());
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCRATCHPAD, scratch}};
  if (!bias_.empty()) args.emplace(DNNL_ARG_BIAS, dnnl::memory(bias_desc_, engine, const_cast<float*>(bias_.data())));
  p.matmul.execute(exec.stream, args);
}

}  // namespace bertcpp::kernels
