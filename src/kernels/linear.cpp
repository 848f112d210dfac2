#include "kernels/linear.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "bertcpp/error.hpp"
#include "kernels/quantize.hpp"

namespace bertcpp::kernels {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// The token count at which layouts are compared: a sentence or a short batch, the shapes where the choice
// matters most (at M >= 1024 every layout runs within a few percent of the others).
constexpr std::int64_t kLayoutProbeM = 128;

// Data types of x and W for each GemmTypes.
dt src_type(GemmTypes types) {
  switch (types) {
    case GemmTypes::f32: return dt::f32;
    case GemmTypes::u8s8: return dt::u8;
    case GemmTypes::bf16: return dt::bf16;
  }
  return dt::f32;
}
dt weight_type(GemmTypes types) { return types == GemmTypes::u8s8 ? dt::s8 : src_type(types); }

// Sets every element of `mem` to `value` (f32, bf16) or 1 (u8, s8): normal numbers, as real weights are.
void fill(dnnl::memory& mem, float value) {
  const dnnl::memory::desc desc = mem.get_desc();
  const std::size_t bytes = desc.get_size();
  switch (desc.data_type()) {
    case dt::f32: std::fill_n(static_cast<float*>(mem.get_data_handle()), bytes / sizeof(float), value); break;
    case dt::bf16: {
      std::uint32_t bits;
      std::memcpy(&bits, &value, sizeof bits);
      std::fill_n(static_cast<std::uint16_t*>(mem.get_data_handle()), bytes / 2, static_cast<std::uint16_t>(bits >> 16));
      break;
    }
    default: std::memset(mem.get_data_handle(), 1, bytes); break;
  }
}

// Seconds of one [kLayoutProbeM, K] x [K, N] matmul with weights in `desc`: the better of two runs after a
// warm-up. Values are constants: speed does not depend on them, and the result is thrown away.
double time_layout(const dnnl::engine& engine, const dnnl::memory::desc& desc, std::int64_t k, std::int64_t n,
                   GemmTypes types) {
  const dnnl::memory::desc src_md({kLayoutProbeM, k}, src_type(types), tag::ab);
  const dnnl::memory::desc dst_md({kLayoutProbeM, n}, dt::f32, tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, desc, dst_md), engine);
  dnnl::memory src(src_md, engine), weights(desc, engine), dst(dst_md, engine);
  fill(src, 0.5f);
  fill(weights, 0.25f);
  const dnnl::matmul matmul(pd);
  dnnl::stream stream(engine);
  const std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
  double best = 1e30;
  for (int run = 0; run < 3; ++run) {
    const auto start = std::chrono::steady_clock::now();
    matmul.execute(stream, args);
    stream.wait();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (run > 0) best = std::min(best, seconds);
  }
  return best;
}

// Layers are timed on at most kMaxProbeDim x kMaxProbeDim of their weights: the layouts' ranking depends on how
// K and N are blocked, not on how many blocks there are, and the probe stays cheap (a few ms per shape; a
// vocabulary projection of 30k columns costs no more than any other).
constexpr std::int64_t kMaxProbeDim = 1024;
// Another layout replaces oneDNN's preferred one only when it is at least this much faster: near-ties are noise
// in a short probe on a hot cache, and inside a model (weights streamed from L3) the preferred layout measured
// better than plain ones that tied with it in the probe.
constexpr double kRequiredSpeedup = 1.10;

WeightLayout measure_layout(const dnnl::engine& engine, std::int64_t full_k, std::int64_t full_n, GemmTypes types) {
  const std::int64_t k = std::min(full_k, kMaxProbeDim), n = std::min(full_n, kMaxProbeDim);
  WeightLayout best = WeightLayout::onednn_preferred;
  double best_seconds = 1e30;
  std::vector<dnnl::memory::desc> tried;
  for (WeightLayout layout : {WeightLayout::onednn_preferred, WeightLayout::plain_nk, WeightLayout::plain_kn}) {
    const dnnl::memory::desc desc = packed_weights_desc(engine, layout, k, n, types);
    if (std::find(tried.begin(), tried.end(), desc) != tried.end()) continue;  // "any" resolved to a plain one
    tried.push_back(desc);
    const double seconds = time_layout(engine, desc, k, n, types);
    const double margin = layout == WeightLayout::onednn_preferred ? 1.0 : kRequiredSpeedup;
    if (seconds * margin < best_seconds) {
      best_seconds = seconds;
      best = layout;
    }
  }
  return best;
}

