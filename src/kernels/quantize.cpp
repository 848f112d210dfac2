#include "kernels/quantize.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <Eigen/Core>
#include <immintrin.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "kernels/layer_norm.hpp"

namespace bertcpp::kernels {
namespace {

// Round to nearest even by adding and subtracting 1.5 * 2^23 (exact for |v| < 2^22, which the clamp makes
// irrelevant beyond): the same result as std::nearbyint, but it vectorizes, where nearbyint is a library call
// per element (measured: the quantize passes of BERT-base at 1x128 took ~6 of 55 ms with it).
constexpr float kRound = 12582912.0f;

inline std::uint8_t quantize_one(float v, float zp) {
  v = std::clamp(v, -512.0f, 512.0f);  // keeps the trick exact; any value this far out clamps to 0 / 255 anyway
  v = (v + kRound) - kRound + zp;
  return static_cast<std::uint8_t>(static_cast<std::int32_t>(std::clamp(v, 0.0f, 255.0f)));
}

// 8 floats -> 8 int32: round(v * inv) + zp, v clamped first so that the conversion cannot overflow (the
// conversion rounds to nearest even, the CPU's default mode, as quantize_one does).
inline __m256i quantize8(__m256 v, __m256 inv, __m256i zp) {
  const __m256 limit = _mm256_set1_ps(512.0f);
  v = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(v, inv), _mm256_sub_ps(_mm256_setzero_ps(), limit)), limit);
  return _mm256_add_epi32(_mm256_cvtps_epi32(v), zp);
}

// q[i] for x[i], single-threaded: called per row inside parallel loops. AVX2 (the library's baseline,
// -march=x86-64-v3): 32 values per step, narrowed to u8 with saturation (the clamp to [0, 255]); measured 4x
// faster than the auto-vectorized scalar loop, which narrowed element by element.
void quantize_span(const float* x, std::int64_t count, QuantParams p, std::uint8_t* q) {
  const float inv = 1.0f / p.scale, zp = static_cast<float>(p.zero_point);
  const __m256 vinv = _mm256_set1_ps(inv);
  const __m256i vzp = _mm256_set1_epi32(p.zero_point);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);  // undoes the packs' per-lane interleave
  std::int64_t i = 0;
  for (; i + 32 <= count; i += 32) {
    __m256 v[4];
    for (int j = 0; j < 4; ++j) v[j] = _mm256_loadu_ps(x + i + 8 * j);
    const __m256i ab = _mm256_packs_epi32(quantize8(v[0], vinv, vzp), quantize8(v[1], vinv, vzp));
    const __m256i cd = _mm256_packs_epi32(quantize8(v[2], vinv, vzp), quantize8(v[3], vinv, vzp));
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(ab, cd), order);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), bytes);
  }
  for (; i < count; ++i) q[i] = quantize_one(x[i] * inv, zp);
}

}  // namespace

Int8Levels int8_levels() noexcept {
  static const Int8Levels levels = [] {
    // ISA values are nested bit masks: every AVX-512 ISA with VNNI contains avx512_core_vnni's bits.
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto avx512_vnni = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_vnni);
    const auto avx2_vnni = static_cast<unsigned>(dnnl::cpu_isa::avx2_vnni);
    const bool vnni = (isa & avx512_vnni) == avx512_vnni || (isa & avx2_vnni) == avx2_vnni;
    return vnni ? Int8Levels{255, 127, 4} : Int8Levels{127, 127, 8};
  }();
  return levels;
}

QuantParams u8_params(float lo, float hi, int max_level) noexcept {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  QuantParams p;
  const float width = hi - lo;
  if (!(width > 0.0f) || !std::isfinite(width)) return p;  // all zeros (or non-finite input: garbage in, out)
  const float top = static_cast<float>(max_level);
  p.scale = width / top;
  p.zero_point = static_cast<std::int32_t>(std::clamp(std::nearbyint(-lo / p.scale), 0.0f, top));
  return p;
}

void quantize_u8_with(const float* x, std::int64_t count, QuantParams params, std::uint8_t* q) {
  const float inv = 1.0f / params.scale, zp = static_cast<float>(params.zero_point);
#pragma omp parallel for simd schedule(static)
  for (std::int64_t i = 0; i < count; ++i) q[i] = quantize_one(x[i] * inv, zp);
}

