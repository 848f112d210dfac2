#include "kernels/attention.hpp"

#include <algorithm>
#include <cmath>

#include <omp.h>

#include <Eigen/Core>

namespace bertcpp::kernels {
namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using StridedConst = Eigen::Map<const RowMajor, 0, Eigen::OuterStride<>>;
using Strided = Eigen::Map<RowMajor, 0, Eigen::OuterStride<>>;

}  // namespace

void softmax_rows(float* x, std::int64_t rows, std::int64_t cols) {
  for (std::int64_t r = 0; r < rows; ++r) {
    Eigen::Map<Eigen::ArrayXf> row(x + r * cols, cols);
    row = (row - row.maxCoeff()).exp();
    row *= 1.0f / row.sum();
  }
}

void attention(const float* qkv, float* context, std::span<const std::int64_t> offsets,
               const AttentionShape& shape, common::AlignedVector<float>& scores) {
  const std::int64_t heads = shape.num_heads, d = shape.head_dim;
  const std::int64_t hidden = heads * d, row_stride = 3 * hidden;
  const std::int64_t batch = static_cast<std::int64_t>(offsets.size()) - 1;
  std::int64_t max_len = 0;
  for (std::int64_t b = 0; b < batch; ++b) max_len = std::max(max_len, offsets[b + 1] - offsets[b]);
  const std::int64_t threads = omp_get_max_threads();
  const std::size_t per_thread = common::round_up_floats(static_cast<std::size_t>(max_len * max_len));
  if (scores.size() < per_thread * threads) scores.resize(per_thread * threads);
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));

  // One task per (sequence, head); sequences of different lengths make uneven tasks, hence dynamic.
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (std::int64_t task = 0; task < batch * heads; ++task) {
    const std::int64_t b = task / heads, h = task % heads;
    const std::int64_t begin = offsets[b], len = offsets[b + 1] - begin;
    const float* base = qkv + begin * row_stride + h * d;
    const StridedConst q(base, len, d, Eigen::OuterStride<>(row_stride));               // Q_h: len x d
    const StridedConst k(base + hidden, len, d, Eigen::OuterStride<>(row_stride));      // K_h: len x d
    const StridedConst v(base + 2 * hidden, len, d, Eigen::OuterStride<>(row_stride));  // V_h: len x d
    float* s_ptr = scores.data() + per_thread * omp_get_thread_num();
    Strided s(s_ptr, len, len, Eigen::OuterStride<>(len));                              // S: len x len
    Strided out(context + begin * hidden + h * d, len, d, Eigen::OuterStride<>(hidden)); // ctx_h: len x d

    s.noalias() = (q * k.transpose()) * scale;
    softmax_rows(s_ptr, len, len);
    out.noalias() = s * v;
  }
}

}  // namespace bertcpp::kernels
