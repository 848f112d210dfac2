// Windows of one text (an Encoding and its overflowing windows) through the encoder, and a per-token dense layer
// on the result: what the token-classification and question-answering heads share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bertcpp/model.hpp"
#include "bertcpp/tensor.hpp"
#include "bertcpp/tokenizer.hpp"

namespace bertcpp::heads {

// The encoding first, then its overflowing windows: the order transformers' fast tokenizers return them in.
std::vector<const Encoding*> windows_of(const Encoding& encoding);

// A dense layer applied to every token: y = x W^T + b, W [out, hidden] as nn.Linear stores it.
struct TokenHead {
  std::vector<float> weight;  // [out, hidden]
  std::vector<float> bias;    // [out]
  std::int64_t out = 0;
};

// Runs the windows through `model`, at most `windows_per_forward` of them per forward() call, and applies
// `head` to each token's last hidden state. Returns [windows, max window length, out], zero past each window's
// end.
Tensor token_head_logits(const BertModel& model, const std::vector<const Encoding*>& windows, const TokenHead& head,
                         std::size_t windows_per_forward = 8);

}  // namespace bertcpp::heads
