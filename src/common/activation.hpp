// The activations bertcpp computes, one enum for the encoder's FFN, the pooler and every head's dense layers.
// transformers' names (ACT2FN keys in config.json's hidden_act) are mapped onto it in one place,
// weights::activation_from_name; a GEMM runs it as a fused epilogue (kernels::epilogue_of).
#pragma once

namespace bertcpp {

enum class Activation {
  none,
  gelu_erf,   // 0.5 x (1 + erf(x / sqrt 2))                      "gelu"
  gelu_tanh,  // 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3)))    "gelu_new", "gelu_pytorch_tanh"
  relu,
  silu,       // x * sigmoid(x)                                   "silu", "swish"
  tanh,       // the pooler, the RoBERTa / XLM-R classifier
};

}  // namespace bertcpp
