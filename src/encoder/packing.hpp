// Batch (what callers hand over) <-> PackedBatch (what the encoder runs) and back to [B, T, H] outputs.
#pragma once

#include <cstdint>

#include "bertcpp/model.hpp"
#include "bertcpp/tensor.hpp"
#include "encoder/packed.hpp"

namespace bertcpp::encoder {

// Checks every caller-supplied value before any of it reaches the kernels: InvalidArgumentError on an empty
// batch or sequence, a token id outside [0, vocab_size), a token type outside [0, type_vocab_size) (not checked
// when type_vocab_size is 0: the model has no token types and ignores them), mismatched lengths, mask values
// other than 0/1, an all-zero mask, or a sequence longer than config.max_sequence_length.
void validate(const Batch& batch, const ModelConfig& config);

// Keeps the attended tokens of each sequence, back to back. Position ids follow config.position_ids and are
// computed over the whole input row (masked-out tokens included), as transformers does.
void pack(const Batch& batch, const ModelConfig& config, PackedBatch& packed);

// Scatters packed rows hidden [tokens, H] into the zero-filled out [B, T, H] at their input columns.
void unpack(const PackedBatch& packed, const float* hidden, std::int64_t H, Tensor& out);

}  // namespace bertcpp::encoder
