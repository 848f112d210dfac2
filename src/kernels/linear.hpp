// Linear layers over oneDNN matmul: y[M, N] = epilogue(x[M, K] * W^T + b).
//
// Weights arrive as the checkpoint stores an nn.Linear: W [N, K] row-major ("out_features x in_features").
// At load they are reordered once into the layout that *measures* fastest for this (K, N) on this CPU: the
// candidates are oneDNN's own preference (format_tag::any: blocked for brgemm on AVX-512, plain "ab" on AVX2),
// plain "ab" and the checkpoint's own "ba". oneDNN's preference is not always the fastest: on AVX2 (gemm:jit)
// "ba" runs 2-3x faster than "any" at the token counts of interactive use (docs/benchmarks.md). Every layout
// computes the same sums; only speed differs. The choice is made once per process per (K, N) and reused.
// BERTCPP_WEIGHT_LAYOUT=any|ab|ba skips the measurement (reproducible layouts for benchmarks and debugging).
//
// Matmul primitives are created once per (M, K, N, epilogue, bias) and kept in a bounded LRU cache: a
// primitive with a runtime M dimension falls back to a slower kernel, so M is always fixed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "common/aligned.hpp"

namespace bertcpp::kernels {

// What runs on the matmul result before it is stored.
enum class Epilogue {
  none,
  gelu_erf,    // 0.5 x (1 + erf(x / sqrt 2))            hidden_act "gelu"
  gelu_tanh,   // 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3)))  "gelu_new", "gelu_pytorch_tanh"
  relu,
  silu,        // x * sigmoid(x)
  tanh,        // the pooler
  residual,    // y += result: the output projection and FFN output add the residual already in y
};

// A matmul primitive for one fixed shape, with the descriptors needed to bind memory to it.
struct GemmPrimitive {
  dnnl::matmul matmul;
  dnnl::memory::desc src, dst, scratchpad;
};

// Primitives by (M, K, N, epilogue, bias, weight layout), shared by every Linear of a model, so the 12 layers of BERT-base
// create each shape once. Bounded: past `capacity` entries the least recently used one is dropped (a caller
// still executing it keeps it alive through its shared_ptr). Thread-safe.
class GemmCache {
 public:
  // ~20 KB per primitive (JIT code and descriptors): 256 entries hold 50 distinct token counts of an encoder.
  static constexpr std::size_t kDefaultCapacity = 256;

  struct Key {
    std::int64_t m, k, n;
    int epilogue;
    bool bias;
    int weight_layout;  // a primitive is bound to the weights' memory layout
    int types = 0;      // GemmTypes: fp32, int8 (linear_int8.hpp) and bf16 GEMMs share the cache
    bool operator==(const Key&) const = default;
  };

  explicit GemmCache(std::size_t capacity = kDefaultCapacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  template <typename Create>
  std::shared_ptr<const GemmPrimitive> get(const Key& key, Create&& create) {
    {
      std::lock_guard lock(mutex_);
      if (auto it = index_.find(key); it != index_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second);  // most recently used first
        return it->second->second;
      }
    }
    // Created outside the lock: JIT compilation takes ~1 ms and other shapes need not wait for it.
    auto made = std::make_shared<const GemmPrimitive>(create());
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(key); it != index_.end()) return it->second->second;  // another thread won
    lru_.emplace_front(key, made);
    index_.emplace(key, lru_.begin());
    while (lru_.size() > capacity_) {
      index_.erase(lru_.back().first);
      lru_.pop_back();
    }
    return made;
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return lru_.size();
  }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  struct Hash {
    std::size_t operator()(const Key& k) const noexcept {
      std::size_t h = static_cast<std::size_t>(k.m);
      for (std::int64_t v : {k.k, k.n, std::int64_t{k.epilogue}, std::int64_t{k.bias}, std::int64_t{k.weight_layout},
                             std::int64_t{k.types}})
        h = h * 1000003u ^ static_cast<std::size_t>(v);
      return h;
    }
  };
  using Entry = std::pair<Key, std::shared_ptr<const GemmPrimitive>>;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;
  std::unordered_map<Key, std::list<Entry>::iterator, Hash> index_;
};

// The oneDNN CPU engine and the primitive cache shared by everything a model owns. Must outlive (and not move
// away from) the Linears that reference it.
struct DnnlContext {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  mutable GemmCache gemms;
};

// Per-call execution state: the stream and the user-managed scratchpad of the GEMMs.
struct GemmExec {
  dnnl::stream stream;
  std::vector<std::byte>* scratchpad;  // grown as needed; owned by the caller's workspace
  // int8 GEMMs: the s32 result before bertcpp's own epilogue (linear_int8.hpp); grown as needed. Null: the
  // int8 layer uses a buffer of its own for the call.
  common::AlignedVector<std::int32_t>* accumulator = nullptr;
  // GEMMs that each thread runs on its own (LinearInt8's Int8Schedule::row_chunks): one stream per thread, grown
  // as needed. Null: such a layer makes its own for the call.
  std::vector<dnnl::stream>* thread_streams = nullptr;
};

