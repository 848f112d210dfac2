// MPNet's relative position bias (transformers' MPNetEncoder): one learned score per (bucket, head), added to the
// scaled attention scores of every layer, where the bucket depends only on the distance key - query.
#pragma once

#include <cstdint>
#include <span>

namespace bertcpp::encoder {

// MPNetEncoder.forward calls compute_position_bias with its defaults, so the bucketing always uses 32 buckets and
// max distance 128, whatever config.json's relative_attention_num_buckets says (that only sizes the table
// encoder.relative_attention_bias.weight, which must then have at least 32 rows).
inline constexpr std::int64_t kRelativeBuckets = 32;
inline constexpr std::int64_t kRelativeMaxDistance = 128;

// The bucket of a key `distance` = key - query positions away (T5's bidirectional bucketing): keys before the
// query use buckets 0..15, keys after it 16..31 (16 itself is never used: distance 0 is bucket 0); within a half,
// distances below 8 have a bucket each, larger ones share 8 log-spaced buckets up to 128 and the last one beyond.
// The log arithmetic is float32, truncated toward zero, as transformers computes it on fp32 tensors.
std::int64_t relative_bucket(std::int64_t distance);

// table [heads, 2 * span - 1]: table[h, span - 1 + distance] = weight[relative_bucket(distance), h] for
// |distance| < span, from weight = encoder.relative_attention_bias.weight [rows, heads] (rows >= kRelativeBuckets).
void relative_bias_table(std::span<const float> weight, std::int64_t heads, std::int64_t span, float* table);

}  // namespace bertcpp::encoder
