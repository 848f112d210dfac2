// FillMask: the masked-LM head of any supported model type (heads/lm_layout.hpp: BERT's cls.predictions, RoBERTa's
// lm_head, ALBERT's predictions, the ELECTRA generator, DistilBERT's vocab_*) at the mask positions, ranked as
// transformers' fill-mask pipeline ranks them.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "heads/head_common.hpp"
#include "heads/lm_layout.hpp"
#include "kernels/layer_norm.hpp"
#include "kernels/linear.hpp"

namespace bertcpp {

struct FillMask::Impl {
  explicit Impl(BertModel m) : model(std::move(m)) {}

  BertModel model;
  kernels::DnnlContext dnnl;         // referenced by the Linears below; the Impl never moves (shared_ptr)
  // Names for BERT; MlmLayout gives every model type's. E: the word-embedding width (hidden_size, or ALBERT's /
  // ELECTRA's embedding_size).
  kernels::Linear transform;         // cls.predictions.transform.dense [E, H] with the activation fused
  std::vector<float> ln_gamma;       // cls.predictions.transform.LayerNorm.weight [E]
  std::vector<float> ln_beta;        // cls.predictions.transform.LayerNorm.bias [E]
  float ln_eps = 1e-12f;             // config layer_norm_eps
  kernels::Linear decoder;           // cls.predictions.decoder.weight [V, E] (or the word embeddings) + bias [V]
  std::int32_t mask_id = 0;
  std::string mask_token;
};

namespace {

constexpr const char* kHead = "fill-mask";

// The text's encoding, its mask positions and the vocabulary logits there.
struct MaskedRun {
  Encoding encoding;
  std::vector<std::size_t> positions;  // token indices of the mask tokens, in order
  Tensor logits;                       // [masks, V]
};

MaskedRun run(const FillMask::Impl& m, std::string_view text) {
  MaskedRun r;
  r.encoding = m.model.tokenizer().encode(text);
  for (std::size_t t = 0; t < r.encoding.size(); ++t) {
    if (r.encoding.input_ids[t] == m.mask_id) r.positions.push_back(t);
  }
  if (r.positions.empty()) {
    throw InvalidArgumentError("fill-mask: the text has no mask token '" + m.mask_token + "'");
  }
  const ModelConfig& config = m.model.config();
  if (const std::size_t limit = heads::max_input_tokens(config); r.encoding.size() > limit) {
    throw InvalidArgumentError("fill-mask: the text has " + std::to_string(r.encoding.size()) +
                               " tokens, more than max_position_embeddings " +
                               std::to_string(config.max_position_embeddings) + " allows (" + std::to_string(limit) +
                               "; the text is not truncated: a mask could be cut off)");
  }
  Batch batch;
  heads::add_encoding(batch, r.encoding, config);
  const EncoderOutput out = m.model.forward(batch);  // last_hidden_state [1, T, H]

  // Only the mask rows go through the head: the vocabulary projection is the costly part.
  const std::int64_t H = config.hidden_size, E = m.transform.out_features(), V = m.decoder.out_features();
  const auto M = static_cast<std::int64_t>(r.positions.size());
  std::vector<float> gathered(static_cast<std::size_t>(M * H));       // [M, H]
  std::vector<float> transformed(static_cast<std::size_t>(M * E));    // [M, E]
  for (std::int64_t i = 0; i < M; ++i) {
    const float* row = out.last_hidden_state.row(0) + static_cast<std::int64_t>(r.positions[static_cast<std::size_t>(i)]) * H;
    std::copy(row, row + H, gathered.begin() + i * H);
  }
  r.logits = Tensor({M, V});
  std::vector<std::byte> scratchpad;
  kernels::GemmExec exec{dnnl::stream(m.dnnl.engine), &scratchpad};
  m.transform.forward(exec, gathered.data(), M, transformed.data());
  exec.stream.wait();
  kernels::layer_norm(transformed.data(), transformed.data(), M, E, m.ln_gamma.data(), m.ln_beta.data(), m.ln_eps);
  m.decoder.forward(exec, transformed.data(), M, r.logits.data.data());
  exec.stream.wait();
  return r;
}

// Softmax over one row of V logits, accumulated in double.
std::vector<float> probabilities(const float* logits, std::int64_t V) {
  return heads::softmax(std::span<const float>(logits, static_cast<std::size_t>(V)));
}

}  // namespace

FillMask::FillMask(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

FillMask FillMask::load(const std::filesystem::path& dir, const LoadOptions& options) {
  LoadOptions encoder_only = options;
  encoder_only.pooler_output = false;
  heads::HeadCheckpoint ckpt = heads::HeadCheckpoint::open(dir, encoder_only);
  const ModelConfig& config = ckpt.model.config();
  const Tokenizer& tok = ckpt.model.tokenizer();
  const auto mask = tok.mask_token_id();
  if (!mask) throw ConfigError(dir.filename().string() + ": the tokenizer defines no mask token; fill-mask needs one");

  auto impl = std::make_shared<Impl>(ckpt.model);
  impl->mask_id = *mask;
  impl->mask_token = tok.id_to_token(*mask);
  const heads::MlmLayout layout = heads::mlm_layout(config.model_type);
  // The decoder is tied to the word embeddings, so the head works at their width E.
  const weights::TensorView* embeddings = ckpt.checkpoint.resolve("embeddings.word_embeddings.weight");
  const std::int64_t H = config.hidden_size, V = config.vocab_size;
  const std::int64_t E = embeddings && embeddings->shape.size() == 2 ? embeddings->shape[1] : H;
  // Tensors are read in checkpoint order, so that a missing head is reported by its first tensor.
  const auto dense_weight = ckpt.head_tensor(layout.dense + ".weight", {E, H}, kHead);
  const auto dense_bias = ckpt.head_tensor(layout.dense + ".bias", {E}, kHead);
  impl->transform = kernels::Linear(impl->dnnl, dense_weight, dense_bias, H, E,
                                    heads::activation_epilogue(layout.activation.value_or(config.hidden_act), kHead));
  impl->ln_gamma = ckpt.head_tensor(layout.layer_norm + ".weight", {E}, kHead);
  impl->ln_beta = ckpt.head_tensor(layout.layer_norm + ".bias", {E}, kHead);
  impl->ln_eps = static_cast<float>(config.layer_norm_eps);

  // The decoder is tied to the word embeddings and usually left out of the file; a stored one wins (transformers
  // does not tie weights that are both present and differ). Likewise its bias: the decoder's own, else the
  // head's bias.
  const bool tied = ckpt.config.value("tie_word_embeddings", true);
  std::string decoder_name = layout.decoder_weight;
  if (!ckpt.checkpoint.resolve(decoder_name) && tied) decoder_name = "embeddings.word_embeddings.weight";
  const std::string bias_name = ckpt.checkpoint.resolve(layout.decoder_bias) ? layout.decoder_bias : layout.bias;
  const auto decoder_weight = ckpt.head_tensor(decoder_name, {V, E}, kHead);
  const auto decoder_bias = ckpt.head_tensor(bias_name, {V}, kHead);
  impl->decoder = kernels::Linear(impl->dnnl, decoder_weight, decoder_bias, E, V, kernels::Epilogue::none);
  return FillMask(std::move(impl));
}

FillMask::Targets FillMask::resolve_targets(std::span<const std::string> targets) const {
  const Tokenizer& tok = impl_->model.tokenizer();
  EncodeOptions pieces;
  pieces.add_special_tokens = false;
  Targets out;
  for (const std::string& target : targets) {
    std::int32_t id = 0;
    if (const auto exact = tok.token_to_id(target)) {
      id = *exact;
    } else {
      const Encoding enc = tok.encode(target, pieces);
      if (enc.input_ids.empty()) {
        out.dropped.push_back(target);
        continue;
      }
      id = enc.input_ids[0];
      out.replaced.push_back(target + " -> " + tok.id_to_token(id));
    }
    if (std::find(out.ids.begin(), out.ids.end(), id) == out.ids.end()) out.ids.push_back(id);
  }
  if (out.ids.empty()) throw InvalidArgumentError("fill-mask: no usable target (each tokenizes to nothing)");
  return out;
}

std::vector<std::vector<MaskPrediction>> FillMask::fill(std::string_view text, const FillMaskOptions& options) const {
  const Impl& m = *impl_;
  const Tokenizer& tok = m.model.tokenizer();
  // Targets first: an unusable target list is an error whatever the text.
  std::vector<std::int32_t> candidates;
  if (!options.targets.empty()) candidates = resolve_targets(options.targets).ids;
  const MaskedRun r = run(m, text);
  const std::int64_t V = r.logits.dim(1);
  if (candidates.empty()) {
    candidates.resize(static_cast<std::size_t>(V));
    std::iota(candidates.begin(), candidates.end(), 0);
  }
  const std::size_t k = std::min(options.top_k, candidates.size());
  const bool single_mask = r.positions.size() == 1;

  std::vector<std::vector<MaskPrediction>> out;
  for (std::size_t i = 0; i < r.positions.size(); ++i) {
    const std::vector<float> p = probabilities(r.logits.row(static_cast<std::int64_t>(i)), V);
    // Best first; ties by lower id.
    std::vector<std::int32_t> ranked = candidates;
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(k), ranked.end(),
                      [&](std::int32_t a, std::int32_t b) { return p[a] != p[b] ? p[a] > p[b] : a < b; });
    auto& row = out.emplace_back();
    for (std::size_t j = 0; j < k; ++j) {
      const std::int32_t id = ranked[j];
      // The pipeline's "sequence": this mask filled in, padding dropped, decoded; special tokens are skipped for a
      // single mask and kept with several (so the other masks stay visible).
      std::vector<std::int32_t> ids = r.encoding.input_ids;
      ids[r.positions[i]] = id;
      std::erase(ids, tok.pad_token_id());
      const std::int32_t one[] = {id};
      row.push_back({p[static_cast<std::size_t>(id)], id, tok.decode(one, false), tok.decode(ids, single_mask)});
    }
  }
  return out;
}

Tensor FillMask::logits(std::string_view text) const { return run(*impl_, text).logits; }

const std::string& FillMask::mask_token() const noexcept { return impl_->mask_token; }

}  // namespace bertcpp
