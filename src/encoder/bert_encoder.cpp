#include "encoder/bert_encoder.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include <omp.h>

#include "bertcpp/error.hpp"
#include "kernels/activation.hpp"
#include "kernels/attention.hpp"
#include "kernels/layer_norm.hpp"
#include "common/profile.hpp"
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

// The nn.Linear stored under `scope` (scope.weight [out, in], scope.bias [out]).
kernels::Linear load_linear(const kernels::DnnlContext& ctx, const weights::Checkpoint& ckpt,
                            const std::string& scope, std::int64_t in, std::int64_t out, kernels::Epilogue epilogue) {
  return kernels::Linear(ctx, ckpt.load_f32(scope + ".weight", {out, in}), ckpt.load_f32(scope + ".bias", {out}),
                         in, out, epilogue);
}

// The same in the model's compute type.
kernels::Dense load_dense(const kernels::DnnlContext& ctx, ComputeType compute, const weights::Checkpoint& ckpt,
                          const std::string& scope, std::int64_t in, std::int64_t out, kernels::Epilogue epilogue) {
  return kernels::Dense(ctx, compute, ckpt.load_f32(scope + ".weight", {out, in}),
                        ckpt.load_f32(scope + ".bias", {out}), in, out, epilogue);
}

TransformerLayer load_layer(const kernels::DnnlContext& ctx, ComputeType compute, const weights::Checkpoint& ckpt,
                            const ModelConfig& config, const std::string& scope,
                            const weights::LayerTensorNames& names, kernels::Epilogue act) {
  const std::int64_t H = config.hidden_size, I = config.intermediate_size;
  TransformerLayer layer;
  // Q, K and V stacked into one [3H, H] weight so that the projection is a single GEMM.
  std::vector<float> qkv_w, qkv_b;
  qkv_w.reserve(static_cast<std::size_t>(3 * H * H));
  qkv_b.reserve(static_cast<std::size_t>(3 * H));
  for (const std::string* part : {&names.query, &names.key, &names.value}) {
    const auto w = ckpt.load_f32(scope + *part + ".weight", {H, H});
    const auto b = ckpt.load_f32(scope + *part + ".bias", {H});
    qkv_w.insert(qkv_w.end(), w.begin(), w.end());
    qkv_b.insert(qkv_b.end(), b.begin(), b.end());
  }
  layer.qkv = kernels::Dense(ctx, compute, qkv_w, qkv_b, H, 3 * H, kernels::Epilogue::none);
  layer.attn_output =
      load_dense(ctx, compute, ckpt, scope + names.attention_output, H, H, kernels::Epilogue::residual);
  layer.attn_ln_gamma = ckpt.load_f32(scope + names.attention_norm + ".weight", {H});
  layer.attn_ln_beta = ckpt.load_f32(scope + names.attention_norm + ".bias", {H});
  layer.ffn_in = load_dense(ctx, compute, ckpt, scope + names.ffn_in, H, I, act);
  layer.ffn_out = load_dense(ctx, compute, ckpt, scope + names.ffn_out, I, H, kernels::Epilogue::residual);
  layer.out_ln_gamma = ckpt.load_f32(scope + names.output_norm + ".weight", {H});
  layer.out_ln_beta = ckpt.load_f32(scope + names.output_norm + ".bias", {H});
  return layer;
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
  layers_.reserve(layout.layer_scopes.size());
  for (const std::string& scope : layout.layer_scopes)
    layers_.push_back(load_layer(ctx, compute, ckpt, config, scope, layout.layer, act));
  for (const std::size_t i : schedule_)
    if (i >= layers_.size()) throw UnsupportedError("layer schedule refers to a layer that is not stored");

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

void BertEncoder::run(Workspace& ws, const HiddenStateSink& on_hidden_state) const {
  const std::int64_t H = config_.hidden_size, I = config_.intermediate_size;
  const std::int64_t n = ws.packed.total_tokens();
  const auto eps = static_cast<float>(config_.layer_norm_eps);
  grow(ws.hidden, static_cast<std::size_t>(n * H));
  grow(ws.qkv, static_cast<std::size_t>(n * 3 * H));
  grow(ws.context, static_cast<std::size_t>(n * H));
  grow(ws.intermediate, static_cast<std::size_t>(n * I));
  if (embeddings_.projected) grow(ws.embedded, static_cast<std::size_t>(n * config_.embedding_size));

  kernels::GemmExec exec{dnnl::stream(ctx_->engine), &ws.scratchpad};
  const int threads = omp_get_max_threads();  // the caller's (BertModel::forward scopes LoadOptions::threads)
  const kernels::AttentionShape shape{config_.num_attention_heads, H / config_.num_attention_heads};
  float* hidden = ws.hidden.data();

  using common::Stage;
  using common::StageTimer;
  const double gemm_flops = 2.0 * static_cast<double>(n) * static_cast<double>(H);  // x K x N below
  {
    StageTimer timer(Stage::embeddings);
    embed(ws, exec);
  }
  if (on_hidden_state) on_hidden_state(0, hidden);
  // int8 / bf16: each GEMM's input is quantized (or rounded) right before it, the LayerNorm outputs in the
  // same call as the LayerNorm. fp32: `input` is `hidden` itself and every call below is the plain fp32 one.
  // Each input is prepared for the compute type of the layer that reads it.
  auto qkv_compute = [&](std::size_t i) {
    return i < schedule_.size() ? layers_[schedule_[i]].qkv.compute() : ComputeType::fp32;
  };
  kernels::GemmInput input = kernels::prepare_gemm_input(qkv_compute(0), hidden, n, H, ws.gemm_input);
  for (std::size_t i = 0; i < schedule_.size(); ++i) {
    const TransformerLayer& layer = layers_[schedule_[i]];
    {
      StageTimer timer(Stage::qkv_gemm, gemm_flops * 3.0 * static_cast<double>(H));
      layer.qkv.forward(exec, input, n, ws.qkv.data());  // [n, 3H]
    }
    {
      StageTimer timer(Stage::attention);
      kernels::attention(ws.qkv.data(), ws.context.data(), ws.packed.offsets, shape, ws.attention, threads);  // [n, H]
    }
    {
      StageTimer timer(Stage::attn_out_gemm, gemm_flops * static_cast<double>(H));
      const kernels::GemmInput context = layer.attn_output.prepare(ws.context.data(), n, ws.gemm_input);
      layer.attn_output.forward(exec, context, n, hidden);  // hidden += ctx Wo^T + bo
    }
    {
      StageTimer timer(Stage::attn_layernorm);
      input = kernels::layer_norm_prepared(layer.ffn_in.compute(), hidden, hidden, n, H, layer.attn_ln_gamma.data(),
                                           layer.attn_ln_beta.data(), eps, ws.gemm_input);
    }
    {
      StageTimer timer(Stage::ffn_up_gemm, gemm_flops * static_cast<double>(I));
      layer.ffn_in.forward(exec, input, n, ws.intermediate.data());  // [n, I], activation fused
    }
    {
      StageTimer timer(Stage::ffn_down_gemm, gemm_flops * static_cast<double>(I));
      const kernels::GemmInput activated = layer.ffn_out.prepare(ws.intermediate.data(), n, ws.gemm_input);
      layer.ffn_out.forward(exec, activated, n, hidden);  // hidden += act Wout^T + bout
    }
    {
      StageTimer timer(Stage::ffn_layernorm);
      // The next layer's QKV input (after the last layer nothing reads a converted copy: fp32).
      input = kernels::layer_norm_prepared(qkv_compute(i + 1), hidden, hidden, n, H,
                                           layer.out_ln_gamma.data(), layer.out_ln_beta.data(), eps, ws.gemm_input);
    }
    if (on_hidden_state) on_hidden_state(static_cast<std::int64_t>(i) + 1, hidden);
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
