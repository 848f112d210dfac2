// FillMask: the masked-LM head of any supported model type (the registry's MlmHead: BERT's cls.predictions,
// RoBERTa's lm_head, ALBERT's predictions, the ELECTRA generator, DistilBERT's vocab_*) at the mask positions,
// ranked as transformers' fill-mask pipeline ranks them. Its GEMMs run on the model's engine and GEMM cache, with
// the encoder call's workspace for scratch.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "heads/head_common.hpp"
#include "kernels/layer_norm.hpp"
#include "kernels/activation.hpp"
#include "kernels/dense.hpp"
#include "kernels/dense.hpp"
#include "kernels/linear.hpp"
#include "kernels/softmax.hpp"

namespace bertcpp {

struct FillMask::Impl {
  explicit Impl(BertModel m) : model(std::move(m)) {}

  BertModel model;
  // Names for BERT; the registry's MlmHead gives every model type's. E: the word-embedding width (hidden_size, or ALBERT's /
  // ELECTRA's embedding_size).
  kernels::Linear transform;         // cls.predictions.transform.dense [E, H] with the activation fused
  std::vector<float> ln_gamma;       // cls.predictions.transform.LayerNorm.weight [E]
  std::vector<float> ln_beta;        // cls.predictions.transform.LayerNorm.bias [E]
  float ln_eps = 1e-12f;             // config layer_norm_eps
  // cls.predictions.decoder.weight [V, E] (or the word embeddings) + bias [V], in the model's compute type: the
  // vocabulary projection is the one large GEMM of a head (30522 x 768 for BERT-base), and with few mask rows it
  // is bound by reading its weights, a quarter of the bytes in int8.
  kernels::Dense decoder;
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
  if (const auto limit = static_cast<std::size_t>(config.max_sequence_length); r.encoding.size() > limit) {
    throw InvalidArgumentError("fill-mask: the text has " + std::to_string(r.encoding.size()) +
                               " tokens, more than max_position_embeddings " +
                               std::to_string(config.max_position_embeddings) + " allows (" + std::to_string(limit) +
                               "; the text is not truncated: a mask could be cut off)");
  }
  Batch batch;
  batch.add(r.encoding, config);
  const std::int64_t H = config.hidden_size, E = m.transform.out_features(), V = m.decoder.out_features();
  const auto M = static_cast<std::int64_t>(r.positions.size());
  r.logits = Tensor({M, V});
  internal::run_packed(m.model, batch, false, [&](const internal::PackedOutput& run) {
    // Only the mask rows go through the head: the vocabulary projection is the costly part.
    float* gathered = internal::grow(run.workspace->head_input, static_cast<std::size_t>(M * H));      // [M, H]
    float* transformed = internal::grow(run.workspace->head_output, static_cast<std::size_t>(M * E));  // [M, E]
    for (std::int64_t i = 0; i < M; ++i) {
      const std::int64_t row = heads::packed_row(run, 0, static_cast<std::int64_t>(r.positions[static_cast<std::size_t>(i)]));
      if (row < 0) throw InvalidArgumentError("fill-mask: a mask token is masked out by the attention mask");
      std::copy_n(run.hidden + row * H, H, gathered + i * H);
    }
    m.transform.forward(*run.exec, gathered, M, transformed);
    run.exec->stream.wait();
    kernels::layer_norm(transformed, transformed, M, E, m.ln_gamma.data(), m.ln_beta.data(), m.ln_eps);
    m.decoder.forward(*run.exec, m.decoder.prepare(transformed, M, run.workspace->gemm_input), M,
                      r.logits.data.data());
    run.exec->stream.wait();
  });
  return r;
}

}  // namespace

