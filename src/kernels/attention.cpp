#include "kernels/attention.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <string>

#include <omp.h>

#include <Eigen/Core>
#include <oneapi/dnnl/dnnl.hpp>

#include "bertcpp/error.hpp"

namespace bertcpp::kernels {
namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using StridedConst = Eigen::Map<const RowMajor, 0, Eigen::OuterStride<>>;
using Strided = Eigen::Map<RowMajor, 0, Eigen::OuterStride<>>;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// C[m, n] = alpha * A[m, k] * op(B) + beta * C, all row-major with leading dimensions; op(B) = B^T ([n, k]) when
// b_transposed. oneDNN's sgemm: its JIT kernel for the CPU at hand, single-threaded inside our parallel region.
// Returns false when oneDNN rejects the call (it cannot with the shapes built here; reported after the parallel
// region, since an exception must not leave an OpenMP region).
bool gemm(bool b_transposed, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  return dnnl::sgemm('N', b_transposed ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) ==
         dnnl::status::success;
}

// Checks that every distance of every sequence has a row in the bias table (before any parallel region).
void check_bias(const RelativeBias& bias, std::span<const std::int64_t> offsets, const char* kernel) {
  if (bias.table == nullptr) return;
  for (std::size_t b = 0; b + 1 < offsets.size(); ++b) {
    const std::int64_t begin = offsets[b], len = offsets[b + 1] - begin;
    if (len == 0) continue;
    const std::int64_t extent =
        bias.positions ? std::int64_t{bias.positions[begin + len - 1]} - bias.positions[begin] + 1 : len;
    if (extent > bias.span || extent < len)
      throw InvalidArgumentError(std::string(kernel) + ": sequence " + std::to_string(b) + " spans " +
                                 std::to_string(extent) + " positions, the relative bias table " +
                                 std::to_string(bias.span) + " (positions must increase within a sequence)");
  }
}

// s [rows, cols] (leading dimension ld) += bias(h, pos(key) - pos(query)) for the queries q0 .. q0 + rows - 1 and
// the keys k0 .. k0 + cols - 1 of the sequence at packed rows [begin, begin + len).
void add_relative_bias(float* s, std::int64_t ld, std::int64_t rows, std::int64_t cols, std::int64_t q0,
                       std::int64_t k0, std::int64_t begin, std::int64_t len, std::int64_t h,
                       const RelativeBias& bias) {
  const float* by_distance = bias.table + h * (2 * bias.span - 1) + (bias.span - 1);  // [distance], |distance| < span
  const std::int32_t* pos = bias.positions ? bias.positions + begin : nullptr;
  // Consecutive positions (no masked-out token inside the sequence): the distance is the index difference, and
  // each row's bias is a contiguous slice of the table.
  if (pos && std::int64_t{pos[len - 1]} - pos[0] == len - 1) pos = nullptr;
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = s + r * ld;
    if (pos == nullptr) {
      Eigen::Map<Eigen::ArrayXf>(row, cols) += Eigen::Map<const Eigen::ArrayXf>(by_distance + (k0 - (q0 + r)), cols);
    } else {
      const std::int32_t query = pos[q0 + r];
      for (std::int64_t c = 0; c < cols; ++c) row[c] += by_distance[pos[k0 + c] - query];
    }
  }
}

}  // namespace

void softmax_rows(float* x, std::int64_t rows, std::int64_t cols) {
  for (std::int64_t r = 0; r < rows; ++r) {
    Eigen::Map<Eigen::ArrayXf> row(x + r * cols, cols);
    row = (row - row.maxCoeff()).exp();
    row *= 1.0f / row.sum();
  }
}

