#include "kernels/linear_int8.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>

#include <Eigen/Core>
#include <omp.h>
#include <unsupported/Eigen/SpecialFunctions>

#include "bertcpp/error.hpp"

namespace bertcpp::kernels {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

constexpr std::int64_t kRowBlock = 256;  // onednn_threads: rows per GEMM call
constexpr std::int64_t kChunkRows = 16;  // row_chunks: rows per GEMM call (the fastest of 8 / 16 / 32 / 64 on AVX2)
constexpr std::int64_t kProbeRows = 128;  // the schedule is measured on one GEMM of this many rows
constexpr std::int64_t kMaxProbeDim = 1024;
constexpr double kRequiredSpeedup = 1.10;  // row_chunks replaces oneDNN's threading only when this much faster

// Rows per chunk for an m-row GEMM on `threads` threads: kChunkRows, or fewer so that every thread gets a chunk.
std::int64_t chunk_rows(std::int64_t m, std::int64_t threads) {
  return std::clamp<std::int64_t>((m + threads - 1) / threads, 1, kChunkRows);
}

dnnl::matmul::primitive_desc s32_gemm(const dnnl::engine& engine, std::int64_t m, std::int64_t k, std::int64_t n,
                                      const dnnl::memory::desc& weights) {
  return {dnnl::matmul::desc(dnnl::memory::desc({m, k}, dt::u8, tag::ab), weights,
                             dnnl::memory::desc({m, n}, dt::s32, tag::ab)),
          epilogue_attr(Epilogue::none), engine};
}

// Streams for `threads` threads: the caller's (grown once), or `own`.
std::vector<dnnl::stream>& thread_streams(GemmExec& exec, const dnnl::engine& engine, std::int64_t threads,
                                          std::vector<dnnl::stream>& own) {
  std::vector<dnnl::stream>& streams = exec.thread_streams ? *exec.thread_streams : own;
  while (static_cast<std::int64_t>(streams.size()) < threads) streams.emplace_back(engine);
  return streams;
}

// BERTCPP_INT8_SCHEDULE: unset or "auto" = measure; "onednn", "rows" = that schedule for every int8 GEMM.
bool forced_schedule(Int8Schedule& schedule) {
  const char* env = std::getenv("BERTCPP_INT8_SCHEDULE");
  if (!env || !*env || std::string(env) == "auto") return false;
  const std::string value(env);
  if (value == "onednn") schedule = Int8Schedule::onednn_threads;
  else if (value == "rows") schedule = Int8Schedule::row_chunks;
  else throw InvalidArgumentError("BERTCPP_INT8_SCHEDULE='" + value + "' is not one of auto, onednn, rows");
  return true;
}

}  // namespace

Int8ScheduleTimes time_int8_schedules(const dnnl::engine& engine, std::int64_t m, std::int64_t k, std::int64_t n,
                                      WeightLayout layout) {
  const dnnl::memory::desc weights_md = packed_weights_desc(engine, layout, k, n, GemmTypes::u8s8);
  dnnl::memory weights(weights_md, engine);
  std::memset(weights.get_data_handle(), 1, weights_md.get_size());
  const auto threads = static_cast<std::int64_t>(omp_get_max_threads());
  const std::int64_t chunk = chunk_rows(m, threads), chunks = (m + chunk - 1) / chunk;
  // Whole chunks only (a partial last one runs as a whole one over padding rows: timing, not results).
  std::vector<std::uint8_t> x(static_cast<std::size_t>(chunks * chunk * k), 1);
  common::AlignedVector<std::int32_t> acc(static_cast<std::size_t>(chunks * chunk * n));
  const auto whole_pd = s32_gemm(engine, m, k, n, weights_md);
  const auto chunk_pd = s32_gemm(engine, chunk, k, n, weights_md);
  const dnnl::matmul whole(whole_pd), chunked(chunk_pd);
  const std::size_t whole_pad = whole_pd.scratchpad_desc().get_size(), chunk_pad = chunk_pd.scratchpad_desc().get_size();
  std::vector<std::byte> pad(std::max(whole_pad, chunk_pad * static_cast<std::size_t>(threads)) + 1);
  dnnl::stream stream(engine);
  std::vector<dnnl::stream> streams;
  for (std::int64_t t = 0; t < threads; ++t) streams.emplace_back(engine);
  const auto run_whole = [&] {
    dnnl::memory src(whole_pd.src_desc(), engine, x.data()), dst(whole_pd.dst_desc(), engine, acc.data()),
        scratch(whole_pd.scratchpad_desc(), engine, pad.data());
    whole.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst},
                           {DNNL_ARG_SCRATCHPAD, scratch}});
    stream.wait();
  };
  const auto run_chunks = [&] {
    std::exception_ptr error;
#pragma omp parallel
    {
      const std::int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      try {
        for (std::int64_t j = chunks * t / nt; j < chunks * (t + 1) / nt; ++j) {
          dnnl::memory src(chunk_pd.src_desc(), engine, x.data() + j * chunk * k),
              dst(chunk_pd.dst_desc(), engine, acc.data() + j * chunk * n),
              scratch(chunk_pd.scratchpad_desc(), engine, pad.data() + t * chunk_pad);
          chunked.execute(streams[static_cast<std::size_t>(t)], {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights},
                                                                 {DNNL_ARG_DST, dst}, {DNNL_ARG_SCRATCHPAD, scratch}});
          streams[static_cast<std::size_t>(t)].wait();
        }
      } catch (...) {  // an exception must not leave an OpenMP region
#pragma omp critical(bertcpp_linear_int8_error)
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
  };
  const auto best_of = [](const auto& run) {
    double best = 1e30;
    for (int i = 0; i < 3; ++i) {
      const auto start = std::chrono::steady_clock::now();
      run();
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (i > 0) best = std::min(best, seconds);
    }
    return best;
  };
  Int8ScheduleTimes times;
  times.onednn_threads = best_of(run_whole);
  times.row_chunks = best_of(run_chunks);
  return times;
}

