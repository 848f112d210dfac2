// SentenceEmbedder: SentenceTransformer.encode for a BERT Transformer module, Pooling, optional Dense modules and
// optional Normalize.
#include <algorithm>
#include <cmath>
#include <utility>
#include <numeric>
#include <string>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "common/checked.hpp"
#include "common/file_io.hpp"
#include "heads/head_common.hpp"
#include "heads/sentence_embedder_config.hpp"
#include "heads/sentence_embedder_pooling.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer/utf8.hpp"
#include "weights/checkpoint.hpp"

namespace bertcpp {

struct SentenceEmbedder::Impl {
  BertModel model;
  SentenceEmbedderConfig config;
  bool lowercase = false;  // sentence_bert_config.json do_lower_case: lowercase before the tokenizer
  std::vector<heads::DenseLayer> dense;  // after pooling, in order
};

SentenceEmbedder::SentenceEmbedder(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

namespace {

SentenceEmbedder::Impl make(const BertModel& model, const heads::SentenceTransformerLayout& layout) {
  const ModelConfig& model_config = model.config();
  const auto hidden = static_cast<std::size_t>(model_config.hidden_size);
  if (layout.embedding_dimension && *layout.embedding_dimension != hidden) {
    throw ConfigError("Pooling config.json: embedding_dimension " + std::to_string(*layout.embedding_dimension) +
                      " does not match the model's hidden_size " + std::to_string(hidden));
  }
  if (!model.has_tokenizer()) {
    throw InvalidArgumentError(layout.transformer_dir.string() + ": the model has no tokenizer; sentence embeddings "
                               "need it");
  }
  // The Dense modules' weights, each from its own folder (config.json + model.safetensors), sizes chained from
  // the pooled width (hidden_size per pooling mode).
  std::vector<heads::DenseLayer> dense;
  const std::size_t pooled = hidden * layout.pooling_modes.size();
  std::size_t width = pooled;
  for (const heads::DenseModuleLayout& d : layout.dense) {
    const std::string where = (d.dir.filename() / "config.json").string();
    if (d.in_features != width) {
      std::string expected = "previous Dense module's out_features ";
      if (dense.empty()) {
        expected = layout.pooling_modes.size() == 1 ? "model's hidden_size "
                                                    : "pooled width (hidden_size x " +
                                                          std::to_string(layout.pooling_modes.size()) + " pooling modes) ";
      }
      throw ConfigError(where + ": in_features " + std::to_string(d.in_features) + " does not match the " + expected +
                        std::to_string(width));
    }
    if (!common::entry_exists(d.dir / "model.safetensors") && !common::entry_exists(d.dir / "model.safetensors.index.json") &&
        common::entry_exists(d.dir / "pytorch_model.bin")) {
      throw UnsupportedError(d.dir.filename().string() + ": the Dense weights are in pytorch_model.bin only; bertcpp "
                             "reads safetensors (save the model again with sentence-transformers, which writes "
                             "model.safetensors)");
    }
    const weights::Checkpoint ckpt = weights::Checkpoint::open(d.dir);
    heads::DenseLayer layer;
    layer.in = static_cast<std::int64_t>(d.in_features);
    layer.out = static_cast<std::int64_t>(d.out_features);
    layer.activation = d.activation;
    layer.use_residual = d.use_residual;
    layer.weight = ckpt.load_f32("linear.weight", {layer.out, layer.in});
    if (d.bias) layer.bias = ckpt.load_f32("linear.bias", {layer.out});
    if (d.use_residual && d.in_features != d.out_features)
      layer.residual = ckpt.load_f32("residual.weight", {layer.out, layer.in});
    dense.push_back(std::move(layer));
    width = d.out_features;
  }
  SentenceEmbedderConfig config;
  config.dimension = width;
  config.pooling = layout.pooling_modes.front();
  config.pooling_modes = layout.pooling_modes;
  config.normalize = layout.normalize;
  config.prompts = layout.prompts;
  // sentence-transformers' SentenceTransformer always has a "query" and a "document" prompt, empty unless the
  // model's config sets them: encode_query / encode_document name them, and so may encode().
  config.prompts.emplace("query", "");
  config.prompts.emplace("document", "");
  config.default_prompt_name = layout.default_prompt_name;
  config.include_prompt = layout.include_prompt;
  config.similarity = layout.similarity;
  // sentence-transformers: sentence_bert_config.json's max_seq_length when given, else the tokenizer's
  // model_max_length capped at max_position_embeddings. bertcpp caps both at the encoder's longest input,
  // max_sequence_length (a longer window cannot run; RoBERTa / XLM-R: max_position_embeddings - pad_token_id - 1).
  const auto max_positions = static_cast<std::size_t>(model_config.max_sequence_length);
  config.max_seq_length =
      std::min(layout.max_seq_length.value_or(model.tokenizer().model_max_length()), max_positions);
  return SentenceEmbedder::Impl{model, config, layout.do_lower_case, std::move(dense)};
}

}  // namespace

SentenceEmbedder SentenceEmbedder::load(const std::filesystem::path& dir, const LoadOptions& options) {
  const heads::SentenceTransformerLayout layout = heads::read_sentence_transformer_layout(dir);
  const heads::HeadCheckpoint ckpt = heads::HeadCheckpoint::open(layout.transformer_dir, options, false);
  return SentenceEmbedder(std::make_shared<Impl>(make(ckpt.model, layout)));
}

SentenceEmbedder SentenceEmbedder::load(const BertModel& model, const std::filesystem::path& dir) {
  // The Pooling / Normalize modules and sentence_bert_config.json of `dir` on the loaded model (which stands for
  // the directory's Transformer module).
  return SentenceEmbedder(std::make_shared<Impl>(make(model, heads::read_sentence_transformer_layout(dir))));
}

Tensor SentenceEmbedder::encode(std::span<const std::string> texts, const EmbedOptions& options) const {
  const Impl& m = *impl_;
  if (options.batch_size == 0) throw InvalidArgumentError("SentenceEmbedder::encode: batch_size must be at least 1");
  if (options.truncate_dim && *options.truncate_dim == 0)
    throw InvalidArgumentError("SentenceEmbedder::encode: truncate_dim must be at least 1");
  const std::int64_t H = m.model.config().hidden_size, D = static_cast<std::int64_t>(m.config.dimension);
  // The kept width: each embedding is computed whole, then its first `kept` values are written.
  const std::int64_t kept = options.truncate_dim ? std::min(D, static_cast<std::int64_t>(*options.truncate_dim)) : D;
  Tensor out({static_cast<std::int64_t>(texts.size()), kept});  // [texts, kept]
  if (texts.empty()) return out;
  std::vector<float> whole(kept < D ? static_cast<std::size_t>(D) : 0);  // the full embedding when truncating
  // With Dense modules: the pooled vector and each module's output go through two buffers of the widest size.
  const auto modes = static_cast<std::int64_t>(m.config.pooling_modes.size());
  std::int64_t widest = H * modes;
  for (const heads::DenseLayer& d : m.dense) widest = std::max(widest, d.out);
  std::vector<float> ping(m.dense.empty() ? 0 : static_cast<std::size_t>(widest)), pong(ping.size());

  EncodeOptions encode;
  encode.truncation = Truncation::longest_first;
  encode.max_length = m.config.max_seq_length;
  // The text as the Transformer module tokenizes it: lowercased first when sentence_bert_config.json asks (the
  // caller has checked that it is UTF-8 then).
  const auto tokenize = [&](const std::string& text) {
    if (!m.lowercase) return m.model.tokenizer().encode(text, encode);
    return m.model.tokenizer().encode(tokenizer::unicode::lowercase(text, false), encode);
  };
  // The prompt, as sentence-transformers resolves it, and how many leading tokens it covers when the pooling
  // leaves it out: [CLS] and the prompt's own tokens (its tokenization without the trailing special token).
  std::string prompt;
  if (options.prompt) {
    prompt = *options.prompt;
  } else if (options.prompt_name) {
    const auto it = m.config.prompts.find(*options.prompt_name);
    if (it == m.config.prompts.end()) {
      std::string names;
      for (const auto& [name, text] : m.config.prompts) names += (names.empty() ? "" : ", ") + name;
      throw InvalidArgumentError("SentenceEmbedder::encode: prompt_name '" + *options.prompt_name +
                                 "' is not one of the model's prompts (" + (names.empty() ? "none" : names) + ")");
    }
    prompt = it->second;
  } else if (m.config.default_prompt_name) {
    prompt = m.config.prompts.at(*m.config.default_prompt_name);
  }
  tokenizer::validate_utf8(prompt, "SentenceEmbedder::encode: prompt");
  std::int64_t prompt_tokens = 0;
  if (!prompt.empty() && !m.config.include_prompt) {
    const Encoding p = tokenize(prompt);
    prompt_tokens = static_cast<std::int64_t>(p.input_ids.size());
    if (!p.special_tokens_mask.empty() && p.special_tokens_mask.back() != 0) --prompt_tokens;
  }
  std::vector<std::vector<std::int32_t>> ids(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    // Checked here when the tokenizer would not see the text as it is (lowercased, or after the prompt), so
    // that the error still names the text.
    if (m.lowercase || !prompt.empty())
      tokenizer::validate_utf8(texts[i], "SentenceEmbedder::encode: text " + std::to_string(i));
    ids[i] = (prompt.empty() ? tokenize(texts[i]) : tokenize(prompt + texts[i])).input_ids;
  }

  // Batches of similar lengths, as sentence-transformers forms them (longest first); each sequence is encoded on
  // its own tokens only, so the grouping does not change the result.
  std::vector<std::size_t> order(texts.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ids[a].size() > ids[b].size(); });
  for (std::size_t begin = 0; begin < order.size(); begin += options.batch_size) {
    const std::size_t end = std::min(order.size(), begin + options.batch_size);
    Batch batch;
    for (std::size_t i = begin; i < end; ++i) batch.add(ids[order[i]]);
    internal::run_packed(m.model, batch, false, [&](const internal::PackedOutput& run) {
      // Each sequence's tokens are consecutive rows of the packed output [tokens, H].
      for (std::size_t i = begin; i < end; ++i) {
        const std::size_t b = i - begin;
        float* row = kept < D ? whole.data() : out.row(static_cast<std::int64_t>(order[i]));
        float* x = m.dense.empty() ? row : ping.data();
        for (std::int64_t j = 0; j < modes; ++j) {
          heads::pool_tokens(m.config.pooling_modes[static_cast<std::size_t>(j)], run.hidden + run.offsets[b] * H,
                             run.offsets[b + 1] - run.offsets[b], H, x + j * H, prompt_tokens);
        }
        for (std::size_t l = 0; l < m.dense.size(); ++l) {
          float* y = l + 1 == m.dense.size() ? row : (x == ping.data() ? pong.data() : ping.data());
          heads::dense_forward(m.dense[l], x, y);
          x = y;
        }
        if (m.config.normalize) heads::l2_normalize(row, D);
        if (kept < D) std::copy_n(row, kept, out.row(static_cast<std::int64_t>(order[i])));
      }
    });
  }
  return out;
}

Tensor SentenceEmbedder::encode_query(std::span<const std::string> texts, EmbedOptions options) const {
  if (!options.prompt && !options.prompt_name) options.prompt_name = "query";
  return encode(texts, options);
}

Tensor SentenceEmbedder::encode_document(std::span<const std::string> texts, EmbedOptions options) const {
  if (!options.prompt && !options.prompt_name) options.prompt_name = "document";
  return encode(texts, options);
}

namespace {

// a and b as the similarity functions read them: [rows, D] tensors of one D (and the same rows when `same_rows`),
// copied, each row L2-normalized for cosine (heads::l2_normalize, torch.nn.functional.normalize's eps).
std::pair<Tensor, Tensor> similarity_inputs(Similarity fn, const Tensor& a, const Tensor& b, const char* what,
                                            bool same_rows) {
  const auto shape_of = [](const Tensor& t) {
    std::string s = "[";
    for (std::size_t i = 0; i < t.shape.size(); ++i) s += (i ? ", " : "") + std::to_string(t.shape[i]);
    return s + "]";
  };
  // Two dimensions, non-negative, and as many values as the shape says (a Tensor's fields are public).
  const auto matrix = [](const Tensor& t) {
    if (t.shape.size() != 2 || t.shape[0] < 0 || t.shape[1] < 0) return false;
    const auto values = common::checked_mul(static_cast<std::uint64_t>(t.shape[0]), static_cast<std::uint64_t>(t.shape[1]));
    return values && t.data.size() == *values;
  };
  if (!matrix(a) || !matrix(b) || a.dim(1) != b.dim(1) || (same_rows && a.dim(0) != b.dim(0))) {
    throw InvalidArgumentError(std::string("SentenceEmbedder::") + what + ": expected two [rows, D] tensors of the same " +
                               (same_rows ? "shape" : "D") + ", got " + shape_of(a) + " and " + shape_of(b) + " (" +
                               std::to_string(a.data.size()) + " and " + std::to_string(b.data.size()) + " values)");
  }
  std::pair<Tensor, Tensor> rows{a, b};
  if (fn == Similarity::cosine) {
    for (Tensor* t : {&rows.first, &rows.second})
      for (std::int64_t i = 0; i < t->dim(0); ++i) heads::l2_normalize(t->row(i), t->dim(1));
  }
  return rows;
}

// The score of rows x and y of width d (cosine: rows already normalized); sums in double.
float row_score(Similarity fn, const float* x, const float* y, std::int64_t d) {
  double s = 0.0;
  for (std::int64_t k = 0; k < d; ++k) {
    const double u = x[k], v = y[k];
    switch (fn) {
      case Similarity::cosine:
      case Similarity::dot: s += u * v; break;
      case Similarity::euclidean: s += (u - v) * (u - v); break;
      case Similarity::manhattan: s += std::abs(u - v); break;
    }
  }
  if (fn == Similarity::euclidean) s = -std::sqrt(s);
  if (fn == Similarity::manhattan) s = -s;
  return static_cast<float>(s);
}

}  // namespace

Tensor SentenceEmbedder::similarity(const Tensor& a, const Tensor& b) const {
  const Similarity fn = impl_->config.similarity;
  const auto [x, y] = similarity_inputs(fn, a, b, "similarity", false);
  Tensor out({x.dim(0), y.dim(0)});
  for (std::int64_t i = 0; i < x.dim(0); ++i)
    for (std::int64_t j = 0; j < y.dim(0); ++j) out.row(i)[j] = row_score(fn, x.row(i), y.row(j), x.dim(1));
  return out;
}

Tensor SentenceEmbedder::similarity_pairwise(const Tensor& a, const Tensor& b) const {
  const Similarity fn = impl_->config.similarity;
  const auto [x, y] = similarity_inputs(fn, a, b, "similarity_pairwise", true);
  Tensor out({x.dim(0)});
  for (std::int64_t i = 0; i < x.dim(0); ++i) out.data[static_cast<std::size_t>(i)] = row_score(fn, x.row(i), y.row(i), x.dim(1));
  return out;
}

const SentenceEmbedderConfig& SentenceEmbedder::config() const noexcept { return impl_->config; }

}  // namespace bertcpp
