#include "encoder/bert_encoder.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>

#include <omp.h>

#include "bertcpp/error.hpp"
#include "kernels/activation.hpp"
#include "kernels/attention.hpp"
#include "kernels/layer_norm.hpp"
#include "common/profile.hpp"
#include "encoder/packing.hpp"
#include "encoder/relative_position.hpp"
#include "weights/model_spec.hpp"

namespace bertcpp::encoder {
namespace {

// hidden_act through the one name -> Activation mapping (weights/model_spec.hpp), as a fused epilogue.
kernels::Epilogue activation_epilogue(const std::string& act) {
  Activation activation = Activation::none;
  if (!weights::activation_from_name(act, activation)) {
    throw UnsupportedError("config.json: hidden_act '" + act + "' is not supported (supported: " +
                           std::string(weights::kActivationNames) + ")");
  }
  return kernels::epilogue_of(activation);
}

template <typename Vector>
void grow(Vector& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
}

// Grows v to hold at least `rows` rows of `width`, geometrically: to 1.5x the rows it held (but not past
// `max_rows` unless `rows` needs more). Resizing to exactly the largest batch so far made RSS step up at every
// new largest batch - the values written on resize are pages touched - for as long as a process ran
// (docs/reliability.md, "Soak"); growing by half reaches the high-water mark within the first few batches.
template <typename Vector>
void grow_rows(Vector& v, std::size_t rows, std::size_t width, std::size_t max_rows) {
  if (v.size() >= rows * width) return;
  const std::size_t held = v.size() / width;
  v.resize(std::max(rows, std::min(max_rows, held + held / 2)) * width);
}

constexpr std::size_t kUnboundedRows = static_cast<std::size_t>(-1) / 2;

// The nn.Linear stored under `scope` (scope.weight [out, in], scope.bias [out]).
kernels::Linear load_linear(const kernels::DnnlContext& ctx, const weights::Checkpoint& ckpt,
                            const std::string& scope, std::int64_t in, std::int64_t out, kernels::Epilogue epilogue) {
  return kernels::Linear(ctx, ckpt.load_f32(scope + ".weight", {out, in}), ckpt.load_f32(scope + ".bias", {out}),
                         in, out, epilogue);
}

// One stored layer's tensors as fp32, read (and converted) from the checkpoint.
struct LayerWeights {
  std::vector<float> qkv_w, qkv_b;  // Q, K and V stacked: [3H, H], [3H]
  std::vector<float> attn_output_w, attn_output_b, ffn_in_w, ffn_in_b, ffn_out_w, ffn_out_b;
  std::vector<float> attn_ln_gamma, attn_ln_beta, out_ln_gamma, out_ln_beta;
};

LayerWeights read_layer(const weights::Checkpoint& ckpt, const ModelConfig& config, const std::string& scope,
                        const weights::LayerTensorNames& names) {
  const std::int64_t H = config.hidden_size, I = config.intermediate_size;
  LayerWeights w;
  // Q, K and V stacked into one [3H, H] weight so that the projection is a single GEMM.
  w.qkv_w.reserve(static_cast<std::size_t>(3 * H * H));
  w.qkv_b.reserve(static_cast<std::size_t>(3 * H));
  for (const std::string* part : {&names.query, &names.key, &names.value}) {
    const auto weight = ckpt.load_f32(scope + *part + ".weight", {H, H});
    const auto bias = ckpt.load_f32(scope + *part + ".bias", {H});
    w.qkv_w.insert(w.qkv_w.end(), weight.begin(), weight.end());
    w.qkv_b.insert(w.qkv_b.end(), bias.begin(), bias.end());
  }
  w.attn_output_w = ckpt.load_f32(scope + names.attention_output + ".weight", {H, H});
  w.attn_output_b = ckpt.load_f32(scope + names.attention_output + ".bias", {H});
  w.attn_ln_gamma = ckpt.load_f32(scope + names.attention_norm + ".weight", {H});
  w.attn_ln_beta = ckpt.load_f32(scope + names.attention_norm + ".bias", {H});
  w.ffn_in_w = ckpt.load_f32(scope + names.ffn_in + ".weight", {I, H});
  w.ffn_in_b = ckpt.load_f32(scope + names.ffn_in + ".bias", {I});
  w.ffn_out_w = ckpt.load_f32(scope + names.ffn_out + ".weight", {H, I});
  w.ffn_out_b = ckpt.load_f32(scope + names.ffn_out + ".bias", {H});
  w.out_ln_gamma = ckpt.load_f32(scope + names.output_norm + ".weight", {H});
  w.out_ln_beta = ckpt.load_f32(scope + names.output_norm + ".bias", {H});
  return w;
}

// The largest |x| of each input channel of a layer's four GEMMs, over the calibration tokens (int8 outlier
// channels).
struct LayerInputRanges {
  std::vector<float> qkv, attn_output, ffn_in, ffn_out;
};

void observe_max(std::vector<float>& channel_max, const float* x, std::int64_t rows, std::int64_t cols) {
  if (channel_max.empty()) channel_max.assign(static_cast<std::size_t>(cols), 0.0f);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c)
      channel_max[static_cast<std::size_t>(c)] = std::max(channel_max[static_cast<std::size_t>(c)], std::abs(x[r * cols + c]));
}

// The kernels::int8_levels().outlier_channels channels with the largest calibrated |x| (among those that were
// ever non-zero), in increasing order. How many stay fp32 was measured on all-MiniLM-L6-v2
// (docs/quantization.md): with VNNI's 8-bit operands, mean embedding cosine to fp32 0.99935 / 0.99949 / 0.99951 /
// 0.99955 keeping 1 / 2 / 4 / 8 (4 kept); with AVX2's 7-bit activations 0.99893 keeping 4, 0.99904 keeping 8
// (8 kept). Each costs one multiply-add per output.
std::vector<std::int32_t> outlier_channels(const std::vector<float>& input_max) {
  std::vector<std::int32_t> order;
  for (std::size_t k = 0; k < input_max.size(); ++k)
    if (input_max[k] > 0.0f && std::isfinite(input_max[k])) order.push_back(static_cast<std::int32_t>(k));
  const std::size_t keep = std::min(static_cast<std::size_t>(kernels::int8_levels().outlier_channels), order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                    [&](std::int32_t a, std::int32_t b) {
                      const float x = input_max[static_cast<std::size_t>(a)], y = input_max[static_cast<std::size_t>(b)];
                      return x > y || (x == y && a < b);
                    });
  order.resize(keep);
  std::sort(order.begin(), order.end());
  return order;
}

TransformerLayer build_layer(const kernels::DnnlContext& ctx, ComputeType compute, const ModelConfig& config,
                             const LayerWeights& w, kernels::Epilogue act, const LayerInputRanges* ranges) {
  const std::int64_t H = config.hidden_size, I = config.intermediate_size;
  const auto outliers = [&](const std::vector<float> LayerInputRanges::*which) {
    return ranges ? outlier_channels(ranges->*which) : std::vector<std::int32_t>{};
  };
  TransformerLayer layer;
  layer.qkv = kernels::Dense(ctx, compute, w.qkv_w, w.qkv_b, H, 3 * H, kernels::Epilogue::none,
                             outliers(&LayerInputRanges::qkv));
  layer.attn_output = kernels::Dense(ctx, compute, w.attn_output_w, w.attn_output_b, H, H, kernels::Epilogue::residual,
                                     outliers(&LayerInputRanges::attn_output));
  layer.ffn_in = kernels::Dense(ctx, compute, w.ffn_in_w, w.ffn_in_b, H, I, act,
                                outliers(&LayerInputRanges::ffn_in));
  layer.ffn_out = kernels::Dense(ctx, compute, w.ffn_out_w, w.ffn_out_b, I, H, kernels::Epilogue::residual,
                                 outliers(&LayerInputRanges::ffn_out));
  layer.attn_ln_gamma = w.attn_ln_gamma;
  layer.attn_ln_beta = w.attn_ln_beta;
  layer.out_ln_gamma = w.out_ln_gamma;
  layer.out_ln_beta = w.out_ln_beta;
  return layer;
}

// The calibration input of int8's outlier channels: kCalibrationSequences x kCalibrationTokens token ids drawn
// uniformly from the whole vocabulary by a fixed-seed generator (the same batch on every load). Random ids are
// enough: which input channels of a layer carry the large values is a property of the weights far more than of
// the text (docs/quantization.md compares calibration on these ids with calibration on real sentences).
constexpr int kCalibrationSequences = 4;
constexpr std::int64_t kCalibrationTokens = 64;

Batch calibration_batch(const ModelConfig& config) {
  std::mt19937 rng(20261201u);
  const std::int64_t tokens = std::min(kCalibrationTokens, config.max_sequence_length);
  Batch batch;
  for (int b = 0; b < kCalibrationSequences; ++b) {
    std::vector<std::int32_t> ids(static_cast<std::size_t>(tokens));
    for (auto& id : ids) id = static_cast<std::int32_t>(rng() % static_cast<std::uint32_t>(config.vocab_size));
    batch.add(std::move(ids));
  }
  return batch;
}

// One transformer layer over the current pass's rows of ws.hidden [n, H] (in place). `input` is those rows
// prepared for layer.qkv; the result is the output prepared for `next` (the next layer's QKV GEMM; null: fp32).
// `observe`, when set, collects the per-channel range of each GEMM's fp32 input (calibration: the layer must
// then be fp32). `bias`: the relative position bias of the pass (MPNet), or none.
kernels::GemmInput run_layer(const TransformerLayer& layer, const kernels::Dense* next, const ModelConfig& config,
                             Workspace& ws, kernels::GemmExec& exec, kernels::GemmInput input,
                             LayerInputRanges* observe, const kernels::RelativeBias& bias) {
  using common::Stage;
  using common::StageTimer;
  const std::int64_t H = config.hidden_size, I = config.intermediate_size, n = ws.pass_offsets.back();
  const auto eps = static_cast<float>(config.layer_norm_eps);
  const kernels::AttentionShape shape{config.num_attention_heads, H / config.num_attention_heads};
  const double gemm_flops = 2.0 * static_cast<double>(n) * static_cast<double>(H);  // x K x N below
  float* hidden = ws.hidden.data() + ws.pass_row * H;  // the pass's rows
  if (observe) observe_max(observe->qkv, input.f32, n, H);
  {
    StageTimer timer(Stage::qkv_gemm, gemm_flops * 3.0 * static_cast<double>(H));
    layer.qkv.forward(exec, input, n, ws.qkv.data());  // [n, 3H]
  }
  {
    StageTimer timer(Stage::attention);
    kernels::attention(ws.qkv.data(), ws.context.data(), ws.pass_offsets, shape, ws.attention,
                       omp_get_max_threads(), {}, bias);  // [n, H]
  }
  if (observe) observe_max(observe->attn_output, ws.context.data(), n, H);
  {
    StageTimer timer(Stage::attn_out_gemm, gemm_flops * static_cast<double>(H));
    const kernels::GemmInput context = layer.attn_output.prepare(ws.context.data(), n, ws.gemm_input);
    layer.attn_output.forward(exec, context, n, hidden);  // hidden += ctx Wo^T + bo
  }
  {
    StageTimer timer(Stage::attn_layernorm);
    input = kernels::layer_norm_prepared(&layer.ffn_in, hidden, hidden, n, H, layer.attn_ln_gamma.data(),
                                         layer.attn_ln_beta.data(), eps, ws.gemm_input);
  }
  if (observe) observe_max(observe->ffn_in, hidden, n, H);
  kernels::GemmInput activated;
  {
    // [n, I], activation fused, and prepared for FFN down (int8: quantized in the same epilogue)
    StageTimer timer(Stage::ffn_up_gemm, gemm_flops * static_cast<double>(I));
    activated = layer.ffn_in.forward_then_prepare(exec, input, n, ws.intermediate.data(), layer.ffn_out,
                                                  ws.ffn_down_input, /*keep_output=*/observe != nullptr);
  }
  if (observe) observe_max(observe->ffn_out, ws.intermediate.data(), n, I);
  {
    StageTimer timer(Stage::ffn_down_gemm, gemm_flops * static_cast<double>(I));
    layer.ffn_out.forward(exec, activated, n, hidden);  // hidden += act Wout^T + bout
  }
  StageTimer timer(Stage::ffn_layernorm);
  return kernels::layer_norm_prepared(next, hidden, hidden, n, H, layer.out_ln_gamma.data(),
                                      layer.out_ln_beta.data(), eps, ws.gemm_input);
}

}  // namespace