const char* to_string(Int8Schedule schedule) noexcept {
  switch (schedule) {
    case Int8Schedule::onednn_threads: return "onednn";
    case Int8Schedule::row_chunks: return "rows";
  }
  return "?";
}

Int8Schedule chosen_int8_schedule(const dnnl::engine& engine, std::int64_t k, std::int64_t n, WeightLayout layout) {
  if (Int8Schedule forced{}; forced_schedule(forced)) return forced;
  if (omp_get_max_threads() < 2) return Int8Schedule::onednn_threads;  // nothing to split
  // One measurement per shape per process, one at a time (two side by side would time each other).
  static std::mutex mutex;
  static std::map<std::tuple<std::int64_t, std::int64_t, WeightLayout>, Int8Schedule> chosen;
  std::lock_guard lock(mutex);
  const auto key = std::make_tuple(k, n, layout);
  if (auto it = chosen.find(key); it != chosen.end()) return it->second;
  const Int8ScheduleTimes t =
      time_int8_schedules(engine, kProbeRows, std::min(k, kMaxProbeDim), std::min(n, kMaxProbeDim), layout);
  const Int8Schedule schedule =
      t.row_chunks * kRequiredSpeedup < t.onednn_threads ? Int8Schedule::row_chunks : Int8Schedule::onednn_threads;
  chosen.emplace(key, schedule);
  return schedule;
}

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
  schedule_ = chosen_int8_schedule(ctx.engine, k_, n_, layout_);
}

std::shared_ptr<const GemmPrimitive> LinearInt8::primitive(std::int64_t m) const {
  return ctx_->gemms.get({m, k_, n_, static_cast<int>(Epilogue::none), false, static_cast<int>(layout_),
                          static_cast<int>(GemmTypes::u8s8)},
                         [&] {
                           const auto pd = s32_gemm(ctx_->engine, m, k_, n_, weight_desc_);
                           return GemmPrimitive{dnnl::matmul(pd), pd.src_desc(), pd.dst_desc(), pd.scratchpad_desc()};
                         });
}

void LinearInt8::epilogue_rows(const std::int32_t* acc, const Input& x, std::int64_t m, float* y,
                               const Requantize* requantize) const {
  const bool scratch = requantize && !requantize->keep_output;
#pragma omp parallel
  {
    // The rows split as `omp for schedule(static)` would; with `scratch`, every row of a thread goes through
    // the first row of its share (in L1), not to its own row of y.
    const std::int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const std::int64_t begin = m * t / threads, end = m * (t + 1) / threads;
    for (std::int64_t r = begin; r < end; ++r)
      epilogue_row(acc + r * n_, x, r, y + (scratch ? begin : r) * n_, requantize);
  }
}