FillMask::FillMask(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

namespace {

std::shared_ptr<FillMask::Impl> make(const heads::HeadCheckpoint& ckpt) {
  const ModelConfig& config = ckpt.model.config();
  const Tokenizer& tok = ckpt.model.tokenizer();
  const auto mask = tok.mask_token_id();
  if (!mask) {
    throw ConfigError(ckpt.checkpoint.dir().filename().string() +
                      ": the tokenizer defines no mask token; fill-mask needs one");
  }
  auto impl = std::make_shared<FillMask::Impl>(ckpt.model);
  impl->mask_id = *mask;
  impl->mask_token = tok.id_to_token(*mask);
  const weights::MlmHead& head = ckpt.spec->mlm;
  // The decoder is tied to the word embeddings, so the head works at their width E.
  const weights::TensorView* embeddings = ckpt.checkpoint.resolve("embeddings.word_embeddings.weight");
  const std::int64_t H = config.hidden_size, V = config.vocab_size;
  const std::int64_t E = embeddings && embeddings->shape.size() == 2 ? embeddings->shape[1] : H;
  Activation activation = head.fixed;
  if (head.follow_config) weights::activation_from_name(config.hidden_act, activation);  // validated by the config
  // Tensors are read in checkpoint order, so that a missing head is reported by its first tensor.
  impl->transform = ckpt.linear(head.dense, H, E, activation, kHead);
  const std::string layer_norm(head.layer_norm);
  impl->ln_gamma = ckpt.head_tensor(layer_norm + ".weight", {E}, kHead);
  impl->ln_beta = ckpt.head_tensor(layer_norm + ".bias", {E}, kHead);
  impl->ln_eps = static_cast<float>(config.layer_norm_eps);

  // The decoder is tied to the word embeddings and usually left out of the file; a stored one wins (transformers
  // does not tie weights that are both present and differ). Likewise its bias: the decoder's own, else the
  // head's bias.
  const bool tied = ckpt.config.value("tie_word_embeddings", true);
  std::string decoder_name(head.decoder_weight);
  if (!ckpt.checkpoint.resolve(decoder_name) && tied) decoder_name = "embeddings.word_embeddings.weight";
  const std::string bias_name(ckpt.checkpoint.resolve(head.decoder_bias) ? head.decoder_bias : head.bias);
  const auto decoder_weight = ckpt.head_tensor(decoder_name, {V, E}, kHead);
  const auto decoder_bias = ckpt.head_tensor(bias_name, {V}, kHead);
  impl->decoder = kernels::Dense(internal::dnnl_context(ckpt.model), internal::compute_type(ckpt.model), decoder_weight,
                                 decoder_bias, E, V, kernels::Epilogue::none);
  return impl;
}

}  // namespace

FillMask FillMask::load(const std::filesystem::path& dir, const LoadOptions& options) {
  return FillMask(make(heads::HeadCheckpoint::open(dir, options, false)));
}

FillMask FillMask::load(const BertModel& model, const std::filesystem::path& dir) {
  return FillMask(make(heads::HeadCheckpoint::attach(model, dir)));
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

namespace {

// The top.size() best ids of [0, count) by `better`, best first, without materialising the ids: a heap whose front
// is the worst id kept. (Not std::ranges::partial_sort_copy over views::iota: clang 14 with libstdc++ 12, the
// fuzz build's compiler, does not compile iota_view.)
template <typename Better>
void best_ids(std::int32_t count, const Better& better, std::vector<std::int32_t>& top) {
  const std::size_t k = top.size();
  top.clear();
  if (k == 0) return;
  for (std::int32_t id = 0; id < count; ++id) {
    if (top.size() < k) {
      top.push_back(id);
      std::push_heap(top.begin(), top.end(), better);
    } else if (better(id, top.front())) {
      std::pop_heap(top.begin(), top.end(), better);
      top.back() = id;
      std::push_heap(top.begin(), top.end(), better);
    }
  }
  std::sort_heap(top.begin(), top.end(), better);
}

}  // namespace

std::vector<std::vector<MaskPrediction>> FillMask::fill(std::string_view text, const FillMaskOptions& options) const {
  const Impl& m = *impl_;
  const Tokenizer& tok = m.model.tokenizer();
  // Targets first: an unusable target list is an error whatever the text.
  std::vector<std::int32_t> targets;
  if (!options.targets.empty()) targets = resolve_targets(options.targets).ids;
  MaskedRun r = run(m, text);
  const std::int64_t V = r.logits.dim(1);
  const std::size_t k = std::min(options.top_k, targets.empty() ? static_cast<std::size_t>(V) : targets.size());
  const bool single_mask = r.positions.size() == 1;

  std::vector<std::vector<MaskPrediction>> out;
  std::vector<std::int32_t> top(k);  // [k]: the best ids of one mask
  for (std::size_t i = 0; i < r.positions.size(); ++i) {
    float* p = r.logits.row(static_cast<std::int64_t>(i));  // [V]: logits, then their softmax in place
    kernels::probabilities(p, 1, V);
    // Best first; ties by lower id. Selected from the targets, or from every id, without copying the vocabulary.
    const auto better = [p](std::int32_t a, std::int32_t b) { return p[a] != p[b] ? p[a] > p[b] : a < b; };
    if (targets.empty()) {
      best_ids(static_cast<std::int32_t>(V), better, top);
    } else {
      std::partial_sort_copy(targets.begin(), targets.end(), top.begin(), top.end(), better);
    }
    auto& row = out.emplace_back();
    for (const std::int32_t id : top) {
      // The pipeline's "sequence": this mask filled in, padding dropped, decoded; special tokens are skipped for a
      // single mask and kept with several (so the other masks stay visible).
      std::vector<std::int32_t> ids = r.encoding.input_ids;
      ids[r.positions[i]] = id;
      std::erase(ids, tok.pad_token_id());
      const std::int32_t one[] = {id};
      row.push_back({p[id], id, tok.decode(one, false), tok.decode(ids, single_mask)});
    }
  }
  return out;
}

Tensor FillMask::logits(std::string_view text) const { return run(*impl_, text).logits; }

const std::string& FillMask::mask_token() const noexcept { return impl_->mask_token; }

}  // namespace bertcpp
