#include "heads/token_classifier_windows.hpp"

#include <algorithm>

#include "heads/head_common.hpp"

namespace bertcpp::heads {

std::vector<const Encoding*> windows_of(const Encoding& encoding) {
  std::vector<const Encoding*> windows{&encoding};
  for (const Encoding& w : encoding.overflowing) windows.push_back(&w);
  return windows;
}

Tensor token_head_logits(const BertModel& model, const std::vector<const Encoding*>& windows, const TokenHead& head,
                         std::size_t windows_per_forward) {
  std::size_t max_len = 0;
  for (const Encoding* w : windows) max_len = std::max(max_len, w->size());
  Tensor logits({static_cast<std::int64_t>(windows.size()), static_cast<std::int64_t>(max_len), head.out});
  const std::int64_t hidden = model.config().hidden_size;
  windows_per_forward = std::max<std::size_t>(windows_per_forward, 1);

  for (std::size_t first = 0; first < windows.size(); first += windows_per_forward) {
    const std::size_t count = std::min(windows_per_forward, windows.size() - first);
    Batch batch;
    for (std::size_t i = 0; i < count; ++i) {
      add_encoding(batch, *windows[first + i], model.config(), /*with_attention_mask=*/true);
    }
    const EncoderOutput out = model.forward(batch);  // last_hidden_state [count, T, hidden]
    for (std::size_t i = 0; i < count; ++i) {
      const std::int64_t length = out.lengths[i];
      // y [length, out] = x [length, hidden] * W^T + b, written into window (first + i) of `logits`.
      dense(out.last_hidden_state.row(static_cast<std::int64_t>(i)), length, hidden, head.weight, head.bias,
            head.out, logits.row(static_cast<std::int64_t>(first + i)));
    }
  }
  return logits;
}

}  // namespace bertcpp::heads