void LinearInt8::epilogue_row(const std::int32_t* acc, const Input& x, std::int64_t r, float* y,
                              const Requantize* requantize) const {
  using Eigen::ArrayXf;
  using Eigen::ArrayXi;
  const Eigen::Map<const ArrayXf> sw(scales_.data(), n_), b(bias_.data(), n_);
  const Eigen::Map<const ArrayXi> rowsum(row_sums_.data(), n_);
  const auto J = static_cast<std::int64_t>(outlier_index_.size());
  constexpr float kSqrtHalf = 0.70710678118654752f, kSqrt2OverPi = 0.79788456080286536f;
  const Eigen::Map<const ArrayXi> a(acc, n_);
  Eigen::Map<ArrayXf> out(y, n_);
  const float sx = x.row_scale[r];
  const std::int32_t z = x.row_zero_point[r];
  const auto value = (a - z * rowsum).cast<float>() * (sx * sw) + b;
  // The s8 part plus the fp32 outlier channels' products (up to four in the same pass over the row, the next
  // four in a second one), plus the residual, then the activation in place.
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
  switch (std::clamp<std::int64_t>(J - 4, 0, 4)) {
    case 0: break;
    case 1: out += o[4] * w(4); break;
    case 2: out += o[4] * w(4) + o[5] * w(5); break;
    case 3: out += o[4] * w(4) + o[5] * w(5) + o[6] * w(6); break;
    default: out += o[4] * w(4) + o[5] * w(5) + o[6] * w(6) + o[7] * w(7); break;
  }
  for (std::int64_t j = 8; j < J; ++j) out += o[j] * w(j);
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

void LinearInt8::forward(GemmExec& exec, const Input& x, std::int64_t m, float* y,
                         const Requantize* requantize) const {
  if (m == 0) return;
  if (requantize && epilogue_ == Epilogue::residual)
    throw InvalidArgumentError("LinearInt8: a residual output cannot be requantized in the epilogue");
  if (schedule_ == Int8Schedule::row_chunks) forward_row_chunks(exec, x, m, y, requantize);
  else forward_blocks(exec, x, m, y, requantize);
}

void LinearInt8::forward_blocks(GemmExec& exec, const Input& x, std::int64_t m, float* y,
                                const Requantize* requantize) const {
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
    const auto p = primitive(rows);
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

void LinearInt8::forward_row_chunks(GemmExec& exec, const Input& x, std::int64_t m, float* y,
                                    const Requantize* requantize) const {
  // Each thread takes a contiguous share of the chunks; per chunk one single-threaded GEMM (oneDNN runs
  // sequentially inside a parallel region) into the thread's own s32 rows, then their epilogue while they are in
  // its cache. With a scratch output, the thread's rows go through the first row of its share.
  const auto threads = static_cast<std::int64_t>(omp_get_max_threads());
  const std::int64_t chunk = chunk_rows(m, threads), chunks = (m + chunk - 1) / chunk;
  const std::int64_t tail = m - (chunks - 1) * chunk;
  const auto full = primitive(chunk);
  const auto last = tail == chunk ? full : primitive(tail);
  const std::size_t pad_bytes = (std::max(full->scratchpad.get_size(), last->scratchpad.get_size()) + 63) / 64 * 64;
  if (exec.scratchpad->size() < pad_bytes * static_cast<std::size_t>(threads))
    exec.scratchpad->resize(pad_bytes * static_cast<std::size_t>(threads));
  common::AlignedVector<std::int32_t> own;
  common::AlignedVector<std::int32_t>& acc = exec.accumulator ? *exec.accumulator : own;
  if (static_cast<std::int64_t>(acc.size()) < threads * chunk * n_) acc.resize(static_cast<std::size_t>(threads * chunk * n_));
  std::vector<dnnl::stream> own_streams;
  std::vector<dnnl::stream>& streams = thread_streams(exec, ctx_->engine, threads, own_streams);
  const auto& engine = ctx_->engine;
  const dnnl::memory weights(weight_desc_, engine, const_cast<std::byte*>(packed_weight_.data()));
  const bool scratch_output = requantize && !requantize->keep_output;
  std::exception_ptr error;
#pragma omp parallel
  {
    const std::int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const std::int64_t first = chunks * t / nt, end = chunks * (t + 1) / nt;
    std::int32_t* rows_acc = acc.data() + t * chunk * n_;
    try {
      dnnl::memory src, dst, scratch;
      for (std::int64_t j = first; j < end; ++j) {
        const GemmPrimitive& p = j + 1 < chunks ? *full : *last;
        const std::int64_t r0 = j * chunk, rows = j + 1 < chunks ? chunk : tail;
        // Memory objects are made once per thread and shape, then pointed at each chunk.
        if (!src || src.get_desc() != p.src) {
          src = dnnl::memory(p.src, engine, nullptr);
          dst = dnnl::memory(p.dst, engine, rows_acc);
          scratch = dnnl::memory(p.scratchpad, engine, exec.scratchpad->data() + t * pad_bytes);
        }
        src.set_data_handle(const_cast<std::uint8_t*>(x.q + r0 * k_));
        dnnl::stream& stream = streams[static_cast<std::size_t>(t)];
        p.matmul.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst},
                                  {DNNL_ARG_SCRATCHPAD, scratch}});
        stream.wait();
        for (std::int64_t r = r0; r < r0 + rows; ++r)
          epilogue_row(rows_acc + (r - r0) * n_, x, r, y + (scratch_output ? first * chunk : r) * n_, requantize);
      }
    } catch (...) {
#pragma omp critical(bertcpp_linear_int8_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace bertcpp::kernels