std::vector<float> sinusoidal_position_table(std::int64_t positions, std::int64_t dim) {
  std::vector<float> table(static_cast<std::size_t>(positions * dim));
  for (std::int64_t pos = 0; pos < positions; ++pos) {
    for (std::int64_t j = 0; j < dim; ++j) {
      const double angle = static_cast<double>(pos) /
                           std::pow(10000.0, 2.0 * static_cast<double>(j / 2) / static_cast<double>(dim));
      table[static_cast<std::size_t>(pos * dim + j)] = static_cast<float>(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  }
  return table;
}

void plan_passes(std::span<const std::int64_t> offsets, std::int64_t max_tokens, std::vector<std::int64_t>& starts) {
  starts.clear();
  const auto batch = static_cast<std::int64_t>(offsets.size()) - 1;
  std::int64_t first = 0;
  while (first < batch) {
    starts.push_back(first);
    std::int64_t last = first + 1;  // at least one sequence, however long
    const std::int64_t begin = offsets[static_cast<std::size_t>(first)];
    while (last < batch && offsets[static_cast<std::size_t>(last + 1)] - begin <= max_tokens) ++last;
    first = last;
  }
  starts.push_back(std::max<std::int64_t>(batch, 0));
}

BertEncoder::BertEncoder(const kernels::DnnlContext& ctx, const weights::Checkpoint& ckpt,
                         const ModelConfig& config, const weights::CheckpointLayout& layout, bool load_pooler,
                         ComputeType compute)
    : ctx_(&ctx), config_(config), compute_(compute), schedule_(layout.schedule) {
  const std::int64_t H = config.hidden_size, E = config.embedding_size;
  Embeddings& e = embeddings_;
  e.word = ckpt.load_f32(layout.word_embeddings, {config.vocab_size, E});
  if (config.sinusoidal_pos_embds && !ckpt.resolve(layout.position_embeddings)) {
    // transformers initialises the missing table to the sinusoidal one.
    e.position = sinusoidal_position_table(config.max_position_embeddings, E);
  } else {
    e.position = ckpt.load_f32(layout.position_embeddings, {config.max_position_embeddings, E});
  }
  if (!layout.token_type_embeddings.empty())
    e.token_type = ckpt.load_f32(layout.token_type_embeddings, {config.type_vocab_size, E});
  e.ln_gamma = ckpt.load_f32(layout.embedding_norm + ".weight", {E});
  e.ln_beta = ckpt.load_f32(layout.embedding_norm + ".bias", {E});
  e.projected = !layout.embedding_projection.empty();
  if (e.projected) e.projection = load_linear(ctx, ckpt, layout.embedding_projection, E, H, kernels::Epilogue::none);
  if (!e.projected && E != H)
    throw ConfigError("config.json: embedding_size " + std::to_string(E) + " differs from hidden_size " +
                      std::to_string(H) + " but " + config.model_type + " has no embedding projection");

  const kernels::Epilogue act = activation_epilogue(config.hidden_act);
  for (const std::size_t i : schedule_)
    if (i >= layout.layer_scopes.size()) throw UnsupportedError("layer schedule refers to a layer that is not stored");
  if (compute == ComputeType::int8) {
    load_int8_layers(ckpt, layout, act);
  } else {
    layers_.reserve(layout.layer_scopes.size());
    for (const std::string& scope : layout.layer_scopes)
      layers_.push_back(build_layer(ctx, compute, config, read_layer(ckpt, config, scope, layout.layer), act, nullptr));
  }

  if (!layout.relative_attention_bias.empty()) {
    relative_attention_bias_ = ckpt.load_f32(layout.relative_attention_bias,
                                             {config.relative_attention_num_buckets, config.num_attention_heads});
  }

  has_pooler_ = load_pooler && !layout.pooler.empty() && ckpt.resolve(layout.pooler + ".weight") != nullptr;
  if (has_pooler_) pooler_ = load_linear(ctx, ckpt, layout.pooler, H, H, kernels::Epilogue::tanh);
}

void BertEncoder::embed(Workspace& ws, kernels::GemmExec& exec) const {
  const std::int64_t E = config_.embedding_size, n = ws.packed.total_tokens();
  const auto& e = embeddings_;
  const auto& pk = ws.packed;
  // [n, E]: straight into ws.hidden when no projection follows.
  float* embedded = e.projected ? ws.embedded.data() : ws.hidden.data();
  const bool types = !e.token_type.empty();
#pragma omp parallel for schedule(static)
  for (std::int64_t t = 0; t < n; ++t) {
    const float* w = e.word.data() + static_cast<std::int64_t>(pk.input_ids[t]) * E;
    const float* p = e.position.data() + static_cast<std::int64_t>(pk.position_ids[t]) * E;
    float* out = embedded + t * E;
    if (types) {
      // transformers' order: (word + token type) + position.
      const float* y = e.token_type.data() + static_cast<std::int64_t>(pk.token_type_ids[t]) * E;
      for (std::int64_t j = 0; j < E; ++j) out[j] = w[j] + y[j] + p[j];
    } else {
      for (std::int64_t j = 0; j < E; ++j) out[j] = w[j] + p[j];
    }
  }
  kernels::layer_norm(embedded, embedded, n, E, e.ln_gamma.data(), e.ln_beta.data(),
                      static_cast<float>(config_.layer_norm_eps));
  if (e.projected) e.projection.forward(exec, embedded, n, ws.hidden.data());  // [n, H]
}

kernels::RelativeBias BertEncoder::relative_bias(Workspace& ws) const {
  if (relative_attention_bias_.empty()) return {};
  // The longest input row (first to last kept column) bounds every key - query distance of the batch.
  const PackedBatch& pk = ws.packed;
  std::int64_t span = 1;
  for (std::int64_t b = 0; b < pk.batch(); ++b) {
    if (pk.offsets[b + 1] == pk.offsets[b]) continue;
    span = std::max<std::int64_t>(span, std::int64_t{pk.columns[static_cast<std::size_t>(pk.offsets[b + 1] - 1)]} -
                                            pk.columns[static_cast<std::size_t>(pk.offsets[b])] + 1);
  }
  const std::int64_t heads = config_.num_attention_heads;
  grow(ws.relative_bias, static_cast<std::size_t>(heads * (2 * span - 1)));
  relative_bias_table(relative_attention_bias_, heads, span, ws.relative_bias.data());
  return {ws.relative_bias.data(), span, pk.columns.data()};
}

void BertEncoder::load_int8_layers(const weights::Checkpoint& ckpt, const weights::CheckpointLayout& layout,
                                   kernels::Epilogue act) {
  // Calibration for the outlier channels (linear_int8.hpp): the fixed calibration batch runs through the fp32
  // layers, and each stored layer is quantized once the schedule has run it for the last time, with the input
  // ranges of all its runs (ALBERT runs one stored layer many times). Only the layers between first and last use
  // exist in fp32 at once: one, for every supported model type.
  const std::size_t stored = layout.layer_scopes.size();
  constexpr std::size_t kUnused = static_cast<std::size_t>(-1);
  std::vector<std::size_t> last_use(stored, kUnused);
  for (std::size_t step = 0; step < schedule_.size(); ++step) last_use[schedule_[step]] = step;
  layers_.resize(stored);
  for (std::size_t i = 0; i < stored; ++i) {
    if (last_use[i] == kUnused)  // stored but never run: nothing to calibrate on
      layers_[i] = build_layer(*ctx_, ComputeType::int8, config_, read_layer(ckpt, config_, layout.layer_scopes[i], layout.layer),
                               act, nullptr);
  }
  if (schedule_.empty()) return;

  Workspace ws;
  pack(calibration_batch(config_), config_, ws.packed);
  reserve(ws);
  kernels::GemmExec exec{dnnl::stream(ctx_->engine), &ws.scratchpad, &ws.accumulator, &ws.thread_streams};
  embed(ws, exec);
  const kernels::RelativeBias bias = relative_bias(ws);  // one pass: positions need no rebasing
  struct Calibrating {
    LayerWeights weights;
    TransformerLayer fp32;
    LayerInputRanges ranges;
  };
  std::map<std::size_t, Calibrating> open;
  for (std::size_t step = 0; step < schedule_.size(); ++step) {
    const std::size_t i = schedule_[step];
    auto it = open.find(i);
    if (it == open.end()) {
      Calibrating c;
      c.weights = read_layer(ckpt, config_, layout.layer_scopes[i], layout.layer);
      c.fp32 = build_layer(*ctx_, ComputeType::fp32, config_, c.weights, act, nullptr);
      it = open.emplace(i, std::move(c)).first;
    }
    kernels::GemmInput input;
    input.f32 = ws.hidden.data();
    run_layer(it->second.fp32, nullptr, config_, ws, exec, input, &it->second.ranges, bias);
    if (last_use[i] == step) {
      layers_[i] = build_layer(*ctx_, ComputeType::int8, config_, it->second.weights, act, &it->second.ranges);
      open.erase(it);
    }
  }
  exec.stream.wait();
}

void BertEncoder::reserve(Workspace& ws) const {
  reserve_batch(ws);
  begin_pass(ws, 0, ws.packed.batch());
}

void BertEncoder::reserve_batch(Workspace& ws) const {
  const auto n = static_cast<std::size_t>(ws.packed.total_tokens());
  grow_rows(ws.hidden, n, static_cast<std::size_t>(config_.hidden_size), kUnboundedRows);
  if (embeddings_.projected)
    grow_rows(ws.embedded, n, static_cast<std::size_t>(config_.embedding_size), kUnboundedRows);
}

void BertEncoder::begin_pass(Workspace& ws, std::int64_t first, std::int64_t last) const {
  const auto& offsets = ws.packed.offsets;
  ws.pass_row = offsets[static_cast<std::size_t>(first)];
  ws.pass_offsets.clear();
  for (std::int64_t b = first; b <= last; ++b)
    ws.pass_offsets.push_back(offsets[static_cast<std::size_t>(b)] - ws.pass_row);
  const auto rows = static_cast<std::size_t>(ws.pass_offsets.back());
  const auto H = static_cast<std::size_t>(config_.hidden_size);
  constexpr auto max_rows = static_cast<std::size_t>(kMaxTokensPerPass);
  grow_rows(ws.qkv, rows, 3 * H, max_rows);
  grow_rows(ws.context, rows, H, max_rows);
  grow_rows(ws.intermediate, rows, static_cast<std::size_t>(config_.intermediate_size), max_rows);
}

void BertEncoder::run(Workspace& ws, const HiddenStateSink& on_hidden_state) const {
  const std::int64_t H = config_.hidden_size;
  reserve_batch(ws);  // the per-pass buffers: begin_pass below
  kernels::GemmExec exec{dnnl::stream(ctx_->engine), &ws.scratchpad, &ws.accumulator, &ws.thread_streams};
  float* hidden = ws.hidden.data();
  {
    common::StageTimer timer(common::Stage::embeddings);
    embed(ws, exec);
  }
  if (on_hidden_state) on_hidden_state(0, hidden);
  const kernels::RelativeBias bias = relative_bias(ws);
  // int8 / bf16: each GEMM's input is quantized (or rounded) right before it, the LayerNorm outputs in the
  // same call as the LayerNorm, each for the layer that reads it. fp32: every input is the fp32 tensor itself.
  auto qkv_of = [&](std::size_t step) -> const kernels::Dense* {
    return step < schedule_.size() ? &layers_[schedule_[step]].qkv : nullptr;
  };
  // All layers over one pass of sequences, then the next pass. A sink sees each layer's output over the whole
  // batch, so with one the batch is a single pass.
  plan_passes(ws.packed.offsets, on_hidden_state ? ws.packed.total_tokens() : kMaxTokensPerPass, ws.pass_starts);
  for (std::size_t p = 0; p + 1 < ws.pass_starts.size(); ++p) {
    begin_pass(ws, ws.pass_starts[p], ws.pass_starts[p + 1]);
    kernels::RelativeBias pass_bias = bias;
    if (pass_bias.table) pass_bias.positions += ws.pass_row;  // the pass's first token
    kernels::GemmInput input;
    if (const kernels::Dense* first = qkv_of(0))
      input = first->prepare(hidden + ws.pass_row * H, ws.pass_offsets.back(), ws.gemm_input);
    for (std::size_t step = 0; step < schedule_.size(); ++step) {
      input = run_layer(layers_[schedule_[step]], qkv_of(step + 1), config_, ws, exec, input, nullptr, pass_bias);
      if (on_hidden_state) on_hidden_state(static_cast<std::int64_t>(step) + 1, hidden);
    }
  }
  exec.stream.wait();
}

void BertEncoder::pool(Workspace& ws, float* pooled) const {
  const std::int64_t H = config_.hidden_size, batch = ws.packed.batch();
  common::StageTimer timer(common::Stage::pooler, 2.0 * static_cast<double>(batch * H * H));
  grow(ws.context, static_cast<std::size_t>(batch * H));
  for (std::int64_t b = 0; b < batch; ++b) {
    std::memcpy(ws.context.data() + b * H, ws.hidden.data() + ws.packed.offsets[b] * H,
                static_cast<std::size_t>(H) * sizeof(float));
  }
  kernels::GemmExec exec{dnnl::stream(ctx_->engine), &ws.scratchpad};
  pooler_.forward(exec, ws.context.data(), batch, pooled);
  exec.stream.wait();
}

}  // namespace bertcpp::encoder
