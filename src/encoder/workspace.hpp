// Per-call activation buffers. A model keeps a pool of these so that concurrent forward() calls never share
// one, and a steady stream of calls allocates nothing: buffers only grow. The per-pass buffers (qkv, context,
// intermediate, the GEMM inputs) hold one pass of at most kMaxTokensPerPass tokens (bert_encoder.hpp) whatever
// the batch size; hidden holds the whole batch. Both grow geometrically, so that a stream of batches of varying
// size reaches its high-water mark within the first few calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "common/aligned.hpp"
#include "encoder/packed.hpp"
#include "kernels/dense.hpp"

namespace bertcpp::encoder {

struct Workspace {
  PackedBatch packed;
  // The pass of the layers being run (BertEncoder::run): rows [pass_row, pass_row + pass_offsets.back()) of
  // hidden, whose sequences start at pass_offsets (rebased to 0); pass_starts: the first sequence of each pass,
  // then the batch size.
  std::int64_t pass_row = 0;
  std::vector<std::int64_t> pass_offsets;
  std::vector<std::int64_t> pass_starts;
  common::AlignedVector<float> embedded;      // [tokens, embedding_size] before the projection (ALBERT, ELECTRA)
  common::AlignedVector<float> hidden;        // [tokens, hidden]
  common::AlignedVector<float> qkv;           // [pass tokens, 3 * hidden]
  common::AlignedVector<float> context;       // [pass tokens, hidden]
  common::AlignedVector<float> intermediate;  // [pass tokens, intermediate]
  common::AlignedVector<float> attention;     // attention scratch: [threads, query block x (key block + head_dim) + 2]
  common::AlignedVector<float> relative_bias; // MPNet: [heads, 2 * span - 1], the score bias by key - query distance,
                                              //   span = the batch's longest input row; built once per forward
  common::AlignedVector<float> pooled;        // [batch, hidden] scratch for heads
  common::AlignedVector<float> head_input;    // task heads' scratch (internal::run_packed): a head's gathered
  common::AlignedVector<float> head_output;   //   rows and intermediate layers, grown as needed
  std::vector<std::byte> scratchpad;  // oneDNN user scratchpad
  kernels::GemmInputBuffers gemm_input;  // int8 / bf16: the current GEMM's input, quantized or rounded
  kernels::GemmInputBuffers ffn_down_input;  // FFN down's input, prepared while FFN up still reads gemm_input
  common::AlignedVector<std::int32_t> accumulator;  // int8: a GEMM's s32 result before its epilogue
  std::vector<dnnl::stream> thread_streams;  // int8 GEMMs that every thread runs on its own rows (GemmExec)
};

class WorkspacePool {
 public:
  // A workspace for the caller's exclusive use; goes back to the pool when the handle dies.
  class Handle {
   public:
    Handle(WorkspacePool& pool, std::unique_ptr<Workspace> ws) : pool_(&pool), ws_(std::move(ws)) {}
    Handle(Handle&&) = default;
    ~Handle() {
      if (ws_) pool_->release(std::move(ws_));
    }
    Workspace& operator*() const { return *ws_; }
    Workspace* operator->() const { return ws_.get(); }

   private:
    WorkspacePool* pool_;
    std::unique_ptr<Workspace> ws_;
  };

  Handle acquire() {
    std::lock_guard lock(mutex_);
    if (free_.empty()) return Handle(*this, std::make_unique<Workspace>());
    auto ws = std::move(free_.back());
    free_.pop_back();
    return Handle(*this, std::move(ws));
  }

 private:
  void release(std::unique_ptr<Workspace> ws) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(ws));
  }
  std::mutex mutex_;
  std::vector<std::unique_ptr<Workspace>> free_;
};

}  // namespace bertcpp::encoder
