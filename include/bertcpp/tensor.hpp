// bertcpp/tensor.hpp - the plain fp32 tensor that bertcpp returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace bertcpp {

// A dense, row-major fp32 tensor that owns its data. Outputs of bertcpp are Tensors; they hold no
// reference to the model and may outlive it.
struct Tensor {
  std::vector<std::int64_t> shape;  // e.g. [batch, seq_len, hidden]
  std::vector<float> data;          // product(shape) values, row-major

  Tensor() = default;
  explicit Tensor(std::vector<std::int64_t> dims) : shape(std::move(dims)), data(numel_of(shape), 0.0f) {}

  bool empty() const noexcept { return data.empty(); }
  std::size_t numel() const noexcept { return data.size(); }
  std::int64_t dim(std::size_t i) const { return shape.at(i); }

  // Element access by full index, e.g. t.at({b, t, h}). Bounds are not checked in release builds.
  float& at(std::initializer_list<std::int64_t> index) { return data[offset(index)]; }
  float at(std::initializer_list<std::int64_t> index) const { return data[offset(index)]; }

  // Pointer to the first element of row `i` of the leading dimension (e.g. sequence i of a [B, T, H] tensor).
  float* row(std::int64_t i) { return data.data() + i * stride0(); }
  const float* row(std::int64_t i) const { return data.data() + i * stride0(); }

 private:
  static std::size_t numel_of(const std::vector<std::int64_t>& dims) {
    std::size_t n = 1;
    for (auto d : dims) n *= static_cast<std::size_t>(d);
    return n;
  }
  std::int64_t stride0() const {
    std::int64_t s = 1;
    for (std::size_t i = 1; i < shape.size(); ++i) s *= shape[i];
    return s;
  }
  std::size_t offset(std::initializer_list<std::int64_t> index) const {
    std::size_t off = 0, i = 0;
    for (auto x : index) off = off * static_cast<std::size_t>(shape[i++]) + static_cast<std::size_t>(x);
    return off;
  }
};

}  // namespace bertcpp