// BERTCPP_WEIGHT_LAYOUT: unset or "auto" = measure; "any", "ab", "ba" = that layout for every Linear.
bool forced_layout(WeightLayout& layout) {
  const char* env = std::getenv("BERTCPP_WEIGHT_LAYOUT");
  if (!env || !*env || std::string(env) == "auto") return false;
  const std::string value(env);
  if (value == "any") layout = WeightLayout::onednn_preferred;
  else if (value == "ab") layout = WeightLayout::plain_kn;
  else if (value == "ba") layout = WeightLayout::plain_nk;
  else throw InvalidArgumentError("BERTCPP_WEIGHT_LAYOUT='" + value + "' is not one of auto, any, ab, ba");
  return true;
}

}  // namespace

dnnl::primitive_attr epilogue_attr(Epilogue epilogue, dnnl::post_ops ops) {
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

const char* to_string(WeightLayout layout) noexcept {
  switch (layout) {
    case WeightLayout::onednn_preferred: return "any";
    case WeightLayout::plain_kn: return "ab";
    case WeightLayout::plain_nk: return "ba";
  }
  return "?";
}

dnnl::memory::desc packed_weights_desc(const dnnl::engine& engine, WeightLayout layout, std::int64_t k,
                                       std::int64_t n, GemmTypes types) {
  const dt wt = weight_type(types);
  switch (layout) {
    case WeightLayout::plain_kn: return dnnl::memory::desc({k, n}, wt, tag::ab);
    case WeightLayout::plain_nk: return dnnl::memory::desc({k, n}, wt, tag::ba);
    case WeightLayout::onednn_preferred: break;
  }
  const dnnl::memory::desc src({kLayoutProbeM, k}, src_type(types), tag::ab);
  const dnnl::memory::desc dst({kLayoutProbeM, n}, dt::f32, tag::ab);
  const dnnl::memory::desc any({k, n}, wt, tag::any);
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, any, dst), engine).weights_desc();
}

WeightLayout chosen_weight_layout(const dnnl::engine& engine, std::int64_t k, std::int64_t n, GemmTypes types) {
  if (WeightLayout forced{}; forced_layout(forced)) return forced;
  // One measurement per (K, N) per process. Shapes are measured under the lock, one at a time: two
  // measurements running side by side would time each other.
  static std::mutex mutex;
  static std::map<std::tuple<std::int64_t, std::int64_t, GemmTypes>, WeightLayout> chosen;
  std::lock_guard lock(mutex);
  const auto key = std::make_tuple(k, n, types);
  if (auto it = chosen.find(key); it != chosen.end()) return it->second;
  const WeightLayout layout = measure_layout(engine, k, n, types);
  chosen.emplace(key, layout);
  return layout;
}

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