QuantParams quantize_row_u8(const float* x, std::int64_t cols, OutlierChannels outlier, std::uint8_t* q,
                            float* outliers) {
  if (cols == 0) return QuantParams{};
  // The range over the columns between the outlier channels (the row itself when there are none).
  float lo = 0.0f, hi = 0.0f;
  std::int64_t begin = 0;
  for (std::int64_t j = 0; j <= outlier.count; ++j) {
    const std::int64_t end = j < outlier.count ? outlier.index[j] : cols;
    if (end > begin) {
      const Eigen::Map<const Eigen::ArrayXf> part(x + begin, end - begin);
      lo = std::min(lo, part.minCoeff());
      hi = std::max(hi, part.maxCoeff());
    }
    begin = end + 1;
  }
  const QuantParams p = u8_params(lo, hi, int8_levels().activation_max);
  quantize_span(x, cols, p, q);
  for (std::int64_t j = 0; j < outlier.count; ++j) {
    const std::int32_t c = outlier.index[j];
    outliers[j] = x[c];
    q[c] = static_cast<std::uint8_t>(p.zero_point);
  }
  return p;
}

void quantize_rows_u8(const float* x, std::int64_t rows, std::int64_t cols, OutlierChannels outlier,
                      RowQuantTarget out) {
#pragma omp parallel for schedule(static)
  for (std::int64_t r = 0; r < rows; ++r) {
    const QuantParams p =
        quantize_row_u8(x + r * cols, cols, outlier, out.q + r * cols, out.outlier_row(r, outlier.count));
    out.scale[r] = p.scale;
    out.zero_point[r] = p.zero_point;
  }
}

void layer_norm_quantize_rows_u8(const float* x, float* y, std::int64_t rows, std::int64_t hidden,
                                 const float* gamma, const float* beta, float eps, OutlierChannels outlier,
                                 RowQuantTarget out) {
  // Blocks of rows: layer_norm on the block, then each row quantized while the block is still in L1/L2.
  constexpr std::int64_t kBlock = 8;
#pragma omp parallel for schedule(static)
  for (std::int64_t r0 = 0; r0 < rows; r0 += kBlock) {
    const std::int64_t n = std::min(kBlock, rows - r0);
    // Single-threaded inside: layer_norm's own parallel for does not nest (OpenMP nesting is off).
    layer_norm(x + r0 * hidden, y + r0 * hidden, n, hidden, gamma, beta, eps);
    for (std::int64_t r = r0; r < r0 + n; ++r) {
      const QuantParams p =
          quantize_row_u8(y + r * hidden, hidden, outlier, out.q + r * hidden, out.outlier_row(r, outlier.count));
      out.scale[r] = p.scale;
      out.zero_point[r] = p.zero_point;
    }
  }
}

QuantizedWeights quantize_weights_s8(const float* weight, std::int64_t out, std::int64_t in, int max_level) {
  QuantizedWeights w;
  w.values.resize(static_cast<std::size_t>(out * in));
  w.scales.resize(static_cast<std::size_t>(out));
  w.row_sums.resize(static_cast<std::size_t>(out));
#pragma omp parallel for schedule(static)
  for (std::int64_t n = 0; n < out; ++n) {
    const float* row = weight + n * in;
    float absmax = 0.0f;
    for (std::int64_t k = 0; k < in; ++k) absmax = std::max(absmax, std::abs(row[k]));
    const float level = static_cast<float>(max_level);
    const float scale = absmax > 0.0f ? absmax / level : 1.0f;  // an all-zero row stays zero with any scale
    std::int32_t sum = 0;
    for (std::int64_t k = 0; k < in; ++k) {
      const float v = std::clamp(std::nearbyint(row[k] / scale), -level, level);
      w.values[static_cast<std::size_t>(n * in + k)] = static_cast<std::int8_t>(v);
      sum += static_cast<std::int32_t>(v);
    }
    w.scales[static_cast<std::size_t>(n)] = scale;
    w.row_sums[static_cast<std::size_t>(n)] = sum;
  }
  return w;
}

std::uint16_t to_bf16(float x) noexcept {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x40u);  // quiet NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);  // round to nearest, ties to even
  return static_cast<std::uint16_t>(bits >> 16);
}

float from_bf16(std::uint16_t x) noexcept {
  const std::uint32_t bits = static_cast<std::uint32_t>(x) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

void convert_to_bf16(const float* x, std::int64_t count, std::uint16_t* y) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < count; ++i) y[i] = to_bf16(x[i]);
}

}  // namespace bertcpp::kernels
