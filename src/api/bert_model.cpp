#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

#include <omp.h>

#include "bertcpp/error.hpp"
#include "bertcpp/model.hpp"
#include "encoder/bert_encoder.hpp"
#include "encoder/workspace.hpp"
#include "weights/checkpoint.hpp"
#include "weights/config.hpp"

namespace bertcpp {

struct BertModel::Impl {
  LoadOptions options;
  ModelConfig config;
  kernels::DnnlContext dnnl;  // referenced by every Linear: the Impl never moves (it lives in a shared_ptr)
  std::optional<encoder::BertEncoder> encoder;
  std::optional<Tokenizer> tokenizer;
  mutable encoder::WorkspacePool workspaces;
};

namespace {

std::string where(std::size_t b, std::size_t t) {
  return "input " + std::to_string(b) + ", position " + std::to_string(t);
}

// Checks every caller-supplied value before any of it reaches the kernels.
void validate(const Batch& batch, const ModelConfig& config) {
  if (batch.input_ids.empty()) throw InvalidArgumentError("forward: the batch is empty");
  const bool has_types = !batch.token_type_ids.empty(), has_mask = !batch.attention_mask.empty();
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
    if (static_cast<std::int64_t>(ids.size()) > config.max_position_embeddings) {
      throw InvalidArgumentError(seq + ": " + std::to_string(ids.size()) +
                                 " tokens exceed max_position_embeddings " +
                                 std::to_string(config.max_position_embeddings) + " (truncate the input)");
    }
    for (std::size_t t = 0; t < ids.size(); ++t) {
      if (ids[t] < 0 || ids[t] >= config.vocab_size) {
        throw InvalidArgumentError(where(b, t) + ": token id " + std::to_string(ids[t]) +
                                   " is outside the vocabulary [0, " + std::to_string(config.vocab_size) + ")");
      }
    }
    if (has_types && !batch.token_type_ids[b].empty()) {
      const auto& types = batch.token_type_ids[b];
      if (types.size() != ids.size()) {
        throw InvalidArgumentError(seq + ": token_type_ids has " + std::to_string(types.size()) +
                                   " values, input_ids has " + std::to_string(ids.size()));
      }
      for (std::size_t t = 0; t < types.size(); ++t) {
        if (types[t] < 0 || types[t] >= config.type_vocab_size) {
          throw InvalidArgumentError(where(b, t) + ": token type id " + std::to_string(types[t]) +
                                     " is outside [0, type_vocab_size " + std::to_string(config.type_vocab_size) +
                                     ")");
        }
      }
    }
    if (has_mask && !batch.attention_mask[b].empty()) {
      const auto& mask = batch.attention_mask[b];
      if (mask.size() != ids.size()) {
        throw InvalidArgumentError(seq + ": attention_mask has " + std::to_string(mask.size()) +
                                   " values, input_ids has " + std::to_string(ids.size()));
      }
      bool any = false;
      for (std::size_t t = 0; t < mask.size(); ++t) {
        if (mask[t] != 0 && mask[t] != 1) {
          throw InvalidArgumentError(where(b, t) + ": attention_mask value " + std::to_string(mask[t]) +
                                     " is not 0 or 1");
        }
        any = any || mask[t] == 1;
      }
      if (!any) throw InvalidArgumentError(seq + ": attention_mask masks out every token");
    }
  }
}

// Keeps the attended tokens of each sequence, back to back, with their original positions.
void pack(const Batch& batch, encoder::PackedBatch& packed) {
  packed.clear();
  for (std::size_t b = 0; b < batch.input_ids.size(); ++b) {
    const auto& ids = batch.input_ids[b];
    const std::vector<std::int32_t>* types =
        batch.token_type_ids.empty() || batch.token_type_ids[b].empty() ? nullptr : &batch.token_type_ids[b];
    const std::vector<std::int32_t>* mask =
        batch.attention_mask.empty() || batch.attention_mask[b].empty() ? nullptr : &batch.attention_mask[b];
    for (std::size_t t = 0; t < ids.size(); ++t) {
      if (mask && (*mask)[t] == 0) continue;
      packed.input_ids.push_back(ids[t]);
      packed.token_type_ids.push_back(types ? (*types)[t] : 0);
      packed.position_ids.push_back(static_cast<std::int32_t>(t));
    }
    packed.offsets.push_back(static_cast<std::int64_t>(packed.input_ids.size()));
  }
}

// Scatters packed rows [tokens, H] into a zero-filled [B, T, H] tensor at their original positions.
void unpack(const Batch& batch, const encoder::PackedBatch& packed, const float* hidden, std::int64_t H,
            Tensor& out) {
  const std::int64_t T = out.shape[1];
  for (std::int64_t b = 0; b < packed.batch(); ++b) {
    for (std::int64_t r = packed.offsets[b]; r < packed.offsets[b + 1]; ++r) {
      const std::int64_t t = packed.position_ids[r];
      std::memcpy(out.data.data() + (b * T + t) * H, hidden + r * H, static_cast<std::size_t>(H) * sizeof(float));
    }
  }
  (void)batch;
}

}  // namespace