Linear::Linear(const DnnlContext& ctx, const std::vector<float>& weight, const std::vector<float>& bias,
               std::int64_t in_features, std::int64_t out_features, Epilogue epilogue, GemmTypes types)
    : ctx_(&ctx), k_(in_features), n_(out_features), epilogue_(epilogue), types_(types), bias_(bias) {
  if (types == GemmTypes::u8s8) throw InvalidArgumentError("Linear: int8 GEMMs are LinearInt8's");
  if (types == GemmTypes::bf16 && !bf16_supported()) {
    throw UnsupportedError("compute type bf16 needs a CPU with AVX512-BF16 (avx512_bf16) or AMX; oneDNN reports '" +
                           effective_isa_name() + "' here, which lacks AVX512-BF16");
  }
  if (static_cast<std::int64_t>(weight.size()) != k_ * n_ ||
      (!bias.empty() && static_cast<std::int64_t>(bias.size()) != n_)) {
    throw InvalidArgumentError("Linear: weight/bias sizes do not match [" + std::to_string(n_) + "," +
                               std::to_string(k_) + "]");
  }
  if (!bias_.empty()) bias_desc_ = dnnl::memory::desc({1, n_}, dt::f32, tag::ab);
  layout_ = chosen_weight_layout(ctx.engine, k_, n_, types);
  weight_desc_ = packed_weights_desc(ctx.engine, layout_, k_, n_, types);

  std::vector<std::uint16_t> rounded;  // bf16: W rounded once, then packed like the fp32 weights
  const void* user = weight.data();
  if (types == GemmTypes::bf16) {
    rounded.resize(weight.size());
    convert_to_bf16(weight.data(), static_cast<std::int64_t>(weight.size()), rounded.data());
    user = rounded.data();
  }
  pack_weights(ctx.engine, types, k_, n_, user, weight_desc_, packed_weight_);
}

void pack_weights(const dnnl::engine& engine, GemmTypes types, std::int64_t k, std::int64_t n, const void* user,
                  const dnnl::memory::desc& to, common::PackedVector<std::byte>& packed) {
  // W [N, K] row-major is W^T [K, N] in column-major order: format tag "ba" for dims {K, N}.
  const dnnl::memory::desc user_desc({k, n}, weight_type(types), tag::ba);
  packed.resize(to.get_size());
  if (to == user_desc) {
    std::memcpy(packed.data(), user, packed.size());
    return;
  }
  dnnl::memory from_mem(user_desc, engine, const_cast<void*>(user));
  dnnl::memory to_mem(to, engine, packed.data());
  dnnl::stream stream(engine);
  dnnl::reorder(from_mem, to_mem).execute(stream, from_mem, to_mem);
  stream.wait();
}

GemmPrimitive Linear::create(std::int64_t m) const {
  GemmPrimitive p;
  p.src = dnnl::memory::desc({m, k_}, src_type(types_), tag::ab);
  p.dst = dnnl::memory::desc({m, n_}, dt::f32, tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(p.src, weight_desc_, bias_desc_, p.dst),
                                        epilogue_attr(epilogue_), ctx_->engine);
  p.scratchpad = pd.scratchpad_desc();
  p.matmul = dnnl::matmul(pd);
  return p;
}

void Linear::forward(GemmExec& exec, const float* x, std::int64_t m, float* y) const {
  if (types_ != GemmTypes::f32) throw InvalidArgumentError("Linear: a bf16 layer given fp32 input");
  run(exec, x, m, y);
}

void Linear::forward(GemmExec& exec, const std::uint16_t* x, std::int64_t m, float* y) const {
  if (types_ != GemmTypes::bf16) throw InvalidArgumentError("Linear: an fp32 layer given bf16 input");
  run(exec, x, m, y);
}

void Linear::run(GemmExec& exec, const void* x, std::int64_t m, float* y) const {
  if (m == 0) return;
  const auto p = ctx_->gemms.get({m, k_, n_, static_cast<int>(epilogue_), !bias_.empty(), static_cast<int>(layout_),
                                  static_cast<int>(types_)},
                                 [&] { return create(m); });
  const auto& engine = ctx_->engine;
  const std::size_t scratch_bytes = p->scratchpad.get_size();
  if (exec.scratchpad->size() < scratch_bytes) exec.scratchpad->resize(scratch_bytes);

  dnnl::memory src(p->src, engine, const_cast<void*>(x));
  dnnl::memory weights(weight_desc_, engine, const_cast<std::byte*>(packed_weight_.data()));
  dnnl::memory dst(p->dst, engine, y);
  dnnl::memory scratch(p->scratchpad, engine, exec.scratchpad->data());
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCRATCHPAD, scratch}};
  if (!bias_.empty()) args.emplace(DNNL_ARG_BIAS, dnnl::memory(bias_desc_, engine, const_cast<float*>(bias_.data())));
  p->matmul.execute(exec.stream, args);
}

}  // namespace bertcpp::kernels
