// Linear layers over oneDNN matmul: y[M, N] = epilogue(x[M, K] * W^T + b).
//
// Weights arrive as the checkpoint stores an nn.Linear: W [N, K] row-major ("out_features x in_features").
// At load time they are reordered once into the layout oneDNN's matmul prefers for this (K, N) (format_tag::any;
// plain on AVX2, blocked for brgemm on AVX-512). Matmul primitives are created once per (M, K, N, epilogue) and
// cached: a primitive with a runtime M dimension falls back to a slower kernel, so M is always fixed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

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

// Primitives by (M, K, N, epilogue, bias): shared by every Linear of a model, so the 12 layers of BERT-base
// create each shape once. Thread-safe; entries are never removed, so references stay valid.
class GemmCache {
 public:
  struct Key {
    std::int64_t m, k, n;
    int epilogue;
    bool bias;
    bool operator==(const Key&) const = default;
  };
  template <typename Create>
  const GemmPrimitive& get(const Key& key, Create&& create) {
    std::lock_guard lock(mutex_);
    auto& slot = entries_[key];
    if (!slot) slot = std::make_unique<GemmPrimitive>(create());
    return *slot;
  }

 private:
  struct Hash {
    std::size_t operator()(const Key& k) const noexcept {
      std::size_t h = static_cast<std::size_t>(k.m);
      for (std::int64_t v : {k.k, k.n, std::int64_t{k.epilogue}, std::int64_t{k.bias}})
        h = h * 1000003u ^ static_cast<std::size_t>(v);
      return h;
    }
  };
  std::mutex mutex_;
  std::unordered_map<Key, std::unique_ptr<GemmPrimitive>, Hash> entries_;
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
};

class Linear {
 public:
  Linear() = default;
  // weight: [out_features, in_features] row-major, bias: [out_features] (may be empty: no bias).
  Linear(const DnnlContext& ctx, const std::vector<float>& weight, const std::vector<float>& bias,
         std::int64_t in_features, std::int64_t out_features, Epilogue epilogue);

  // x: [M, K] row-major, y: [M, N] row-major (read too when the epilogue is `residual`). Thread-safe.
  void forward(GemmExec& exec, const float* x, std::int64_t m, float* y) const;

  std::int64_t in_features() const noexcept { return k_; }
  std::int64_t out_features() const noexcept { return n_; }
  Epilogue epilogue() const noexcept { return epilogue_; }

 private:
  GemmPrimitive create(std::int64_t m) const;

  const DnnlContext* ctx_ = nullptr;
  std::int64_t k_ = 0, n_ = 0;
  Epilogue epilogue_ = Epilogue::none;
  dnnl::memory::desc weight_desc_, bias_desc_;  // the packed layout chosen at load
  std::vector<float> packed_weight_;            // W^T as [K, N] in weight_desc_'s layout
  std::vector<float> bias_;
};

}  // namespace bertcpp::kernels
