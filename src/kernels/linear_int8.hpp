// Int8 linear layers over oneDNN matmul: y[M, N] = epilogue(dequant(xq[M, K] * Wq^T) + b).
//
// Weights are quantized once at load, symmetric per output channel (kernels/quantize.hpp), without the
// outlier channels (below), and reordered into the layout measured fastest for s8 weights
// (chosen_weight_layout with GemmTypes::u8s8). The input arrives quantized to u8 per token row (scale s_x[m],
// zero point z[m]); oneDNN multiplies u8 x s8 into s32 (VNNI's vpdpbusd on AVX512-VNNI / AVX-VNNI CPUs), and
// bertcpp's epilogue pass turns each s32 row into real values while it is in cache:
//
//   y[m, n] = s_x[m] s_w[n] (acc[m, n] - z[m] rowsum_w[n]) + sum_j x[m, c_j] W[n, c_j] + b[n],
//
// then the activation or the residual sum; c_j are the layer's outlier channels.
//
// The zero-point correction is exact integer arithmetic (|z rowsum| <= 255 * 127 * K < 2^31 for K < 66000).
// Why not oneDNN post-ops, as the fp32 GEMMs use: oneDNN 2.6 applies per-row ([M, 1]) scales and zero points
// only in its reference implementation, and one scale for the whole tensor lets a single outlier token (BERT's
// [CLS] / [SEP] rows) coarsen every other token's quantization step (docs/quantization.md has the figures).
//
// Outlier channels (as LLM.int8()'s mixed-precision decomposition): a few input channels of a BERT activation
// carry values 10-30x larger than the rest. With one quantization step per row they make the step coarse for
// all the other channels, and the weights' own rounding error in those columns is multiplied by the large
// values. A layer can therefore keep a few input channels (chosen by calibration at load,
// encoder/bert_encoder.cpp) in fp32: their weight columns are zero in the s8 weights, the row quantizers leave
// them out of the row's range and copy their fp32 values out, and the epilogue adds their exact fp32 product
// (a handful of multiply-adds per output; docs/quantization.md has the accuracy this buys).
//
// How the s32 GEMM is split over the threads (Int8Schedule) is measured once per shape at load: oneDNN's own
// threading over blocks of rows, or one single-threaded GEMM per thread on chunks of 16 rows, each chunk's
// epilogue run by the same thread right after it. Where oneDNN has VNNI its threaded kernels are at the
// instruction's peak; on AVX2 without VNNI (gemm:jit's u8s8 kernel) two threads ran one 128-row GEMM no faster
// than one thread (31 vs 30 GOP/s), and one GEMM per thread on 16-row chunks ran at 68 (docs/quantization.md).
//
// The primitive never depends on the values of s_x, z, the weights or the epilogue, so every int8 layer of
// one shape shares it through GemmCache.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "common/aligned.hpp"
#include "kernels/linear.hpp"
#include "kernels/quantize.hpp"

namespace bertcpp::kernels {

// How LinearInt8 spreads its GEMM over the threads (see the file comment). Both compute the same s32 sums, so the
// outputs are identical bit for bit.
enum class Int8Schedule {
  onednn_threads,  // one GEMM per block of rows, threaded by oneDNN; then the block's epilogue, rows split over the threads
  row_chunks,      // each thread: single-threaded GEMMs on its own chunks of rows, each chunk's epilogue right after
};
const char* to_string(Int8Schedule schedule) noexcept;

// The schedule of an int8 GEMM with K inputs and N outputs and weights in `layout`: measured once per (K, N,
// layout) per process (one 128-row GEMM of at most 1024 x 1024 of the weights each way; row_chunks must be 10 %
// faster), unless BERTCPP_INT8_SCHEDULE is "onednn" or "rows" (InvalidArgumentError for another value than those
// and "auto").
Int8Schedule chosen_int8_schedule(const dnnl::engine& engine, std::int64_t k, std::int64_t n, WeightLayout layout);

// Seconds of one bare [m, K] x [K, N] u8 x s8 -> s32 GEMM (no epilogue) under each schedule, weights in `layout`
// (constant values), the better of two runs after a warm-up: the probe above, and encoder_bench's bare GEMM.
struct Int8ScheduleTimes {
  double onednn_threads = 0.0, row_chunks = 0.0;
};
Int8ScheduleTimes time_int8_schedules(const dnnl::engine& engine, std::int64_t m, std::int64_t k, std::int64_t n,
                                      WeightLayout layout);

class LinearInt8 {
 public:
  LinearInt8() = default;
  // weight: [out_features, in_features] row-major fp32, bias: [out_features] (may be empty), outlier_channels:
  // input channels kept in fp32, strictly increasing (may be empty).
  LinearInt8(const DnnlContext& ctx, const std::vector<float>& weight, const std::vector<float>& bias,
             std::int64_t in_features, std::int64_t out_features, Epilogue epilogue,
             const std::vector<std::int32_t>& outlier_channels = {});

