// F32 / F16 / BF16 storage -> fp32. Sources point into a mapping at any byte offset (safetensors does not
// align tensor data), so values are copied out with memcpy before they are read as numbers.
#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <string>
#include <type_traits>

#include "bertcpp/error.hpp"
#include "weights/checkpoint.hpp"

namespace bertcpp::weights {

// safetensors stores little-endian data; the copies below reinterpret those bytes in native order.
static_assert(std::endian::native == std::endian::little, "bertcpp reads little-endian safetensors natively");

namespace {

// Copies a block of 16-bit values into an aligned buffer of the Eigen type, then widens it with Eigen's
// (vectorized where the target has F16C / AVX-512 BF16) conversion.
template <typename Half>
void widen(const std::byte* src, std::size_t count, float* dst) {
  static_assert(sizeof(Half) == 2 && std::is_trivially_copyable_v<Half>);
  constexpr std::size_t kBlock = 1024;
  alignas(64) std::array<Half, kBlock> buffer;
  for (std::size_t done = 0; done < count; done += kBlock) {
    const std::size_t n = std::min(kBlock, count - done);
    std::memcpy(buffer.data(), src + done * sizeof(Half), n * sizeof(Half));
    const Eigen::Map<const Eigen::Array<Half, Eigen::Dynamic, 1>> in(buffer.data(), static_cast<Eigen::Index>(n));
    Eigen::Map<Eigen::ArrayXf>(dst + done, static_cast<Eigen::Index>(n)) = in.template cast<float>();
  }
}

}  // namespace

void convert_to_f32(DType dtype, const std::byte* src, std::size_t count, float* dst) {
  if (count == 0) return;
  switch (dtype) {
    case DType::F32: std::memcpy(dst, src, count * sizeof(float)); return;
    case DType::F16: widen<Eigen::half>(src, count, dst); return;
    case DType::BF16: widen<Eigen::bfloat16>(src, count, dst); return;
    default: break;
  }
  throw UnsupportedError("convert_to_f32: dtype " + std::string(to_string(dtype)) + "; supported: F32, F16, BF16");
}

}  // namespace bertcpp::weights
