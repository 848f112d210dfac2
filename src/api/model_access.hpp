// What the task heads (src/heads) use of a loaded BertModel beyond its public API: its oneDNN engine and GEMM
// cache (so a head's Linear layers share them with the encoder), and one encoder pass whose packed output
// [total_tokens, H] + offsets the head reads in place, with the call's workspace for its own scratch.
// Internal: not installed, not part of the public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>

#include "bertcpp/model.hpp"
#include "encoder/workspace.hpp"
#include "kernels/linear.hpp"

namespace bertcpp::internal {

// The packed result of one encoder pass, valid only inside the callback of run_packed().
struct PackedOutput {
  const float* hidden = nullptr;          // [total_tokens, H]: the real (attended) tokens, back to back
  std::span<const std::int64_t> offsets;  // [batch + 1]: sequence b is rows [offsets[b], offsets[b+1])
  std::span<const std::int32_t> columns;  // [total_tokens]: each row's index in its input sequence
  const float* pooled = nullptr;          // [batch, H] when requested (tanh pooler), else null
  std::int64_t hidden_size = 0;
  kernels::GemmExec* exec = nullptr;      // this call's stream and GEMM scratchpad
  encoder::Workspace* workspace = nullptr;  // head_input / head_output: scratch for the head, grown as needed
};

// Runs the encoder once on `batch` (validated as forward() does, under LoadOptions::threads) and hands its
// packed output to `head`. `pooled`: also run the pooler (InvalidArgumentError-free: the caller checks
// BertModel::has_pooler()). The workspace returns to the model's pool when `head` returns.
void run_packed(const BertModel& model, const Batch& batch, bool pooled,
                const std::function<void(const PackedOutput&)>& head);

// The engine and primitive cache of the model's Linear layers; a head's Linear built on it shares both.
const kernels::DnnlContext& dnnl_context(const BertModel& model);
// The arithmetic of the model's large GEMMs (LoadOptions::compute): heads with a large product follow it.
ComputeType compute_type(const BertModel& model);
// The directory the model (and its tokenizer) was loaded from.
const std::filesystem::path& model_dir(const BertModel& model);

// Counters for tests: encoders loaded (one per BertModel::load) and encoder passes run (forward() and
// run_packed()) in this process so far.
std::size_t encoders_loaded() noexcept;
std::size_t encoder_passes() noexcept;

// A float buffer of the workspace at least `n` long (it only grows).
float* grow(common::AlignedVector<float>& buffer, std::size_t n);

}  // namespace bertcpp::internal
