#include <algorithm>
#include <atomic>
#include <cstring>
#include <optional>
#include <string>

#include <omp.h>

#include "bertcpp/error.hpp"
#include "bertcpp/model.hpp"
#include "api/onednn_cache.hpp"
#include "common/omp_threads.hpp"
#include "common/profile.hpp"
#include "api/model_access.hpp"
#include "encoder/bert_encoder.hpp"
#include "encoder/packing.hpp"
#include "encoder/workspace.hpp"
#include "tokenizer/tokenizer_files.hpp"
#include "weights/checkpoint.hpp"
#include "weights/config.hpp"
#include "weights/layout.hpp"
#include "weights/unused_tensors.hpp"

namespace bertcpp {

struct BertModel::Impl {
  std::filesystem::path dir;  // the checkpoint directory (its tokenizer's files)
  LoadOptions options;
  ModelConfig config;
  kernels::DnnlContext dnnl;  // referenced by every Linear: the Impl never moves (it lives in a shared_ptr)
  std::optional<encoder::BertEncoder> encoder;
  std::optional<Tokenizer> tokenizer;
  std::vector<std::string> load_warnings;
  mutable encoder::WorkspacePool workspaces;
};

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

void Batch::add(const Encoding& encoding, const ModelConfig& config) {
  add(encoding.input_ids, config.feeds_token_type_ids ? encoding.token_type_ids : std::vector<std::int32_t>{},
      encoding.attention_mask);
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

namespace internal {

struct ModelAccess {
  static const BertModel::Impl& impl(const BertModel& model) { return *model.impl_; }
};

namespace {
std::atomic<std::size_t> g_encoders_loaded{0}, g_encoder_passes{0};
}  // namespace

std::size_t encoders_loaded() noexcept { return g_encoders_loaded.load(); }
std::size_t encoder_passes() noexcept { return g_encoder_passes.load(); }

float* grow(common::AlignedVector<float>& buffer, std::size_t n) {
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

const kernels::DnnlContext& dnnl_context(const BertModel& model) { return ModelAccess::impl(model).dnnl; }
ComputeType compute_type(const BertModel& model) { return ModelAccess::impl(model).options.compute; }
const std::filesystem::path& model_dir(const BertModel& model) { return ModelAccess::impl(model).dir; }

void run_packed(const BertModel& model, const Batch& batch, bool pooled,
                const std::function<void(const PackedOutput&)>& head) {
  const BertModel::Impl& m = ModelAccess::impl(model);
  encoder::validate(batch, m.config);
  const common::OmpThreadsScope threads(m.options.threads);
  auto ws = m.workspaces.acquire();
  {
    common::StageTimer timer(common::Stage::pack);
    encoder::pack(batch, m.config, ws->packed);
  }
  m.encoder->run(*ws);
  g_encoder_passes.fetch_add(1);
  const std::int64_t H = m.config.hidden_size;
  PackedOutput out;
  out.hidden = ws->hidden.data();
  out.offsets = ws->packed.offsets;
  out.columns = ws->packed.columns;
  out.hidden_size = H;
  if (pooled) {
    float* pooled_rows = grow(ws->pooled, static_cast<std::size_t>(ws->packed.batch() * H));
    m.encoder->pool(*ws, pooled_rows);
    out.pooled = pooled_rows;
  }
  kernels::GemmExec exec{dnnl::stream(m.dnnl.engine), &ws->scratchpad, &ws->accumulator, &ws->thread_streams};
  out.exec = &exec;
  out.workspace = &*ws;
  head(out);
}

}  // namespace internal

namespace {

void select_prefix(weights::Checkpoint& checkpoint, const weights::CheckpointLayout& layout) {
  const std::vector<std::string_view> prefixes(layout.prefixes.begin(), layout.prefixes.end());
  checkpoint.select_prefix(prefixes, layout.word_embeddings);
}

}  // namespace

BertModel::BertModel(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
BertModel::~BertModel() = default;

BertModel BertModel::load(const std::filesystem::path& dir, const LoadOptions& options) {
  api::limit_onednn_primitive_cache();
  auto checkpoint = weights::Checkpoint::open(dir);
  auto impl = std::make_shared<Impl>();
  impl->dir = dir;
  impl->options = options;
  impl->config = weights::parse_config(checkpoint.config(), dir / "config.json");
  const weights::CheckpointLayout layout = weights::checkpoint_layout(impl->config);
  select_prefix(checkpoint, layout);
  impl->encoder.emplace(impl->dnnl, checkpoint, impl->config, layout, options.pooler_output, options.compute);
  internal::g_encoders_loaded.fetch_add(1);
  impl->load_warnings = weights::unused_tensor_warnings(checkpoint, layout, impl->config);
  // Every file kind Tokenizer::load reads (tokenizer.json, vocab.txt, vocab.json + merges.txt, spiece.model,
  // sentencepiece.bpe.model).
  if (options.tokenizer && tokenizer::has_tokenizer_files(dir)) impl->tokenizer.emplace(Tokenizer::load(dir));
  if (options.on_warning)
    for (const std::string& warning : impl->load_warnings) options.on_warning(warning);
  return BertModel(std::move(impl));
}

EncoderOutput BertModel::forward(const Batch& batch) const {
  const Impl& m = *impl_;
  encoder::validate(batch, m.config);
  // LoadOptions::threads for this call only: the caller's OpenMP setting is restored on return.
  const common::OmpThreadsScope threads(m.options.threads);

  auto ws = m.workspaces.acquire();
  {
    common::StageTimer timer(common::Stage::pack);
    encoder::pack(batch, m.config, ws->packed);
  }

  const std::int64_t B = static_cast<std::int64_t>(batch.size()), H = m.config.hidden_size;
  std::int64_t T = 0;
  EncoderOutput out;
  for (const auto& ids : batch.input_ids) {
    out.lengths.push_back(static_cast<std::int64_t>(ids.size()));
    T = std::max<std::int64_t>(T, static_cast<std::int64_t>(ids.size()));
  }

  encoder::BertEncoder::HiddenStateSink sink;
  if (m.options.hidden_states) {
    out.hidden_states.reserve(static_cast<std::size_t>(m.config.layers_run() + 1));
    sink = [&](std::int64_t, const float* hidden) {
      Tensor& t = out.hidden_states.emplace_back(std::vector<std::int64_t>{B, T, H});
      encoder::unpack(ws->packed, hidden, H, t);
    };
  }
  m.encoder->run(*ws, sink);
  internal::g_encoder_passes.fetch_add(1);

  {
    common::StageTimer timer(common::Stage::unpack);
    out.last_hidden_state = Tensor({B, T, H});
    encoder::unpack(ws->packed, ws->hidden.data(), H, out.last_hidden_state);
  }
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
  options.max_length = static_cast<std::size_t>(impl_->config.max_sequence_length);
  Batch batch;
  for (const auto& text : texts) batch.add(tok.encode(text, options), impl_->config);
  return forward(batch);
}

bool BertModel::has_tokenizer() const noexcept { return impl_->tokenizer.has_value(); }

const Tokenizer& BertModel::tokenizer() const {
  if (!impl_->tokenizer) throw InvalidArgumentError("this model was loaded without a tokenizer (LoadOptions::tokenizer false, or no "
                               "tokenizer.json, vocab.txt, vocab.json + merges.txt, spiece.model or "
                               "sentencepiece.bpe.model in its directory)");
  return *impl_->tokenizer;
}

const ModelConfig& BertModel::config() const noexcept { return impl_->config; }
const LoadOptions& BertModel::options() const noexcept { return impl_->options; }
const std::vector<std::string>& BertModel::load_warnings() const noexcept { return impl_->load_warnings; }
bool BertModel::has_pooler() const noexcept { return impl_->encoder->has_pooler(); }

}  // namespace bertcpp