void attention(const float* qkv, float* context, std::span<const std::int64_t> offsets, const AttentionShape& shape,
               common::AlignedVector<float>& scratch, int threads, const AttentionBlocking& blocking,
               const RelativeBias& bias) {
  if (blocking.query_block < 1 || blocking.key_block < 1)
    throw InvalidArgumentError("attention: query_block and key_block must be positive");
  check_bias(bias, offsets, "attention");
  const std::int64_t heads = shape.num_heads, d = shape.head_dim;
  const std::int64_t hidden = heads * d, row_stride = 3 * hidden;
  const std::int64_t batch = static_cast<std::int64_t>(offsets.size()) - 1;
  const std::int64_t qb = blocking.query_block, kb = blocking.key_block;
  if (threads <= 0) threads = omp_get_max_threads();

  // Per thread: scores [qb, kb], the unnormalised output [qb, d], running max and sum [qb] each.
  const std::size_t scores_floats = common::round_up_floats(static_cast<std::size_t>(qb * kb));
  const std::size_t out_floats = common::round_up_floats(static_cast<std::size_t>(qb * d));
  const std::size_t stat_floats = common::round_up_floats(static_cast<std::size_t>(qb));
  const std::size_t per_thread = scores_floats + out_floats + 2 * stat_floats;
  if (scratch.size() < per_thread * static_cast<std::size_t>(threads)) scratch.resize(per_thread * threads);

  // Tasks: (sequence, query block) pairs in order, times heads. Sequences of different lengths make uneven
  // tasks, hence dynamic scheduling.
  std::int64_t tasks_per_head = 0;
  for (std::int64_t b = 0; b < batch; ++b) tasks_per_head += ceil_div(offsets[b + 1] - offsets[b], qb);
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  std::atomic<bool> gemm_failed{false};

#pragma omp parallel num_threads(threads)
  {
    float* base_scratch = scratch.data() + per_thread * static_cast<std::size_t>(omp_get_thread_num());
    float* s_ptr = base_scratch;
    float* o_ptr = base_scratch + scores_floats;
    float* row_max = o_ptr + out_floats;
    float* row_sum = row_max + stat_floats;
    // Which sequence a task index falls in: tasks are handed out in order, so a thread walks forward.
    std::int64_t seq = 0, seq_first_task = 0;

#pragma omp for schedule(dynamic, 1)
    for (std::int64_t task = 0; task < tasks_per_head * heads; ++task) {
      const std::int64_t h = task / tasks_per_head, t = task % tasks_per_head;
      if (t < seq_first_task) seq = 0, seq_first_task = 0;
      while (t >= seq_first_task + ceil_div(offsets[seq + 1] - offsets[seq], qb)) {
        seq_first_task += ceil_div(offsets[seq + 1] - offsets[seq], qb);
        ++seq;
      }
      const std::int64_t begin = offsets[seq], len = offsets[seq + 1] - begin;
      const std::int64_t q0 = (t - seq_first_task) * qb, rows = std::min(qb, len - q0);
      const float* head_base = qkv + begin * row_stride + h * d;
      Strided out(context + (begin + q0) * hidden + h * d, rows, d, Eigen::OuterStride<>(hidden));    // [rows, d]

      const float* q_ptr = head_base + q0 * row_stride;  // Q: [rows, d], row stride 3H
      float* out_ptr = context + (begin + q0) * hidden + h * d;  // [rows, d], row stride H
      if (len <= kb) {
        // One key block: a plain softmax, written straight to the context.
        // S [rows, len] = scale * Q K^T;  K: [len, d] at head_base + H
        bool ok = gemm(true, rows, len, d, scale, q_ptr, row_stride, head_base + hidden, row_stride, 0.0f, s_ptr, len);
        if (bias.table) add_relative_bias(s_ptr, len, rows, len, q0, 0, begin, len, h, bias);
        softmax_rows(s_ptr, rows, len);
        // out [rows, d] = P V;  V: [len, d] at head_base + 2H
        ok = gemm(false, rows, d, len, 1.0f, s_ptr, len, head_base + 2 * hidden, row_stride, 0.0f, out_ptr, hidden) && ok;
        if (!ok) gemm_failed = true;
        continue;
      }

      Strided o(o_ptr, rows, d, Eigen::OuterStride<>(d));  // unnormalised output [rows, d]
      o.setZero();
      std::fill_n(row_max, rows, -std::numeric_limits<float>::infinity());
      std::fill_n(row_sum, rows, 0.0f);
      for (std::int64_t k0 = 0; k0 < len; k0 += kb) {
        const std::int64_t cols = std::min(kb, len - k0);
        const float* k_ptr = head_base + k0 * row_stride + hidden;      // K block: [cols, d]
        const float* v_ptr = head_base + k0 * row_stride + 2 * hidden;  // V block: [cols, d]
        if (!gemm(true, rows, cols, d, scale, q_ptr, row_stride, k_ptr, row_stride, 0.0f, s_ptr, cols))  // [rows, cols]
          gemm_failed = true;
        if (bias.table) add_relative_bias(s_ptr, cols, rows, cols, q0, k0, begin, len, h, bias);
        for (std::int64_t r = 0; r < rows; ++r) {
          Eigen::Map<Eigen::ArrayXf> p(s_ptr + r * cols, cols);
          const float new_max = std::max(row_max[r], p.maxCoeff());
          const float rescale = std::exp(row_max[r] - new_max);  // exp(-inf) = 0 on the first block
          p = (p - new_max).exp();
          row_sum[r] = row_sum[r] * rescale + p.sum();
          row_max[r] = new_max;
          if (rescale != 1.0f) o.row(r) *= rescale;
        }
        if (!gemm(false, rows, d, cols, 1.0f, s_ptr, cols, v_ptr, row_stride, 1.0f, o_ptr, d))  // O += P V
          gemm_failed = true;
      }
      for (std::int64_t r = 0; r < rows; ++r) out.row(r) = o.row(r) * (1.0f / row_sum[r]);
    }
  }
  if (gemm_failed) throw InvalidArgumentError("attention: oneDNN sgemm rejected a block (shape or stride)");
}

void attention_full_scores(const float* qkv, float* context, std::span<const std::int64_t> offsets,
                           const AttentionShape& shape, common::AlignedVector<float>& scores,
                           const RelativeBias& bias) {
  check_bias(bias, offsets, "attention_full_scores");
  const std::int64_t heads = shape.num_heads, d = shape.head_dim;
  const std::int64_t hidden = heads * d, row_stride = 3 * hidden;
  const std::int64_t batch = static_cast<std::int64_t>(offsets.size()) - 1;
  std::int64_t max_len = 0;
  for (std::int64_t b = 0; b < batch; ++b) max_len = std::max(max_len, offsets[b + 1] - offsets[b]);
  const std::int64_t threads = omp_get_max_threads();
  const std::size_t per_thread = common::round_up_floats(static_cast<std::size_t>(max_len * max_len));
  if (scores.size() < per_thread * threads) scores.resize(per_thread * threads);
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));

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
    if (bias.table) add_relative_bias(s_ptr, len, len, len, 0, 0, begin, len, h, bias);
    softmax_rows(s_ptr, len, len);
    out.noalias() = s * v;
  }
}

}  // namespace bertcpp::kernels
