#include "heads/head_common.hpp"

#include <algorithm>
#include <cstring>

#include "bertcpp/error.hpp"
#include "kernels/activation.hpp"

namespace bertcpp::heads {

namespace {

// The head tensors of `dir` next to `model`, the encoder's prefix selected (head tensors such as
// "classifier.weight" sit outside it). `attached`: the model was loaded elsewhere, so dir's model_type is checked.
HeadCheckpoint make(BertModel model, const std::filesystem::path& dir, bool attached) {
  if (!model.has_tokenizer()) {
    throw InvalidArgumentError(dir.string() + ": no tokenizer files (tokenizer.json, vocab.txt, vocab.json + "
                               "merges.txt, spiece.model or sentencepiece.bpe.model); a task head needs the tokenizer");
  }
  const weights::ModelSpec& spec = weights::model_spec(model.config().model_type);
  weights::Checkpoint checkpoint = weights::Checkpoint::open(dir);
  if (attached) {
    const nlohmann::json& config = checkpoint.config();
    const auto type = config.find("model_type");
    const std::string head_type = type != config.end() && type->is_string()
                                      ? type->get<std::string>()
                                      : std::string(weights::model_specs()[0].model_type);  // absent: BERT
    if (head_type != model.config().model_type) {
      throw ConfigError(dir.filename().string() + "/config.json: model_type is '" + head_type +
                        "', but the model the head is attached to is '" + model.config().model_type + "'");
    }
  }
  const std::string prefix(spec.prefix);
  checkpoint.select_prefix({prefix, ""}, "embeddings.word_embeddings.weight");
  nlohmann::json config = checkpoint.config();
  return HeadCheckpoint{std::move(model), &spec, std::move(checkpoint), std::move(config)};
}

}  // namespace

HeadCheckpoint HeadCheckpoint::open(const std::filesystem::path& dir, const LoadOptions& options, bool pooler) {
  LoadOptions encoder = options;
  encoder.tokenizer = true;
  encoder.pooler_output = pooler;
  return make(BertModel::load(dir, encoder), dir, false);
}

HeadCheckpoint HeadCheckpoint::attach(const BertModel& model, const std::filesystem::path& dir) {
  return make(model, dir, true);
}

std::vector<float> HeadCheckpoint::head_tensor(std::string_view name, std::initializer_list<std::int64_t> shape,
                                               std::string_view head) const {
  if (!checkpoint.resolve(name)) {
    throw FormatError(checkpoint.dir().filename().string() + ": missing tensor '" + std::string(name) +
                      "' needed by the " + std::string(head) + " head");
  }
  return checkpoint.load_f32(name, shape);
}

kernels::Linear HeadCheckpoint::linear(std::string_view scope, std::int64_t in, std::int64_t out,
                                       Activation activation, std::string_view head) const {
  const std::string name(scope);
  const auto weight = head_tensor(name + ".weight", {out, in}, head);
  const auto bias = head_tensor(name + ".bias", {out}, head);
  return kernels::Linear(internal::dnnl_context(model), weight, bias, in, out, kernels::epilogue_of(activation));
}

void HeadCheckpoint::require_head(std::string_view weights::ModelSpec::*head_tensor, const std::string& what,
                                  const std::string& hint) const {
  if (!(spec->*head_tensor).empty()) return;
  throw UnsupportedError(checkpoint.dir().filename().string() + ": " + what + "; model_type is '" +
                         model.config().model_type + "', expected " + weights::model_types_with(head_tensor) + hint);
}

void HeadCheckpoint::require_pooler(std::string_view head, std::string_view reader) const {
  if (model.has_pooler()) return;
  const std::string pooler(spec->pooler.empty() ? "pooler" : spec->pooler);
  throw FormatError(checkpoint.dir().filename().string() + ": missing tensor '" + pooler +
                    ".weight' needed by the " + std::string(head) + " head (" + std::string(reader) +
                    " reads the pooler output)");
}

std::size_t HeadCheckpoint::max_length() const {
  return std::min(model.tokenizer().model_max_length(),
                  static_cast<std::size_t>(std::max<std::int64_t>(model.config().max_sequence_length, 0)));
}

std::vector<std::string> read_labels(const nlohmann::json& config, std::size_t fallback) {
  std::size_t n = fallback;
  const auto id2label = config.find("id2label");
  const bool has_map = id2label != config.end() && id2label->is_object();
  if (has_map) n = id2label->size();
  if (const auto it = config.find("num_labels"); it != config.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() <= 0 || it->get<std::int64_t>() > 1000000) {
      throw ConfigError("config.json: num_labels must be a positive integer");
    }
    n = it->get<std::size_t>();
  }
  std::vector<std::string> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = "LABEL_" + std::to_string(i);
  if (has_map) {
    for (const auto& [key, value] : id2label->items()) {
      std::size_t pos = 0;
      long long id = -1;
      try {
        id = std::stoll(key, &pos);
      } catch (const std::exception&) {
        pos = 0;
      }
      if (pos != key.size() || id < 0) throw ConfigError("config.json: id2label key '" + key + "' is not a label id");
      if (!value.is_string()) throw ConfigError("config.json: id2label['" + key + "'] is not a string");
      if (static_cast<std::size_t>(id) >= labels.size()) labels.resize(static_cast<std::size_t>(id) + 1);
      labels[static_cast<std::size_t>(id)] = value.get<std::string>();
    }
  }
  return labels;
}