// How a Linear's weights are laid out for oneDNN.
enum class WeightLayout {
  onednn_preferred,  // format_tag::any as resolved by oneDNN for this shape (blocked for brgemm)
  plain_kn,          // "ab": W^T [K, N] row-major
  plain_nk,          // "ba": W [N, K] row-major, the checkpoint's own layout
};
const char* to_string(WeightLayout layout) noexcept;

// The matmul attributes of every GEMM kind (fp32, bf16, int8): `ops` (e.g. int8's dequantization step) followed
// by the epilogue's post-op, and a user-managed scratchpad.
dnnl::primitive_attr epilogue_attr(Epilogue epilogue, dnnl::post_ops ops = {});

// The data types of a GEMM's input x and weights W (the output is always f32).
enum class GemmTypes {
  f32,   // f32 x f32: Linear
  u8s8,  // u8 x s8, s32 accumulation: LinearInt8
  bf16,  // bf16 x bf16, f32 accumulation: Linear with GemmTypes::bf16
};

// Packs W [N, K] row-major (`user`, of `types`' weight data type) into `packed` (resized) in the layout `to`
// ({K, N}): a copy when the layouts agree, a oneDNN reorder otherwise.
void pack_weights(const dnnl::engine& engine, GemmTypes types, std::int64_t k, std::int64_t n, const void* user,
                  const dnnl::memory::desc& to, common::PackedVector<std::byte>& packed);

// Whether oneDNN's effective ISA on this CPU (after ONEDNN_MAX_CPU_ISA) has native bf16 dot products.
bool bf16_supported() noexcept;
// oneDNN's effective ISA, e.g. "AVX2", "AVX-512 with VNNI", "AVX-512 with BF16", "AMX".
std::string effective_isa_name();

// y[M, N] = epilogue(x[M, K] W^T + b) over oneDNN matmul, the weights prepacked once in the layout measured
// fastest. GemmTypes::f32 (the default): fp32 throughout. GemmTypes::bf16: weights rounded to bfloat16 (nearest
// even) at load, x given already converted (kernels::convert_to_bf16), fp32 accumulation, bias and epilogue;
// only where oneDNN's ISA has native bf16 (AVX512-BF16 or AMX): the constructor throws UnsupportedError naming
// the missing instruction set otherwise (oneDNN would emulate bf16 on AVX512-core only, slower than fp32, and
// not at all on AVX2). int8 has a class of its own (linear_int8.hpp): its epilogue is bertcpp's.
class Linear {
 public:
  Linear() = default;
  // weight: [out_features, in_features] row-major fp32, bias: [out_features] (may be empty: no bias).
  Linear(const DnnlContext& ctx, const std::vector<float>& weight, const std::vector<float>& bias,
         std::int64_t in_features, std::int64_t out_features, Epilogue epilogue, GemmTypes types = GemmTypes::f32);

  // x: [M, K] row-major, y: [M, N] row-major (read too when the epilogue is `residual`). Thread-safe.
  // The first for GemmTypes::f32, the second (x as bf16 bits) for GemmTypes::bf16; InvalidArgumentError otherwise.
  void forward(GemmExec& exec, const float* x, std::int64_t m, float* y) const;
  void forward(GemmExec& exec, const std::uint16_t* x, std::int64_t m, float* y) const;
  GemmTypes types() const noexcept { return types_; }

  std::int64_t in_features() const noexcept { return k_; }
  std::int64_t out_features() const noexcept { return n_; }
  Epilogue epilogue() const noexcept { return epilogue_; }
  WeightLayout layout() const noexcept { return layout_; }
  // Bytes of the packed weights and bias this Linear holds.
  std::size_t packed_bytes() const noexcept { return packed_weight_.size() + bias_.size() * sizeof(float); }

 private:
  GemmPrimitive create(std::int64_t m) const;
  void run(GemmExec& exec, const void* x, std::int64_t m, float* y) const;

  const DnnlContext* ctx_ = nullptr;
  std::int64_t k_ = 0, n_ = 0;
  Epilogue epilogue_ = Epilogue::none;
  GemmTypes types_ = GemmTypes::f32;
  WeightLayout layout_ = WeightLayout::onednn_preferred;
  dnnl::memory::desc weight_desc_, bias_desc_;     // the packed layout chosen at load
  common::PackedVector<std::byte> packed_weight_;  // W^T as [K, N] in weight_desc_'s layout and data type
  std::vector<float> bias_;
};

// The layout a Linear of this (K, N) gets in this process: measured on first use (see the file comment),
// then remembered. Exposed for tests and benchmarks.
// Each GemmTypes is measured on its own: the fastest layout of s8 or bf16 weights need not be that of f32 ones.
WeightLayout chosen_weight_layout(const dnnl::engine& engine, std::int64_t k, std::int64_t n,
                                  GemmTypes types = GemmTypes::f32);
// The memory desc {K, N} of weights of `types` in `layout` (onednn_preferred: as a matmul at M = 128 prefers it).
dnnl::memory::desc packed_weights_desc(const dnnl::engine& engine, WeightLayout layout, std::int64_t k,
                                       std::int64_t n, GemmTypes types = GemmTypes::f32);

}  // namespace bertcpp::kernels
