// Opt-in timing of the encoder's stages, for benchmarks (bench/encoder_bench --profile) and diagnosis.
//
// A caller that wants the breakdown installs a StageProfile for the current thread with ProfileScope; the encoder
// wraps each stage in StageTimer, which costs one thread-local load and a branch when nothing is installed.
// oneDNN's CPU stream (OpenMP runtime) executes each primitive before returning, so wall time around a call is
// the time of that call.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace bertcpp::common {

enum class Stage : int {
  pack,            // validating and packing the batch into real-token rows
  embeddings,      // word + position + token type, LayerNorm (and ALBERT/ELECTRA's projection)
  qkv_gemm,        // fused Q/K/V projection
  attention,       // softmax(Q K^T / sqrt(d)) V per (sequence, head)
  attn_out_gemm,   // attention output projection (+ residual)
  attn_layernorm,  // LayerNorm after attention
  ffn_up_gemm,     // intermediate dense (+ activation)
  ffn_down_gemm,   // output dense (+ residual)
  ffn_layernorm,   // LayerNorm after the FFN
  pooler,          // first token -> dense -> tanh
  unpack,          // packed rows -> the padded [B, T, H] output tensor
  count
};

inline constexpr std::array<std::string_view, static_cast<int>(Stage::count)> kStageNames = {
    "pack",      "embeddings",    "qkv_gemm",      "attention", "attn_out_gemm", "attn_layernorm",
    "ffn_up_gemm", "ffn_down_gemm", "ffn_layernorm", "pooler",    "unpack"};

struct StageProfile {
  std::array<double, static_cast<int>(Stage::count)> seconds{};
  std::array<double, static_cast<int>(Stage::count)> flops{};  // GEMM stages: 2*M*K*N per call, summed
  std::array<std::int64_t, static_cast<int>(Stage::count)> calls{};
  void clear() { *this = StageProfile{}; }
};

// The profile of the current thread, or null (the default: no timing).
inline StageProfile*& current_profile() noexcept {
  thread_local StageProfile* profile = nullptr;
  return profile;
}

// Installs `profile` for the current thread for the scope's lifetime.
class ProfileScope {
 public:
  explicit ProfileScope(StageProfile& profile) noexcept : previous_(current_profile()) { current_profile() = &profile; }
  ~ProfileScope() { current_profile() = previous_; }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  StageProfile* previous_;
};

// Adds the time of its scope (and `flops`) to the current thread's profile, if one is installed.
class StageTimer {
 public:
  explicit StageTimer(Stage stage, double flops = 0.0) noexcept : profile_(current_profile()), stage_(stage) {
    if (profile_) {
      profile_->flops[static_cast<int>(stage)] += flops;
      start_ = std::chrono::steady_clock::now();
    }
  }
  ~StageTimer() {
    if (!profile_) return;
    const auto i = static_cast<int>(stage_);
    profile_->seconds[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    profile_->calls[i] += 1;
  }
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;

 private:
  StageProfile* profile_;
  Stage stage_;
  std::chrono::steady_clock::time_point start_{};
};

}  // namespace bertcpp::common
