// The int8 / bf16 kernels (kernels/quantize.hpp, linear_int8.hpp, linear.hpp with GemmTypes::bf16) against plain references.
//
// The quantizers are checked element by element against the formulas of quantize.hpp written out naively.
// The low-precision GEMMs are checked against a double-precision product of the *same* quantized (or rounded)
// operands, so the only difference left is the GEMM's own fp32/s32 arithmetic: tolerances there are fp32
// rounding (1e-5 relative to the sum of |terms|), not quantization error. Quantization error itself is
// bounded separately (QuantizeU8.ErrorAtMostHalfAStep, QuantizeWeights.ErrorAtMostHalfAStep).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "bertcpp/error.hpp"
#include "kernels/dense.hpp"
#include "kernels/layer_norm.hpp"
#include "kernels/linear.hpp"
#include "kernels/linear_int8.hpp"
#include "kernels/quantize.hpp"

namespace bertcpp {
namespace {

using kernels::Epilogue;
using kernels::QuantParams;

std::vector<float> random_vector(std::size_t n, std::mt19937& rng, float scale = 1.0f, float mean = 0.0f) {
  std::normal_distribution<float> dist(mean, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// The naive quantizer of quantize.hpp.
std::uint8_t naive_q(float x, QuantParams p) {
  const float v = std::nearbyint(x * (1.0f / p.scale)) + static_cast<float>(p.zero_point);
  return static_cast<std::uint8_t>(std::min(255.0f, std::max(0.0f, v)));
}

TEST(QuantizeU8, ParamsCoverTheRangeAndZero) {
  const QuantParams p = kernels::u8_params(-1.0f, 3.0f);
  EXPECT_FLOAT_EQ(p.scale, 4.0f / 255.0f);
  EXPECT_EQ(p.zero_point, 64);  // round(1 / (4/255)) = round(63.75)
  // All-positive ranges are widened down to 0: zero point 0.
  const QuantParams pos = kernels::u8_params(0.5f, 2.0f);
  EXPECT_FLOAT_EQ(pos.scale, 2.0f / 255.0f);
  EXPECT_EQ(pos.zero_point, 0);
  const QuantParams neg = kernels::u8_params(-2.0f, -0.5f);
  EXPECT_EQ(neg.zero_point, 255);
  const QuantParams zero = kernels::u8_params(0.0f, 0.0f);
  EXPECT_EQ(zero.scale, 1.0f);
  EXPECT_EQ(zero.zero_point, 0);
}

// A few distinct, increasing channels of `cols` for a layer's outlier channels (quantize.hpp).
std::vector<std::int32_t> some_channels(std::int64_t cols) {
  std::vector<std::int32_t> c{0, static_cast<std::int32_t>(cols / 2), static_cast<std::int32_t>(cols - 1)};
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

kernels::OutlierChannels view(const std::vector<std::int32_t>& c) {
  return {c.data(), static_cast<std::int64_t>(c.size())};
}

// Per-row quantization, with and without outlier channels, against the naive quantizer applied row by row.
class QuantizeU8Shapes : public ::testing::TestWithParam<std::tuple<std::int64_t, std::int64_t, bool>> {};

TEST_P(QuantizeU8Shapes, MatchesNaivePerRowAndErrorAtMostHalfAStep) {
  const auto [rows, cols, with_outliers] = GetParam();
  std::mt19937 rng(static_cast<unsigned>(rows * 131 + cols));
  auto x = random_vector(static_cast<std::size_t>(rows * cols), rng, 1.5f, 0.3f);
  const std::size_t big = x.size() / 2;
  x[big] = 400.0f;  // an outlier ([CLS]/[SEP] rows have such): it must widen its row only
  const std::vector<std::int32_t> outlier = with_outliers ? some_channels(cols) : std::vector<std::int32_t>{};
  const auto J = static_cast<std::int64_t>(outlier.size());
  std::vector<std::uint8_t> q(x.size());
  std::vector<float> scale(static_cast<std::size_t>(rows)), kept(static_cast<std::size_t>(rows * J), -1.0f);
  std::vector<std::int32_t> zero_point(static_cast<std::size_t>(rows));
  kernels::quantize_rows_u8(x.data(), rows, cols, view(outlier), {q.data(), scale.data(), zero_point.data(), kept.data()});
  const auto is_outlier = [&](std::int64_t c) { return std::count(outlier.begin(), outlier.end(), c) > 0; };
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* row = x.data() + r * cols;
    float lo = 0.0f, hi = 0.0f;  // the range over the channels that are not outliers
    for (std::int64_t c = 0; c < cols; ++c) {
      if (is_outlier(c)) continue;
      lo = std::min(lo, row[c]);
      hi = std::max(hi, row[c]);
    }
    const QuantParams p = kernels::u8_params(lo, hi, kernels::int8_levels().activation_max);
    ASSERT_EQ(scale[r], p.scale) << "row " << r;
    ASSERT_EQ(zero_point[r], p.zero_point) << "row " << r;
    for (std::int64_t c = 0; c < cols; ++c) {
      const std::uint8_t qv = q[static_cast<std::size_t>(r * cols + c)];
      if (is_outlier(c)) {  // the quantized 0, and the value itself copied out
        ASSERT_EQ(qv, p.zero_point) << "row " << r << " outlier col " << c;
        continue;
      }
      ASSERT_EQ(qv, naive_q(row[c], p)) << "row " << r << " col " << c;
      const float back = p.scale * (static_cast<float>(qv) - static_cast<float>(p.zero_point));
      // Half a step, plus the zero point's own rounding (at most half a step more at the range ends).
      ASSERT_LE(std::abs(back - row[c]), p.scale * 1.0f + 1e-6f) << "row " << r << " col " << c;
    }
    for (std::int64_t j = 0; j < J; ++j) ASSERT_EQ(kept[r * J + j], row[outlier[j]]) << "row " << r << " outlier " << j;
  }
  const auto big_row = static_cast<std::int64_t>(big) / cols, big_col = static_cast<std::int64_t>(big) % cols;
  if (is_outlier(big_col) && cols > J) {
    // 400 sits in an outlier channel: it must not widen its row's range at all.
    EXPECT_LT(scale[big_row], 20.0f / static_cast<float>(kernels::int8_levels().activation_max));
  } else if (rows > 1 && cols > 1) {
    // The outlier's row has a coarser step than the others: one range per row, not per tensor.
    EXPECT_GT(scale[big_row], scale[big_row == 0 ? 1 : 0]);
  }
}

INSTANTIATE_TEST_SUITE_P(OddShapes, QuantizeU8Shapes,
                         ::testing::Combine(::testing::Values(1, 3, 17, 128), ::testing::Values(1, 7, 48, 385, 3072),
                                            ::testing::Bool()));

TEST(QuantizeU8, LayerNormFusedIsLayerNormThenQuantize) {
  std::mt19937 rng(7);
  for (const std::int64_t rows : {1, 9, 33}) {
    for (const bool with_outliers : {false, true}) {
      const std::int64_t hidden = 96;
      const auto x = random_vector(static_cast<std::size_t>(rows * hidden), rng, 2.0f, 0.5f);
      const auto gamma = random_vector(hidden, rng, 0.3f, 1.0f), beta = random_vector(hidden, rng, 0.1f);
      const std::vector<std::int32_t> outlier = with_outliers ? std::vector<std::int32_t>{3, 50, 95} : std::vector<std::int32_t>{};
      std::vector<float> y_plain(x.size()), y_fused(x.size());
      kernels::layer_norm(x.data(), y_plain.data(), rows, hidden, gamma.data(), beta.data(), 1e-12f);
      std::vector<std::uint8_t> q_plain(x.size()), q_fused(x.size());
      std::vector<float> s_plain(rows), s_fused(rows), o_plain(rows * outlier.size()), o_fused(rows * outlier.size());
      std::vector<std::int32_t> z_plain(rows), z_fused(rows);
      kernels::quantize_rows_u8(y_plain.data(), rows, hidden, view(outlier),
                                {q_plain.data(), s_plain.data(), z_plain.data(), o_plain.data()});
      kernels::layer_norm_quantize_rows_u8(x.data(), y_fused.data(), rows, hidden, gamma.data(), beta.data(), 1e-12f,
                                           view(outlier), {q_fused.data(), s_fused.data(), z_fused.data(), o_fused.data()});
      EXPECT_EQ(y_fused, y_plain) << "LayerNorm output must be bit for bit the unfused one";
      EXPECT_EQ(s_fused, s_plain);
      EXPECT_EQ(z_fused, z_plain);
      EXPECT_EQ(q_fused, q_plain);
      EXPECT_EQ(o_fused, o_plain);
    }
  }
}

TEST(QuantizeWeights, PerChannelSymmetricErrorAtMostHalfAStep) {
  std::mt19937 rng(11);
  const std::int64_t out = 37, in = 53;
  auto w = random_vector(static_cast<std::size_t>(out * in), rng, 0.05f);
  for (std::int64_t k = 0; k < in; ++k) w[static_cast<std::size_t>(5 * in + k)] = 0.0f;  // an all-zero row
  w[static_cast<std::size_t>(9 * in + 4)] = -2.0f;                                        // a row with an outlier
  const kernels::QuantizedWeights q = kernels::quantize_weights_s8(w.data(), out, in);
  for (std::int64_t n = 0; n < out; ++n) {
    float absmax = 0.0f;
    for (std::int64_t k = 0; k < in; ++k) absmax = std::max(absmax, std::abs(w[static_cast<std::size_t>(n * in + k)]));
    const float scale = absmax > 0.0f ? absmax / 127.0f : 1.0f;
    ASSERT_EQ(q.scales[static_cast<std::size_t>(n)], scale) << "row " << n;
    std::int32_t sum = 0;
    for (std::int64_t k = 0; k < in; ++k) {
      const std::size_t i = static_cast<std::size_t>(n * in + k);
      ASSERT_EQ(q.values[i], static_cast<std::int8_t>(std::nearbyint(w[i] / scale))) << "row " << n << " col " << k;
      ASSERT_GE(q.values[i], -127);
      ASSERT_LE(std::abs(scale * q.values[i] - w[i]), 0.5f * scale * (1.0f + 1e-6f));
      sum += q.values[i];
    }
    ASSERT_EQ(q.row_sums[static_cast<std::size_t>(n)], sum);
  }
}

TEST(QuantizeWeights, SevenBitLevelsForCpusWithoutVnni) {
  std::mt19937 rng(12);
  const std::int64_t out = 9, in = 40;
  const auto w = random_vector(static_cast<std::size_t>(out * in), rng, 0.05f);
  const kernels::QuantizedWeights q = kernels::quantize_weights_s8(w.data(), out, in, 63);
  for (std::int64_t n = 0; n < out; ++n) {
    int largest = 0;
    for (std::int64_t k = 0; k < in; ++k) largest = std::max(largest, std::abs(int{q.values[n * in + k]}));
    EXPECT_EQ(largest, 63) << "row " << n;  // the row's absmax maps to the top level exactly
  }
  const kernels::Int8Levels levels = kernels::int8_levels();
  // Either one exact s32 path (VNNI) or one operand a bit short: never both 8-bit without VNNI.
  EXPECT_TRUE((levels.activation_max == 255 && levels.weight_max == 127) ||
              levels.activation_max * levels.weight_max * 2 <= 32767)
      << levels.activation_max << " x " << levels.weight_max;
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(kernels::to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(kernels::from_bf16(kernels::to_bf16(-2.5f)), -2.5f);
  // 1 + 2^-8 lies exactly between bf16 1 and 1 + 2^-7: ties to even (1).
  EXPECT_EQ(kernels::to_bf16(1.0f + 1.0f / 256.0f), 0x3f80);
  // 1 + 3 * 2^-8 lies between 1 + 2^-7 (odd) and 1 + 2^-6 (even): rounds up to even.
  EXPECT_EQ(kernels::to_bf16(1.0f + 3.0f / 256.0f), 0x3f82);
  EXPECT_TRUE(std::isnan(kernels::from_bf16(kernels::to_bf16(std::nanf("")))));
  std::mt19937 rng(3);
  for (float x : random_vector(1000, rng, 10.0f)) {
    const float r = kernels::from_bf16(kernels::to_bf16(x));
    ASSERT_LE(std::abs(r - x), std::abs(x) * (1.0f / 256.0f));  // half of bf16's 2^-7 relative step
  }
}

double apply_epilogue(double v, Epilogue e, double residual) {
  switch (e) {
    case Epilogue::none: return v;
    case Epilogue::gelu_erf: return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    case Epilogue::gelu_tanh: return 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
    case Epilogue::relu: return std::max(v, 0.0);
    case Epilogue::silu: return v / (1.0 + std::exp(-v));
    case Epilogue::tanh: return std::tanh(v);
    case Epilogue::residual: return residual + v;
  }
  return v;
}

class LowPrecisionLinear
    : public ::testing::TestWithParam<std::tuple<std::int64_t, std::int64_t, std::int64_t, Epilogue>> {};

// y = epilogue(x W^T + b) with or without outlier channels, whose input values are made 30x the others' (as
// BERT's are): the kernel sees W without those columns (quantized), x quantized per row without them, and adds
// their fp32 product; the reference takes the same quantized operands and the same fp32 part in double
// precision. Returns the relative RMS error against the unquantized product.
double check_int8_linear(std::int64_t m, std::int64_t k, std::int64_t n, Epilogue epilogue, bool with_outliers) {
  std::mt19937 rng(static_cast<unsigned>(m * 7 + k * 3 + n));
  const auto w = random_vector(static_cast<std::size_t>(n * k), rng, 0.08f);
  const auto b = random_vector(static_cast<std::size_t>(n), rng, 0.5f);
  auto x = random_vector(static_cast<std::size_t>(m * k), rng, 1.0f, 0.4f);
  const auto residual = random_vector(static_cast<std::size_t>(m * n), rng, 1.0f);
  const std::vector<std::int32_t> large = some_channels(k);
  for (std::int64_t i = 0; i < m; ++i)
    for (const std::int32_t c : large) x[i * k + c] *= 30.0f;
  const std::vector<std::int32_t> outlier = with_outliers ? large : std::vector<std::int32_t>{};
  const auto J = static_cast<std::int64_t>(outlier.size());

  kernels::DnnlContext ctx;
  const kernels::LinearInt8 layer(ctx, w, b, k, n, epilogue, outlier);
  EXPECT_EQ(layer.outlier_channels().count, J);
  std::vector<std::uint8_t> xq(x.size());
  std::vector<float> scale(static_cast<std::size_t>(m)), kept(static_cast<std::size_t>(m * J));
  std::vector<std::int32_t> zero_point(static_cast<std::size_t>(m));
  kernels::quantize_rows_u8(x.data(), m, k, layer.outlier_channels(), {xq.data(), scale.data(), zero_point.data(), kept.data()});
  std::vector<float> y = residual;
  std::vector<std::byte> scratch;
  kernels::GemmExec exec{dnnl::stream(ctx.engine), &scratch};
  layer.forward(exec, {xq.data(), scale.data(), zero_point.data(), J > 0 ? kept.data() : nullptr}, m, y.data());
  exec.stream.wait();

  std::vector<float> rest = w;  // the weights without the outlier columns: what is quantized
  for (std::int64_t j = 0; j < n; ++j)
    for (const std::int32_t c : outlier) rest[j * k + c] = 0.0f;
  const kernels::QuantizedWeights wq = kernels::quantize_weights_s8(rest.data(), n, k, kernels::int8_levels().weight_max);
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double acc = 0.0, magnitude = 0.0;
      for (std::int64_t t = 0; t < k; ++t) {
        const double xv = static_cast<double>(scale[i]) * (double(xq[i * k + t]) - zero_point[i]);
        const double wv = double(wq.scales[j]) * wq.values[j * k + t];
        acc += xv * wv;
        magnitude += std::abs(xv * wv);
      }
      for (const std::int32_t c : outlier) {
        const double term = double(x[i * k + c]) * w[j * k + c];
        acc += term;
        magnitude += std::abs(term);
      }
      const double expected = apply_epilogue(acc + b[j], epilogue, residual[i * n + j]);
      // fp32 arithmetic on the exact s32 sums times the scales, the bias and the epilogue: ~1e-6 relative to
      // the terms involved.
      const double tolerance = 1e-5 * (magnitude + std::abs(b[j]) + std::abs(residual[i * n + j]) + 1.0);
      EXPECT_NEAR(y[i * n + j], expected, tolerance) << "m=" << i << " n=" << j;
      if (std::abs(y[i * n + j] - expected) > tolerance) return -1.0;
    }
  }
  // And the layer computes the same function: close to the unquantized product.
  double err = 0.0, ref = 0.0;
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double exact = b[j];
      for (std::int64_t t = 0; t < k; ++t) exact += double(x[i * k + t]) * w[j * k + t];
      exact = apply_epilogue(exact, epilogue, residual[i * n + j]);
      err += (y[i * n + j] - exact) * (y[i * n + j] - exact);
      ref += exact * exact;
    }
  }
  return std::sqrt(err / std::max(ref, 1e-30));
}

TEST_P(LowPrecisionLinear, Int8MatchesDequantizedReference) {
  const auto [m, k, n, epilogue] = GetParam();
  const double rel = check_int8_linear(m, k, n, epilogue, false);
  // Quantization noise only: relative RMS at most 0.024 on these operands (the 30x channels coarsen every row's
  // step), twice that with AVX2's 7-bit weights; a wrong scale, zero point or epilogue is O(1).
  EXPECT_GE(rel, 0.0);
  EXPECT_LT(rel, 0.1);
}

TEST_P(LowPrecisionLinear, Int8WithOutlierChannelsMatchesDequantizedReference) {
  const auto [m, k, n, epilogue] = GetParam();
  const double rel = check_int8_linear(m, k, n, epilogue, true);
  EXPECT_GE(rel, 0.0);
  EXPECT_LT(rel, 0.1);  // at most 0.0036 measured: the large channels are exact
}

// What the outlier channels are for: with a few input channels 30x the rest, keeping them in fp32 makes the
// layer's error several times smaller (measured here: 0.0032 vs 0.024 relative RMS).
TEST(LinearInt8, OutlierChannelsInFp32ShrinkTheErrorOfLargeChannels) {
  const double without = check_int8_linear(64, 384, 256, Epilogue::none, false);
  const double with = check_int8_linear(64, 384, 256, Epilogue::none, true);
  ASSERT_GT(without, 0.0);
  ASSERT_GT(with, 0.0);
  std::cout << "[ rel-rms  ] int8 64x384x256 with 3 channels 30x the rest: outlier channels fp32 " << with
            << ", quantized " << without << "\n";
  EXPECT_LT(with * 4.0, without) << "with outlier channels " << with << ", without " << without;
}

TEST_P(LowPrecisionLinear, Bf16MatchesRoundedReference) {
  if (!kernels::bf16_supported()) {
    GTEST_SKIP() << "oneDNN reports ISA '" << kernels::effective_isa_name() << "' without AVX512-BF16: bf16 math not tested here";
  }
  const auto [m, k, n, epilogue] = GetParam();
  std::mt19937 rng(static_cast<unsigned>(m * 5 + k * 11 + n));
  const auto w = random_vector(static_cast<std::size_t>(n * k), rng, 0.08f);
  const auto b = random_vector(static_cast<std::size_t>(n), rng, 0.5f);
  const auto x = random_vector(static_cast<std::size_t>(m * k), rng, 1.0f);
  const auto residual = random_vector(static_cast<std::size_t>(m * n), rng, 1.0f);
  kernels::DnnlContext ctx;
  const kernels::Linear layer(ctx, w, b, k, n, epilogue, kernels::GemmTypes::bf16);
  std::vector<std::uint16_t> xb(x.size());
  kernels::convert_to_bf16(x.data(), static_cast<std::int64_t>(x.size()), xb.data());
  std::vector<float> y = residual;
  std::vector<std::byte> scratch;
  kernels::GemmExec exec{dnnl::stream(ctx.engine), &scratch};
  layer.forward(exec, xb.data(), m, y.data());
  exec.stream.wait();
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double acc = 0.0, magnitude = 0.0;
      for (std::int64_t t = 0; t < k; ++t) {
        const double term = double(kernels::from_bf16(xb[i * k + t])) * kernels::from_bf16(kernels::to_bf16(w[j * k + t]));
        acc += term;
        magnitude += std::abs(term);
      }
      const double expected = apply_epilogue(acc + b[j], epilogue, residual[i * n + j]);
      const double tolerance = 1e-5 * (magnitude + std::abs(b[j]) + std::abs(residual[i * n + j]) + 1.0);
      ASSERT_NEAR(y[i * n + j], expected, tolerance) << "m=" << i << " n=" << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    OddShapes, LowPrecisionLinear,
    ::testing::Values(std::make_tuple(1, 1, 1, Epilogue::none), std::make_tuple(3, 17, 5, Epilogue::gelu_erf),
                      std::make_tuple(7, 48, 144, Epilogue::none), std::make_tuple(13, 96, 200, Epilogue::gelu_tanh),
                      std::make_tuple(5, 200, 96, Epilogue::residual), std::make_tuple(33, 64, 64, Epilogue::relu),
                      std::make_tuple(2, 64, 31, Epilogue::silu), std::make_tuple(4, 48, 48, Epilogue::tanh),
                      std::make_tuple(128, 384, 1536, Epilogue::gelu_erf),
                      // more rows than LinearInt8's row block (256): the GEMM and its epilogue run block by block
                      std::make_tuple(600, 64, 96, Epilogue::gelu_erf), std::make_tuple(513, 40, 24, Epilogue::residual)));

// Both ways of spreading an int8 GEMM over the threads (LinearInt8's Int8Schedule; BERTCPP_INT8_SCHEDULE forces
// one) compute the same s32 sums and run the same epilogue per row: outputs, requantized rows and scratch use are
// identical bit for bit, for row counts below, at and past a chunk (16) and past a row block (256).
TEST(LinearInt8, SchedulesGiveIdenticalResults) {
  std::mt19937 rng(23);
  const std::int64_t k = 72, n = 136;
  const auto w = random_vector(n * k, rng, 0.1f), b = random_vector(n, rng, 0.2f);
  const std::vector<std::int32_t> outlier{3, 50}, next_outlier{1, 7, 130};
  kernels::DnnlContext ctx;
  struct Run {
    std::vector<float> gelu, residual;
    std::vector<std::uint8_t> requantized;
    std::vector<float> scale, next_kept;
    std::vector<std::int32_t> zero_point;
  };
  const auto run = [&](const char* schedule, std::int64_t m, const std::vector<float>& x) {
    EXPECT_EQ(setenv("BERTCPP_INT8_SCHEDULE", schedule, 1), 0);
    const kernels::LinearInt8 up(ctx, w, b, k, n, Epilogue::gelu_erf, outlier);
    const kernels::LinearInt8 sum(ctx, w, b, k, n, Epilogue::residual, outlier);
    unsetenv("BERTCPP_INT8_SCHEDULE");
    EXPECT_STREQ(kernels::to_string(up.schedule()), schedule);
    std::vector<std::uint8_t> xq(static_cast<std::size_t>(m * k));
    std::vector<float> scale(static_cast<std::size_t>(m)), kept(static_cast<std::size_t>(m) * outlier.size());
    std::vector<std::int32_t> zero_point(static_cast<std::size_t>(m));
    kernels::quantize_rows_u8(x.data(), m, k, up.outlier_channels(), {xq.data(), scale.data(), zero_point.data(), kept.data()});
    const kernels::LinearInt8::Input in{xq.data(), scale.data(), zero_point.data(), kept.data()};
    std::vector<std::byte> scratch;
    kernels::GemmExec exec{dnnl::stream(ctx.engine), &scratch};
    Run r;
    r.gelu.assign(static_cast<std::size_t>(m * n), 0.0f);
    up.forward(exec, in, m, r.gelu.data());
    r.residual = random_vector(static_cast<std::size_t>(m * n), rng, 1.0f);
    sum.forward(exec, in, m, r.residual.data());
    // Requantized for a next layer, the fp32 output only through scratch rows.
    r.requantized.resize(static_cast<std::size_t>(m * n));
    r.scale.resize(static_cast<std::size_t>(m));
    r.zero_point.resize(static_cast<std::size_t>(m));
    r.next_kept.resize(static_cast<std::size_t>(m) * next_outlier.size());
    const kernels::LinearInt8::Requantize requantize{
        {next_outlier.data(), static_cast<std::int64_t>(next_outlier.size())},
        {r.requantized.data(), r.scale.data(), r.zero_point.data(), r.next_kept.data()},
        /*keep_output=*/false};
    std::vector<float> y_scratch(static_cast<std::size_t>(m * n));
    up.forward(exec, in, m, y_scratch.data(), &requantize);
    return r;
  };
  for (const std::int64_t m : {1, 5, 16, 17, 40, 300}) {
    SCOPED_TRACE(m);
    const auto x = random_vector(static_cast<std::size_t>(m * k), rng, 1.0f, 0.4f);
    const std::mt19937 state = rng;
    const Run a = run("onednn", m, x);
    rng = state;  // the same residual for both
    const Run c = run("rows", m, x);
    EXPECT_EQ(a.gelu, c.gelu);
    EXPECT_EQ(a.residual, c.residual);
    EXPECT_EQ(a.requantized, c.requantized);
    EXPECT_EQ(a.scale, c.scale);
    EXPECT_EQ(a.zero_point, c.zero_point);
    EXPECT_EQ(a.next_kept, c.next_kept);
  }
}

TEST(LinearInt8, UnknownScheduleIsAnError) {
  std::mt19937 rng(3);
  kernels::DnnlContext ctx;
  const auto w = random_vector(8 * 8, rng);
  ASSERT_EQ(setenv("BERTCPP_INT8_SCHEDULE", "threads", 1), 0);
  try {
    const kernels::LinearInt8 layer(ctx, w, {}, 8, 8, Epilogue::none);
    ADD_FAILURE() << "an unknown BERTCPP_INT8_SCHEDULE was accepted";
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("BERTCPP_INT8_SCHEDULE='threads'"), std::string::npos) << e.what();
  }
  unsetenv("BERTCPP_INT8_SCHEDULE");
}

