// The GEMM epilogue that applies an Activation (common/activation.hpp) to a Linear's output.
#pragma once

#include "common/activation.hpp"
#include "kernels/linear.hpp"

namespace bertcpp::kernels {

constexpr Epilogue epilogue_of(Activation activation) noexcept {
  switch (activation) {
    case Activation::gelu_erf: return Epilogue::gelu_erf;
    case Activation::gelu_tanh: return Epilogue::gelu_tanh;
    case Activation::relu: return Epilogue::relu;
    case Activation::silu: return Epilogue::silu;
    case Activation::tanh: return Epilogue::tanh;
    case Activation::none: break;
  }
  return Epilogue::none;
}

}  // namespace bertcpp::kernels