std::int64_t packed_row(const internal::PackedOutput& run, std::int64_t b, std::int64_t column) {
  const auto begin = static_cast<std::size_t>(run.offsets[static_cast<std::size_t>(b)]);
  const auto end = static_cast<std::size_t>(run.offsets[static_cast<std::size_t>(b) + 1]);
  // Rows keep their input order: with nothing masked, row begin + column is the token.
  if (begin + static_cast<std::size_t>(column) < end && run.columns[begin + static_cast<std::size_t>(column)] == column) {
    return static_cast<std::int64_t>(begin) + column;
  }
  for (std::size_t r = begin; r < end; ++r) {
    if (run.columns[r] == column) return static_cast<std::int64_t>(r);
  }
  return -1;
}

void DenseStack::reserve(const internal::PackedOutput& run, std::int64_t m) const {
  std::int64_t width = 0;
  for (const kernels::Linear& layer : layers_) width = std::max({width, layer.in_features(), layer.out_features()});
  const auto n = static_cast<std::size_t>(m * width);
  internal::grow(run.workspace->head_input, n);
  internal::grow(run.workspace->head_output, n);
}

void DenseStack::forward(const internal::PackedOutput& run, const float* x, std::int64_t m, float* y) const {
  if (m == 0) return;
  reserve(run, m);  // no reallocation when the caller reserved already (x may then live in head_input)
  float* const buffers[2] = {run.workspace->head_output.data(), run.workspace->head_input.data()};
  const float* in = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    float* out = i + 1 == layers_.size() ? y : (in == buffers[0] ? buffers[1] : buffers[0]);
    layers_[i].forward(*run.exec, in, m, out);  // out [m, layer out] = act(in W^T + b)
    run.exec->stream.wait();
    in = out;
  }
}

std::vector<float> first_token_logits(const BertModel& model, const Batch& batch, bool reads_pooler,
                                      const DenseStack& head) {
  const auto B = static_cast<std::int64_t>(batch.size());
  std::vector<float> logits(static_cast<std::size_t>(B * head.out_features()));  // [B, out]
  internal::run_packed(model, batch, reads_pooler, [&](const internal::PackedOutput& run) {
    const std::int64_t H = run.hidden_size;
    const float* x = run.pooled;  // [B, H]
    if (!reads_pooler) {
      head.reserve(run, B);
      float* first = run.workspace->head_input.data();  // [B, H]: each sequence's first token
      for (std::int64_t b = 0; b < B; ++b) {
        const std::int64_t row = packed_row(run, b, 0);
        if (row < 0) {
          std::fill_n(first + b * H, H, 0.0f);  // masked out: its hidden state is zero, as forward() reports it
        } else {
          std::memcpy(first + b * H, run.hidden + row * H, static_cast<std::size_t>(H) * sizeof(float));
        }
      }
      x = first;
    }
    head.forward(run, x, B, logits.data());
  });
  return logits;
}

std::vector<const Encoding*> windows_of(const Encoding& encoding) {
  std::vector<const Encoding*> windows{&encoding};
  for (const Encoding& w : encoding.overflowing) windows.push_back(&w);
  return windows;
}

Tensor token_logits(const BertModel& model, const std::vector<const Encoding*>& windows, const kernels::Linear& head,
                    std::size_t windows_per_forward) {
  std::size_t max_len = 0;
  for (const Encoding* w : windows) max_len = std::max(max_len, w->size());
  const std::int64_t L = head.out_features();
  Tensor logits({static_cast<std::int64_t>(windows.size()), static_cast<std::int64_t>(max_len), L});
  windows_per_forward = std::max<std::size_t>(windows_per_forward, 1);

  for (std::size_t first = 0; first < windows.size(); first += windows_per_forward) {
    const std::size_t count = std::min(windows_per_forward, windows.size() - first);
    Batch batch;
    for (std::size_t i = 0; i < count; ++i) batch.add(*windows[first + i], model.config());
    internal::run_packed(model, batch, false, [&](const internal::PackedOutput& run) {
      // y [tokens, L] over every packed token of the pass at once, then scattered to (window, token index).
      const std::int64_t tokens = run.offsets.back();
      float* y = internal::grow(run.workspace->head_output, static_cast<std::size_t>(tokens * L));
      head.forward(*run.exec, run.hidden, tokens, y);
      run.exec->stream.wait();
      for (std::size_t i = 0; i < count; ++i) {
        float* window = logits.row(static_cast<std::int64_t>(first + i));  // [max_len, L]
        for (std::int64_t r = run.offsets[i]; r < run.offsets[i + 1]; ++r) {
          std::memcpy(window + run.columns[static_cast<std::size_t>(r)] * L, y + r * L,
                      static_cast<std::size_t>(L) * sizeof(float));
        }
      }
    });
  }
  return logits;
}

std::vector<float> PairHead::logits(std::string_view first, std::string_view second) const {
  EncodeOptions encode;
  encode.truncation = Truncation::longest_first;
  encode.max_length = max_length;
  const Tokenizer& tok = model.tokenizer();
  const Encoding enc = second.empty() ? tok.encode(first, encode) : tok.encode(first, second, encode);
  Batch batch;
  batch.add(enc, model.config());  // BERT: segment ids 0 / 1; ALBERT: none, as transformers 5 feeds them
  std::vector<float> out(static_cast<std::size_t>(linear.out_features()));
  internal::run_packed(model, batch, true, [&](const internal::PackedOutput& run) {
    linear.forward(*run.exec, run.pooled, 1, out.data());  // [1, 2] from pooler_output [1, H]
    run.exec->stream.wait();
  });
  return out;
}

}  // namespace bertcpp::heads
