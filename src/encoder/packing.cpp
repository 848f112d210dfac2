#include "encoder/packing.hpp"

#include <cstring>
#include <string>
#include <vector>

#include "bertcpp/error.hpp"

namespace bertcpp::encoder {

namespace {

std::string where(std::size_t b, std::size_t t) {
  return "input " + std::to_string(b) + ", position " + std::to_string(t);
}

const std::vector<std::int32_t>* row_or_null(const std::vector<std::vector<std::int32_t>>& rows, std::size_t b) {
  return rows.empty() || rows[b].empty() ? nullptr : &rows[b];
}

}  // namespace

void validate(const Batch& batch, const ModelConfig& config) {
  if (batch.input_ids.empty()) throw InvalidArgumentError("forward: the batch is empty");
  const bool has_types = !batch.token_type_ids.empty(), has_mask = !batch.attention_mask.empty();
  const bool model_has_types = config.type_vocab_size > 0;
  if (has_types && batch.token_type_ids.size() != batch.input_ids.size()) {
    throw InvalidArgumentError("forward: token_type_ids has " + std::to_string(batch.token_type_ids.size()) +
                               " sequences, input_ids has " + std::to_string(batch.input_ids.size()));
  }
  if (has_mask && batch.attention_mask.size() != batch.input_ids.size()) {
    throw InvalidArgumentError("forward: attention_mask has " + std::to_string(batch.attention_mask.size()) +
                               " sequences, input_ids has " + std::to_string(batch.input_ids.size()));
  }
  for (std::size_t b = 0; b < batch.input_ids.size(); ++b) {
    const auto& ids = batch.input_ids[b];
    const std::string seq = "input " + std::to_string(b);
    if (ids.empty()) throw InvalidArgumentError(seq + ": input_ids is empty");
    if (static_cast<std::int64_t>(ids.size()) > config.max_sequence_length) {
      const std::string limit = config.max_sequence_length == config.max_position_embeddings
                                    ? "max_position_embeddings " + std::to_string(config.max_position_embeddings)
                                    : "the " + config.model_type + " limit " +
                                          std::to_string(config.max_sequence_length) +
                                          " (max_position_embeddings " +
                                          std::to_string(config.max_position_embeddings) + " - pad_token_id " +
                                          std::to_string(config.pad_token_id) + " - 1)";
      throw InvalidArgumentError(seq + ": " + std::to_string(ids.size()) + " tokens exceed " + limit +
                                 " (truncate the input)");
    }
    for (std::size_t t = 0; t < ids.size(); ++t) {
      if (ids[t] < 0 || ids[t] >= config.vocab_size) {
        throw InvalidArgumentError(where(b, t) + ": token id " + std::to_string(ids[t]) +
                                   " is outside the vocabulary [0, " + std::to_string(config.vocab_size) + ")");
      }
    }
    if (const auto* types = has_types ? row_or_null(batch.token_type_ids, b) : nullptr) {
      if (types->size() != ids.size()) {
        throw InvalidArgumentError(seq + ": token_type_ids has " + std::to_string(types->size()) +
                                   " values, input_ids has " + std::to_string(ids.size()));
      }
      for (std::size_t t = 0; model_has_types && t < types->size(); ++t) {
        if ((*types)[t] < 0 || (*types)[t] >= config.type_vocab_size) {
          throw InvalidArgumentError(where(b, t) + ": token type id " + std::to_string((*types)[t]) +
                                     " is outside [0, type_vocab_size " + std::to_string(config.type_vocab_size) +
                                     ")");
        }
      }
    }
    if (const auto* mask = has_mask ? row_or_null(batch.attention_mask, b) : nullptr) {
      if (mask->size() != ids.size()) {
        throw InvalidArgumentError(seq + ": attention_mask has " + std::to_string(mask->size()) +
                                   " values, input_ids has " + std::to_string(ids.size()));
      }
      bool any = false;
      for (std::size_t t = 0; t < mask->size(); ++t) {
        if ((*mask)[t] != 0 && (*mask)[t] != 1) {
          throw InvalidArgumentError(where(b, t) + ": attention_mask value " + std::to_string((*mask)[t]) +
                                     " is not 0 or 1");
        }
        any = any || (*mask)[t] == 1;
      }
      if (!any) throw InvalidArgumentError(seq + ": attention_mask masks out every token");
    }
  }
}

void pack(const Batch& batch, const ModelConfig& config, PackedBatch& packed) {
  packed.clear();
  const bool model_has_types = config.type_vocab_size > 0;
  const bool after_padding = config.position_ids == PositionIds::after_padding_idx;
  const auto pad = static_cast<std::int32_t>(config.pad_token_id);
  for (std::size_t b = 0; b < batch.input_ids.size(); ++b) {
    const auto& ids = batch.input_ids[b];
    const auto* types = model_has_types ? row_or_null(batch.token_type_ids, b) : nullptr;
    const auto* mask = row_or_null(batch.attention_mask, b);
    std::int32_t non_pad_seen = 0;  // RoBERTa: cumsum(input_ids != pad) over the whole row
    for (std::size_t t = 0; t < ids.size(); ++t) {
      std::int32_t position = static_cast<std::int32_t>(t);
      if (after_padding) {
        if (ids[t] != pad) ++non_pad_seen;
        position = ids[t] != pad ? pad + non_pad_seen : pad;
      }
      if (mask && (*mask)[t] == 0) continue;
      packed.input_ids.push_back(ids[t]);
      packed.token_type_ids.push_back(types ? (*types)[t] : 0);
      packed.position_ids.push_back(position);
      packed.columns.push_back(static_cast<std::int32_t>(t));
    }
    packed.offsets.push_back(static_cast<std::int64_t>(packed.input_ids.size()));
  }
}

void unpack(const PackedBatch& packed, const float* hidden, std::int64_t H, Tensor& out) {
  const std::int64_t T = out.shape[1];
  for (std::int64_t b = 0; b < packed.batch(); ++b) {
    for (std::int64_t r = packed.offsets[b]; r < packed.offsets[b + 1]; ++r) {
      const std::int64_t t = packed.columns[static_cast<std::size_t>(r)];
      std::memcpy(out.data.data() + (b * T + t) * H, hidden + r * H, static_cast<std::size_t>(H) * sizeof(float));
    }
  }
}

}  // namespace bertcpp::encoder