  // The channels the quantizer of this layer's input leaves out and copies (quantize.hpp).
  OutlierChannels outlier_channels() const noexcept {
    return {outlier_index_.data(), static_cast<std::int64_t>(outlier_index_.size())};
  }

  // x: [M, K] as quantize_rows_u8 left it for outlier_channels(): u8 with (row_scale[m], row_zero_point[m]), and
  // outliers [M, outlier_channels().count] fp32 (null when there are none); y: [M, N] fp32 (read too when the
  // epilogue is `residual`). Thread-safe.
  // `requantize`, when set (not with the residual epilogue): each output row is also quantized for the next
  // int8 layer while it is in cache (FFN up -> FFN down), saving that layer's own pass over y. Without
  // keep_output, y only serves as scratch (one row per thread, its contents afterwards unspecified): the fp32
  // output never goes out to memory (BERT-base 8x128: 12 x 4 MB of writes per forward saved).
  struct Requantize {
    OutlierChannels outlier;  // the next layer's outlier_channels()
    RowQuantTarget out;       // [M, N] u8 + [M] scales, zero points, outlier values; must not alias x's buffers
    bool keep_output = true;  // y holds the fp32 output afterwards
  };
  struct Input {
    const std::uint8_t* q = nullptr;
    const float* row_scale = nullptr;
    const std::int32_t* row_zero_point = nullptr;
    const float* outliers = nullptr;
  };
  void forward(GemmExec& exec, const Input& x, std::int64_t m, float* y, const Requantize* requantize = nullptr) const;

  std::int64_t in_features() const noexcept { return k_; }
  std::int64_t out_features() const noexcept { return n_; }
  WeightLayout layout() const noexcept { return layout_; }
  Int8Schedule schedule() const noexcept { return schedule_; }
  std::size_t packed_bytes() const noexcept {
    return packed_weight_.size() +
           (bias_.size() + scales_.size() + row_sums_.size() + outlier_index_.size() + outlier_weight_.size()) * 4;
  }

 private:
  std::shared_ptr<const GemmPrimitive> primitive(std::int64_t m) const;  // the [m, K] x [K, N] -> s32 GEMM, cached
  void forward_blocks(GemmExec& exec, const Input& x, std::int64_t m, float* y, const Requantize* requantize) const;
  void forward_row_chunks(GemmExec& exec, const Input& x, std::int64_t m, float* y,
                          const Requantize* requantize) const;
  // y rows [0, m) from the s32 rows acc, the rows split over the threads (see the file comment).
  void epilogue_rows(const std::int32_t* acc, const Input& x, std::int64_t m, float* y,
                     const Requantize* requantize) const;
  // One output row: row r of x (and of requantize's target) from its s32 row acc, into out (y's row r, or a
  // scratch row when requantize does not keep the output).
  void epilogue_row(const std::int32_t* acc, const Input& x, std::int64_t r, float* out,
                    const Requantize* requantize) const;

  const DnnlContext* ctx_ = nullptr;
  std::int64_t k_ = 0, n_ = 0;
  Epilogue epilogue_ = Epilogue::none;
  WeightLayout layout_ = WeightLayout::onednn_preferred;
  Int8Schedule schedule_ = Int8Schedule::onednn_threads;
  dnnl::memory::desc weight_desc_;             // s8 {K, N} in the chosen layout
  common::PackedVector<std::byte> packed_weight_;   // Wq^T in weight_desc_'s layout (with oneDNN's compensation, if any)
  common::AlignedVector<float> bias_;          // b [N], zeros when the checkpoint has none
  common::AlignedVector<float> scales_;        // s_w [N]
  common::AlignedVector<std::int32_t> row_sums_;  // rowsum_w [N]
  std::vector<std::int32_t> outlier_index_;    // c_j [J], strictly increasing
  common::AlignedVector<float> outlier_weight_;  // W[n, c_j] as [J, N]
};

}  // namespace bertcpp::kernels