void Batch::add(std::vector<std::int32_t> ids, std::vector<std::int32_t> type_ids, std::vector<std::int32_t> mask) {
  const std::size_t before = input_ids.size();
  input_ids.push_back(std::move(ids));
  if (!type_ids.empty() || !token_type_ids.empty()) {
    token_type_ids.resize(before);
    token_type_ids.push_back(std::move(type_ids));
  }
  if (!mask.empty() || !attention_mask.empty()) {
    attention_mask.resize(before);
    attention_mask.push_back(std::move(mask));
  }
}

Batch Batch::from_padded(std::int64_t batch, std::int64_t seq_len, const std::int64_t* ids,
                         const std::int64_t* types, const std::int64_t* mask) {
  if (batch < 0 || seq_len < 0) throw InvalidArgumentError("Batch::from_padded: negative batch or seq_len");
  if (!ids && batch * seq_len > 0) throw InvalidArgumentError("Batch::from_padded: input_ids is null");
  auto narrow = [](std::int64_t v, const char* field) {
    if (v < INT32_MIN || v > INT32_MAX) {
      throw InvalidArgumentError(std::string("Batch::from_padded: ") + field + " value " + std::to_string(v) +
                                 " does not fit in 32 bits");
    }
    return static_cast<std::int32_t>(v);
  };
  Batch out;
  for (std::int64_t b = 0; b < batch; ++b) {
    std::vector<std::int32_t> row_ids, row_types, row_mask;
    for (std::int64_t t = 0; t < seq_len; ++t) {
      const std::int64_t i = b * seq_len + t;
      row_ids.push_back(narrow(ids[i], "input_ids"));
      if (types) row_types.push_back(narrow(types[i], "token_type_ids"));
      if (mask) row_mask.push_back(narrow(mask[i], "attention_mask"));
    }
    out.add(std::move(row_ids), std::move(row_types), std::move(row_mask));
  }
  return out;
}

BertModel::BertModel(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
BertModel::~BertModel() = default;

BertModel BertModel::load(const std::filesystem::path& dir, const LoadOptions& options) {
  auto checkpoint = weights::Checkpoint::open(dir);
  auto impl = std::make_shared<Impl>();
  impl->options = options;
  impl->config = weights::parse_config(checkpoint.config(), dir / "config.json");
  checkpoint.select_prefix({"bert.", ""}, "embeddings.word_embeddings.weight");
  impl->encoder.emplace(impl->dnnl, checkpoint, impl->config, options.pooler_output);
  if (options.tokenizer && (std::filesystem::exists(dir / "tokenizer.json") || std::filesystem::exists(dir / "vocab.txt"))) {
    impl->tokenizer.emplace(Tokenizer::load(dir));
  }
  return BertModel(std::move(impl));
}

EncoderOutput BertModel::forward(const Batch& batch) const {
  const Impl& m = *impl_;
  validate(batch, m.config);
  if (m.options.threads > 0) omp_set_num_threads(m.options.threads);

  auto ws = m.workspaces.acquire();
  pack(batch, ws->packed);

  const std::int64_t B = static_cast<std::int64_t>(batch.size()), H = m.config.hidden_size;
  std::int64_t T = 0;
  EncoderOutput out;
  for (const auto& ids : batch.input_ids) {
    out.lengths.push_back(static_cast<std::int64_t>(ids.size()));
    T = std::max<std::int64_t>(T, static_cast<std::int64_t>(ids.size()));
  }

  encoder::BertEncoder::HiddenStateSink sink;
  if (m.options.hidden_states) {
    out.hidden_states.reserve(static_cast<std::size_t>(m.config.num_hidden_layers + 1));
    sink = [&](std::int64_t, const float* hidden) {
      Tensor& t = out.hidden_states.emplace_back(std::vector<std::int64_t>{B, T, H});
      unpack(batch, ws->packed, hidden, H, t);
    };
  }
  m.encoder->run(*ws, sink);

  out.last_hidden_state = Tensor({B, T, H});
  unpack(batch, ws->packed, ws->hidden.data(), H, out.last_hidden_state);
  if (m.options.pooler_output && m.encoder->has_pooler()) {
    out.pooler_output = Tensor({B, H});
    m.encoder->pool(*ws, out.pooler_output.data.data());
  }
  return out;
}

EncoderOutput BertModel::forward(std::span<const std::string> texts) const {
  const Tokenizer& tok = tokenizer();
  EncodeOptions options;
  options.truncation = Truncation::longest_first;
  options.max_length = static_cast<std::size_t>(impl_->config.max_position_embeddings);
  Batch batch;
  for (const auto& text : texts) {
    Encoding enc = tok.encode(text, options);
    batch.add(std::move(enc.input_ids), std::move(enc.token_type_ids));
  }
  return forward(batch);
}

bool BertModel::has_tokenizer() const noexcept { return impl_->tokenizer.has_value(); }

const Tokenizer& BertModel::tokenizer() const {
  if (!impl_->tokenizer) throw InvalidArgumentError("this model was loaded without a tokenizer (no tokenizer.json or vocab.txt)");
  return *impl_->tokenizer;
}

const ModelConfig& BertModel::config() const noexcept { return impl_->config; }
const LoadOptions& BertModel::options() const noexcept { return impl_->options; }
bool BertModel::has_pooler() const noexcept { return impl_->encoder->has_pooler(); }

}  // namespace bertcpp
