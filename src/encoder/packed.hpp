// A batch as the encoder sees it: the real tokens of every sequence, back to back.
#pragma once

#include <cstdint>
#include <vector>

namespace bertcpp::encoder {

struct PackedBatch {
  std::vector<std::int32_t> input_ids;       // [total_tokens]
  std::vector<std::int32_t> token_type_ids;  // [total_tokens] (zeros when the model has no token types)
  std::vector<std::int32_t> position_ids;    // [total_tokens]: row of the position table (ModelConfig::position_ids)
  std::vector<std::int32_t> columns;         // [total_tokens]: the token's index in its (padded) input row
  std::vector<std::int64_t> offsets;         // [batch + 1]: sequence b is rows [offsets[b], offsets[b+1])

  std::int64_t batch() const noexcept { return static_cast<std::int64_t>(offsets.size()) - 1; }
  std::int64_t total_tokens() const noexcept { return offsets.empty() ? 0 : offsets.back(); }
  void clear() {
    input_ids.clear();
    token_type_ids.clear();
    position_ids.clear();
    columns.clear();
    offsets.assign(1, 0);
  }
};

}  // namespace bertcpp::encoder
