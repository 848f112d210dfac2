#include "kernels/linear_bf16.hpp"

#include <unordered_map>

#include "bertcpp/error.hpp"
#include "kernels/quantize.hpp"

namespace bertcpp::kernels {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

}  // namespace

bool bf16_supported() noexcept {
  // ISA values are nested bit masks: every ISA with native bf16 (avx512_core_bf16, avx512_core_amx) contains
  // avx512_core_bf16's bits.
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  return (isa & bf16) == bf16;
}

std::string effective_isa_name() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: return "SSE4.1";
    case dnnl::cpu_isa::avx: return "AVX";
    case dnnl::cpu_isa::avx2: return "AVX2";
    case dnnl::cpu_isa::avx2_vnni: return "AVX2 with AVX-VNNI";
    case dnnl::cpu_isa::avx512_mic: return "AVX-512 (Xeon Phi)";
    case dnnl::cpu_isa::avx512_mic_4ops: return "AVX-512 (Xeon Phi, 4ops)";
    case dnnl::cpu_isa::avx512_core: return "AVX-512";
    case dnnl::cpu_isa::avx512_core_vnni: return "AVX-512 with VNNI";
    case dnnl::cpu_isa::avx512_core_bf16: return "AVX-512 with BF16";
    case dnnl::cpu_isa::avx512_core_amx: return "AVX-512 with AMX";
    default: return "unknown";
  }
}

LinearBf16::LinearBf16(const DnnlContext& ctx, const std::vector<float>& weight, const std::vector<float>& bias,
                       std::int64_t in_features, std::int64_t out_features, Epilogue epilogue)
    : ctx_(&ctx), k_(in_features), n_(out_features), epilogue_(epilogue), bias_(bias) {
  if (!bf16_supported()) {
    throw UnsupportedError("compute type bf16 needs a CPU with AVX512-BF16 (avx512_bf16) or AMX; oneDNN reports '" +
                           effective_isa_name() + "' here, which lacks AVX512-BF16");
  }
  if (static_cast<std::int64_t>(weight.size()) != k_ * n_ ||
      (!bias.empty() && static_cast<std::int64_t>(bias.size()) != n_)) {
    throw InvalidArgumentError("LinearBf16: weight/bias sizes do not match [" + std::to_string(n_) + "," +
                               std::to_string(k_) + "]");
  }
  if (!bias_.empty()) bias_desc_ = dnnl::memory::desc({1, n_}, dt::f32, tag::ab);
  layout_ = chosen_weight_layout(ctx.engine, k_, n_, GemmTypes::bf16);
  weight_desc_ = packed_weights_desc(ctx.engine, layout_, k_, n_, GemmTypes::bf16);
  std::vector<std::uint16_t> rounded(weight.size());
  convert_to_bf16(weight.data(), static_cast<std::int64_t>(weight.size()), rounded.data());
  const dnnl::memory::desc user_weights({k_, n_}, dt::bf16, tag::ba);  // W [N, K] row-major
  packed_weight_.resize(weight_desc_.get_size() / sizeof(std::uint16_t));
  dnnl::memory from(user_weights, ctx.engine, rounded.data());
  dnnl::memory to(weight_desc_, ctx.engine, packed_weight_.data());
  dnnl::stream stream(ctx.engine);
  dnnl::reorder(from, to).execute(stream, from, to);
  stream.wait();
}

GemmPrimitive LinearBf16::create(std::int64_t m) const {
  GemmPrimitive p;
  p.src = dnnl::memory::desc({m, k_}, dt::bf16, tag::ab);
  p.dst = dnnl::memory::desc({m, n_}, dt::f32, tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(p.src, weight_desc_, bias_desc_, p.dst),
                                        epilogue_attr(epilogue_), ctx_->engine);
  p.scratchpad = pd.scratchpad_desc();
  p.matmul = dnnl::matmul(pd);
  return p;
}

void LinearBf16::forward(GemmExec& exec, const std::uint16_t* x, std::int64_t m, float* y) const {
  if (m == 0) return;
  const auto p = ctx_->gemms.get({m, k_, n_, static_cast<int>(epilogue_), !bias_.empty(), static_cast<int>(layout_),
                                  static_cast<int>(GemmTypes::bf16)},
                                 [&] { return create(m); });
  const auto& engine = ctx_->engine;
  const std::size_t scratch_bytes = p->scratchpad.get_size();
  if (exec.scratchpad->size() < scratch_bytes) exec.scratchpad->resize(scratch_bytes);
  dnnl::memory src(p->src, engine, const_cast<std::uint16_t*>(x));
  dnnl::memory weights(weight_desc_, engine, const_cast<std::uint16_t*>(packed_weight_.data()));
  dnnl::memory dst(p->dst, engine, y);
  dnnl::memory scratch(p->scratchpad, engine, exec.scratchpad->data());
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCRATCHPAD, scratch}};
  if (!bias_.empty()) args.emplace(DNNL_ARG_BIAS, dnnl::memory(bias_desc_, engine, const_cast<float*>(bias_.data())));
  p->matmul.execute(exec.stream, args);
}

}  // namespace bertcpp::kernels