TEST(Dense, InputMustBePreparedForItsComputeType) {
  std::mt19937 rng(5);
  kernels::DnnlContext ctx;
  const auto w = random_vector(16 * 8, rng), b = random_vector(16, rng), x = random_vector(3 * 8, rng);
  const kernels::Dense int8(ctx, ComputeType::int8, w, b, 8, 16, Epilogue::none);
  std::vector<float> y(3 * 16);
  std::vector<std::byte> scratch;
  kernels::GemmExec exec{dnnl::stream(ctx.engine), &scratch};
  kernels::GemmInput fp32_input;
  fp32_input.f32 = x.data();
  EXPECT_THROW(int8.forward(exec, fp32_input, 3, y.data()), InvalidArgumentError);
  kernels::GemmInputBuffers buffers;
  EXPECT_NO_THROW(int8.forward(exec, int8.prepare(x.data(), 3, buffers), 3, y.data()));
}

TEST(Dense, Int8RequantizedInTheEpilogueEqualsForwardThenPrepare) {
  // FFN up (GELU) -> FFN down, both int8 with outlier channels: the fused path must give the same output and the
  // same quantized input for the next layer, bit for bit, as the two steps apart.
  std::mt19937 rng(17);
  kernels::DnnlContext ctx;
  for (const std::int64_t m : {19, 300}) {  // 300: past LinearInt8's row block of 256
    SCOPED_TRACE(m);
    const std::int64_t h = 48, inner = 100;
    const auto w1 = random_vector(inner * h, rng, 0.1f), b1 = random_vector(inner, rng, 0.2f);
    const auto w2 = random_vector(h * inner, rng, 0.1f), b2 = random_vector(h, rng, 0.2f);
    const auto x = random_vector(m * h, rng, 1.0f);
    const std::vector<std::int32_t> o1{2, 30, 47}, o2{0, 9, 64, 99};
    const kernels::Dense up(ctx, ComputeType::int8, w1, b1, h, inner, Epilogue::gelu_erf, o1);
    const kernels::Dense down(ctx, ComputeType::int8, w2, b2, inner, h, Epilogue::residual, o2);
    std::vector<std::byte> scratch;
    kernels::GemmExec exec{dnnl::stream(ctx.engine), &scratch};
    kernels::GemmInputBuffers in_buffers, apart_buffers, fused_buffers;
    const kernels::GemmInput in = up.prepare(x.data(), m, in_buffers);
    std::vector<float> y_apart(m * inner), y_fused(m * inner);
    up.forward(exec, in, m, y_apart.data());
    const kernels::GemmInput apart = down.prepare(y_apart.data(), m, apart_buffers);
    const kernels::GemmInput fused = up.forward_then_prepare(exec, in, m, y_fused.data(), down, fused_buffers);
    EXPECT_EQ(y_fused, y_apart);
    // The same u8 rows, row parameters and outlier values (4 channels) as quantizing y on its own.
    const auto expect_same_quantization = [&](const kernels::LinearInt8::Input& got) {
      const kernels::LinearInt8::Input& want = apart.int8;
      ASSERT_NE(got.q, nullptr);
      ASSERT_NE(got.outliers, nullptr);
      EXPECT_TRUE(std::equal(got.q, got.q + m * inner, want.q));
      EXPECT_TRUE(std::equal(got.row_scale, got.row_scale + m, want.row_scale));
      EXPECT_TRUE(std::equal(got.row_zero_point, got.row_zero_point + m, want.row_zero_point));
      EXPECT_TRUE(std::equal(got.outliers, got.outliers + m * 4, want.outliers));
    };
    expect_same_quantization(fused.int8);
    // Without keep_output the fp32 output only passes through scratch rows: the quantized input is the same.
    kernels::GemmInputBuffers scratch_buffers;
    std::vector<float> y_scratch(m * inner);
    const kernels::GemmInput direct =
        up.forward_then_prepare(exec, in, m, y_scratch.data(), down, scratch_buffers, /*keep_output=*/false);
    expect_same_quantization(direct.int8);
  }
}

}  // namespace
}  // namespace bertcpp
