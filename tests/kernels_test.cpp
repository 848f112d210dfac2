// Each optimized kernel against its plain reference twin (tests/kernels_reference.hpp), on odd shapes.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <tuple>

#include <cstdlib>

#include <gtest/gtest.h>

#include "bertcpp/error.hpp"
#include "kernels/attention.hpp"
#include "kernels/layer_norm.hpp"
#include "kernels/linear.hpp"
#include "kernels_reference.hpp"
#include "test_util.hpp"

namespace bertcpp {
namespace {

std::vector<float> random_vector(std::size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

template <typename A, typename B>
double max_abs_diff(const A& a, const B& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
  return worst;
}

using kernels::Epilogue;

class KernelsLinear : public ::testing::TestWithParam<std::tuple<std::int64_t, std::int64_t, std::int64_t, Epilogue>> {};

TEST_P(KernelsLinear, MatchesReference) {
  const auto [m, k, n, epilogue] = GetParam();
  std::mt19937 rng(static_cast<unsigned>(m * 131 + k * 7 + n));
  const auto x = random_vector(static_cast<std::size_t>(m * k), rng);
  const auto w = random_vector(static_cast<std::size_t>(n * k), rng, 1.0f / std::sqrt(float(k)));
  const auto b = random_vector(static_cast<std::size_t>(n), rng);
  const auto residual = random_vector(static_cast<std::size_t>(m * n), rng);

  kernels::DnnlContext ctx;
  const kernels::Linear linear(ctx, w, b, k, n, epilogue);
  std::vector<std::byte> scratch;
  kernels::GemmExec exec{dnnl::stream(ctx.engine), &scratch};
  std::vector<float> y = epilogue == Epilogue::residual ? residual : std::vector<float>(static_cast<std::size_t>(m * n));
  linear.forward(exec, x.data(), m, y.data());
  exec.stream.wait();

  auto expected = testing::reference::linear(x, w, b, m, k, n);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    double& e = expected[i];
    switch (epilogue) {
      case Epilogue::none: break;
      case Epilogue::gelu_erf: e = testing::reference::gelu_erf(e); break;
      case Epilogue::gelu_tanh: e = testing::reference::gelu_tanh(e); break;
      case Epilogue::relu: e = std::max(0.0, e); break;
      case Epilogue::silu: e = testing::reference::silu(e); break;
      case Epilogue::tanh: e = std::tanh(e); break;
      case Epilogue::residual: e += residual[i]; break;
    }
  }
  EXPECT_LE(max_abs_diff(y, expected), 2e-5);
}

INSTANTIATE_TEST_SUITE_P(
    OddShapes, KernelsLinear,
    ::testing::Values(std::make_tuple(1, 48, 144, Epilogue::none), std::make_tuple(7, 48, 100, Epilogue::gelu_erf),
                      std::make_tuple(13, 100, 48, Epilogue::residual), std::make_tuple(5, 96, 200, Epilogue::gelu_tanh),
                      std::make_tuple(33, 64, 52, Epilogue::relu), std::make_tuple(2, 52, 64, Epilogue::silu),
                      std::make_tuple(3, 96, 96, Epilogue::tanh), std::make_tuple(129, 72, 216, Epilogue::none)));

TEST(KernelsLinear, SameWeightsManyTokenCountsReuseOneLinear) {
  // Primitives are cached per M; interleaving token counts must never mix them up.
  std::mt19937 rng(3);
  const std::int64_t k = 40, n = 24;
  const auto w = random_vector(static_cast<std::size_t>(n * k), rng);
  const auto b = random_vector(static_cast<std::size_t>(n), rng);
  kernels::DnnlContext ctx;
  const kernels::Linear linear(ctx, w, b, k, n, Epilogue::none);
  std::vector<std::byte> scratch;
  kernels::GemmExec exec{dnnl::stream(ctx.engine), &scratch};
  for (std::int64_t m : {5, 1, 17, 5, 64, 1, 17}) {
    const auto x = random_vector(static_cast<std::size_t>(m * k), rng);
    std::vector<float> y(static_cast<std::size_t>(m * n));
    linear.forward(exec, x.data(), m, y.data());
    exec.stream.wait();
    EXPECT_LE(max_abs_diff(y, testing::reference::linear(x, w, b, m, k, n)), 2e-5) << "m=" << m;
  }
}

// Every weight layout a Linear can pick computes the same sums; BERTCPP_WEIGHT_LAYOUT forces one.
TEST(KernelsLinear, EveryWeightLayoutMatchesReference) {
  std::mt19937 rng(5);
  const std::int64_t m = 19, k = 72, n = 136;
  const auto x = random_vector(static_cast<std::size_t>(m * k), rng);
  const auto w = random_vector(static_cast<std::size_t>(n * k), rng, 1.0f / std::sqrt(float(k)));
  const auto b = random_vector(static_cast<std::size_t>(n), rng);
  const auto expected = testing::reference::linear(x, w, b, m, k, n);
  kernels::DnnlContext ctx;
  for (const char* name : {"any", "ab", "ba", "auto"}) {
    ASSERT_EQ(setenv("BERTCPP_WEIGHT_LAYOUT", name, 1), 0);
    const kernels::Linear linear(ctx, w, b, k, n, Epilogue::none);
    if (std::string(name) != "auto") {
      EXPECT_STREQ(kernels::to_string(linear.layout()), name);
    }
    EXPECT_GE(linear.packed_bytes(), static_cast<std::size_t>((n * k + n)) * sizeof(float));
    std::vector<std::byte> scratch;
    kernels::GemmExec exec{dnnl::stream(ctx.engine), &scratch};
    std::vector<float> y(static_cast<std::size_t>(m * n));
    linear.forward(exec, x.data(), m, y.data());
    exec.stream.wait();
    EXPECT_LE(max_abs_diff(y, expected), 2e-5) << "layout " << name;
  }
  ASSERT_EQ(setenv("BERTCPP_WEIGHT_LAYOUT", "blocked", 1), 0);
  try {
    const kernels::Linear linear(ctx, w, b, k, n, Epilogue::none);
    ADD_FAILURE() << "an unknown BERTCPP_WEIGHT_LAYOUT was accepted";
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("BERTCPP_WEIGHT_LAYOUT='blocked'"), std::string::npos) << e.what();
  }
  unsetenv("BERTCPP_WEIGHT_LAYOUT");
}

// The measured choice is made once per (K, N) and then stable for the process.
TEST(KernelsLinear, MeasuredLayoutIsRememberedPerShape) {
  unsetenv("BERTCPP_WEIGHT_LAYOUT");
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  const auto first = kernels::chosen_weight_layout(engine, 96, 160);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(kernels::chosen_weight_layout(engine, 96, 160), first);
}

TEST(KernelsGemmCache, EvictsLeastRecentlyUsedPastCapacity) {
  kernels::GemmCache cache(3);
  int created = 0;
  auto get = [&](std::int64_t m) {
    return cache.get({m, 8, 8, 0, false, 0}, [&] {
      ++created;
      return kernels::GemmPrimitive{};
    });
  };
  for (std::int64_t m : {1, 2, 3}) get(m);
  EXPECT_EQ(created, 3);
  get(1);  // 1 becomes the most recently used; 2 is now the oldest
  EXPECT_EQ(created, 3);
  const auto held = get(4);  // evicts 2
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(created, 4);
  get(1);
  get(3);
  EXPECT_EQ(created, 4);  // still cached
  get(2);                 // was evicted: made again
  EXPECT_EQ(created, 5);
  EXPECT_EQ(cache.size(), 3u);
  for (std::int64_t m = 10; m < 1000; ++m) get(m);
  EXPECT_EQ(cache.size(), 3u);  // bounded however many shapes go through
  EXPECT_TRUE(held != nullptr);  // an evicted entry stays alive while a caller holds it
}

TEST(KernelsLayerNorm, MatchesReferenceInPlaceAndWithLargeMean) {
  std::mt19937 rng(11);
  for (std::int64_t h : {1, 48, 100, 384}) {
    const std::int64_t rows = 9;
    auto x = random_vector(static_cast<std::size_t>(rows * h), rng, 3.0f);
    for (auto& v : x) v += 1000.0f;  // a naive E[x^2] - mean^2 loses every digit here
    const auto gamma = random_vector(static_cast<std::size_t>(h), rng);
    const auto beta = random_vector(static_cast<std::size_t>(h), rng);
    const auto expected = testing::reference::layer_norm(x, rows, h, gamma, beta, 1e-12);
    std::vector<float> y = x;
    kernels::layer_norm(y.data(), y.data(), rows, h, gamma.data(), beta.data(), 1e-12f);
    EXPECT_LE(max_abs_diff(y, expected), 5e-4) << "hidden " << h;  // inputs ~1000: float eps * 1000 ~ 1e-4
  }
}

TEST(KernelsSoftmax, RowsSumToOneAndSurviveHugeLogits) {
  std::vector<float> x = {1000.0f, 1001.0f, 999.0f, -1e30f, 0.0f, 0.0f};
  kernels::softmax_rows(x.data(), 2, 3);
  const double e = std::exp(1.0), s = 1.0 + e + 1.0 / e;
  EXPECT_NEAR(x[0], 1.0 / s, 1e-6);
  EXPECT_NEAR(x[1], e / s, 1e-6);
  EXPECT_NEAR(x[3], 0.0, 1e-12);
  EXPECT_NEAR(x[4], 0.5, 1e-6);
  for (float v : x) EXPECT_TRUE(std::isfinite(v));
}

TEST(KernelsAttention, PackedSequencesMatchReference) {
  std::mt19937 rng(5);
  for (auto [heads, d] : {std::pair<std::int64_t, std::int64_t>{3, 16}, {4, 12}, {1, 7}, {12, 32}}) {
    const std::vector<std::int64_t> offsets = {0, 7, 8, 21, 26};  // lengths 7, 1, 13, 5
    const std::int64_t H = heads * d, total = offsets.back();
    const auto qkv = random_vector(static_cast<std::size_t>(total * 3 * H), rng);
    const auto expected = testing::reference::attention(qkv, offsets, heads, d);
    std::vector<float> ctx(static_cast<std::size_t>(total * H), -7.0f);
    common::AlignedVector<float> scratch;
    kernels::attention(qkv.data(), ctx.data(), offsets, {heads, d}, scratch);
    EXPECT_LE(max_abs_diff(ctx, expected), 1e-5) << heads << " heads of " << d;
    std::vector<float> full(static_cast<std::size_t>(total * H), -7.0f);
    kernels::attention_full_scores(qkv.data(), full.data(), offsets, {heads, d}, scratch);
    EXPECT_LE(max_abs_diff(full, expected), 1e-5) << heads << " heads of " << d;
  }
}

// The blocked kernel (online softmax over key blocks) against the unblocked one it replaced, for every
// combination of sequence length and block size, including blocks of one row and lengths just past a block.
TEST(KernelsAttention, BlockedMatchesFullScoresForEveryBlocking) {
  std::mt19937 rng(17);
  const std::int64_t heads = 3, d = 20, H = heads * d;
  const std::vector<kernels::AttentionBlocking> blockings = {{1, 1}, {3, 5}, {7, 16}, {32, 64},
                                                             {64, 256}, {128, 128}, {512, 512}};
  for (const std::int64_t len : {1, 7, 128, 513}) {
    // Two sequences of `len` around one of 3 tokens, so blocks never line up with sequence starts.
    const std::vector<std::int64_t> offsets = {0, len, len + 3, 2 * len + 3};
    const std::int64_t total = offsets.back();
    // Logits of a few units, some rows with one dominant key: the online rescaling has work to do.
    auto qkv = random_vector(static_cast<std::size_t>(total * 3 * H), rng, 1.5f);
    qkv[static_cast<std::size_t>((len - 1) * 3 * H + H)] = 40.0f;
    std::vector<float> full(static_cast<std::size_t>(total * H));
    common::AlignedVector<float> scratch;
    kernels::attention_full_scores(qkv.data(), full.data(), offsets, {heads, d}, scratch);
    for (const auto& blocking : blockings) {
      for (int threads : {1, 2}) {
        std::vector<float> ctx(static_cast<std::size_t>(total * H), -7.0f);
        common::AlignedVector<float> blocked_scratch;
        kernels::attention(qkv.data(), ctx.data(), offsets, {heads, d}, blocked_scratch, threads, blocking);
        EXPECT_LE(max_abs_diff(ctx, full), 1e-5)
            << "len " << len << ", blocks " << blocking.query_block << "x" << blocking.key_block << ", threads " << threads;
        // Scratch is per thread and per block, not per sequence length.
        const std::size_t per_thread_bound = static_cast<std::size_t>(
            blocking.query_block * (blocking.key_block + d) + 2 * blocking.query_block + 64);
        EXPECT_LE(blocked_scratch.size(), per_thread_bound * threads) << "len " << len;
      }
    }
  }
}

// The relative position bias (MPNet): bias(h, pos(key) - pos(query)) from a [heads, 2 * span - 1] table, with
// consecutive positions and with gaps (masked-out tokens), in both kernels and every blocking, against the plain
// reference; a table of zeros changes nothing.
TEST(KernelsAttention, RelativeBiasMatchesReference) {
  std::mt19937 rng(23);
  const std::int64_t heads = 3, d = 16, H = heads * d;
  for (const std::int64_t len : {1, 9, 40, 300}) {
    const std::vector<std::int64_t> offsets = {0, len, len + 5, 2 * len + 5};  // lengths len, 5, len
    const std::int64_t total = offsets.back();
    const auto qkv = random_vector(static_cast<std::size_t>(total * 3 * H), rng, 1.5f);
    // Positions: sequence 0 consecutive from 0, sequence 1 starting at 4 (left padding), sequence 2 with a gap
    // of 3 after its second token and one of 1 near its end.
    std::vector<std::int32_t> positions;
    for (std::int64_t t = 0; t < len; ++t) positions.push_back(static_cast<std::int32_t>(t));
    for (std::int64_t t = 0; t < 5; ++t) positions.push_back(static_cast<std::int32_t>(4 + t));
    for (std::int64_t t = 0; t < len; ++t)
      positions.push_back(static_cast<std::int32_t>(t + (t >= 2 ? 3 : 0) + (t >= len - 2 && len > 4 ? 1 : 0)));
    const std::int64_t span = len + 5;
    const auto table = random_vector(static_cast<std::size_t>(heads * (2 * span - 1)), rng, 2.0f);
    const auto by_distance = [&](std::int64_t h, std::int64_t distance) {
      return double(table[static_cast<std::size_t>(h * (2 * span - 1) + span - 1 + distance)]);
    };
    const auto by_position = [&](std::int64_t h, std::int64_t i, std::int64_t j) {
      return by_distance(h, positions[static_cast<std::size_t>(j)] - positions[static_cast<std::size_t>(i)]);
    };
    const auto expected = testing::reference::attention(qkv, offsets, heads, d, by_position);
    const kernels::RelativeBias bias{table.data(), span, positions.data()};
    common::AlignedVector<float> scratch;
    std::vector<float> full(static_cast<std::size_t>(total * H), -7.0f);
    kernels::attention_full_scores(qkv.data(), full.data(), offsets, {heads, d}, scratch, bias);
    EXPECT_LE(max_abs_diff(full, expected), 1e-5) << "len " << len;
    for (const kernels::AttentionBlocking blocking : {kernels::AttentionBlocking{}, {7, 16}, {1, 1}, {64, 128}}) {
      for (int threads : {1, 2}) {
        std::vector<float> ctx(static_cast<std::size_t>(total * H), -7.0f);
        kernels::attention(qkv.data(), ctx.data(), offsets, {heads, d}, scratch, threads, blocking, bias);
        EXPECT_LE(max_abs_diff(ctx, expected), 1e-5)
            << "len " << len << ", blocks " << blocking.query_block << "x" << blocking.key_block;
      }
    }
    // No positions: each token's index in its sequence.
    const auto by_row = [&](std::int64_t h, std::int64_t i, std::int64_t j) {
      // Rows of one sequence: the distance of packed rows is the distance of sequence indices.
      return by_distance(h, j - i);
    };
    const auto by_index = testing::reference::attention(qkv, offsets, heads, d, by_row);
    std::vector<float> ctx(static_cast<std::size_t>(total * H), -7.0f);
    kernels::attention(qkv.data(), ctx.data(), offsets, {heads, d}, scratch, 2, {7, 16}, {table.data(), span, nullptr});
    EXPECT_LE(max_abs_diff(ctx, by_index), 1e-5) << "len " << len << ", no positions";
    // A zero table is no bias at all: bit for bit.
    const std::vector<float> zeros(table.size(), 0.0f);
    std::vector<float> with_zeros(static_cast<std::size_t>(total * H)), without(static_cast<std::size_t>(total * H));
    kernels::attention(qkv.data(), with_zeros.data(), offsets, {heads, d}, scratch, 1, {},
                       {zeros.data(), span, positions.data()});
    kernels::attention(qkv.data(), without.data(), offsets, {heads, d}, scratch, 1);
    EXPECT_EQ(with_zeros, without) << "len " << len;
  }
}

TEST(KernelsAttention, RelativeBiasTableMustCoverTheSequences) {
  const std::vector<std::int64_t> offsets = {0, 3};
  std::vector<float> qkv(3 * 3 * 4, 0.5f), ctx(3 * 4), table(2 * 3 - 1, 0.0f);
  const std::vector<std::int32_t> gap = {0, 1, 5};
  common::AlignedVector<float> scratch;
  const kernels::RelativeBias covering{table.data(), 3, nullptr}, too_short{table.data(), 2, nullptr};
  EXPECT_NO_THROW(kernels::attention(qkv.data(), ctx.data(), offsets, {1, 4}, scratch, 1, {}, covering));
  testing::expect_error<InvalidArgumentError>(
      [&] {
        kernels::attention(qkv.data(), ctx.data(), offsets, {1, 4}, scratch, 1, {}, {table.data(), 3, gap.data()});
      },
      "sequence 0 spans 6 positions, the relative bias table 3");
  EXPECT_THROW(kernels::attention_full_scores(qkv.data(), ctx.data(), offsets, {1, 4}, scratch, too_short),
               InvalidArgumentError);
}

TEST(KernelsAttention, RejectsEmptyBlocks) {
  const std::vector<std::int64_t> offsets = {0, 2};
  std::vector<float> qkv(2 * 3 * 4, 0.5f), ctx(2 * 4);
  common::AlignedVector<float> scratch;
  EXPECT_THROW(kernels::attention(qkv.data(), ctx.data(), offsets, {1, 4}, scratch, 1, {0, 16}), InvalidArgumentError);
}

}  // namespace
}  // namespace bertcpp
