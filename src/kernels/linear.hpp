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

// One oneDNN CPU engine shared by everything a model owns. Cheap to pass by reference.
struct DnnlContext {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
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
  struct Primitive {
    dnnl::matmul matmul;
    dnnl::memory::desc src, dst, scratchpad;
  };
  const Primitive& primitive_for(std::int64_t m) const;
  Primitive create(std::int64_t m) const;

  const DnnlContext* ctx_ = nullptr;
  std::int64_t k_ = 0, n_ = 0;
  Epilogue epilogue_ = Epilogue::none;
  dnnl::memory::desc weight_desc_, bias_desc_;  // the packed layout chosen at load
  std::vector<float> packed_weight_;            // W^T as [K, N] in weight_desc_'s layout
  std::vector<float> bias_;

  // M -> primitive. Shared by concurrent forwards; entries are never removed, so references stay valid.
  struct Cache {
    std::mutex mutex;
    std::unordered_map<std::int64_t, std::unique_ptr<Primitive>> by_m;
  };
  std::unique_ptr<Cache> cache_ = std::make_unique<Cache>();
};

}  // namespace bertcpp::kernels
