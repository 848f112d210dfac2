#include "encoder/bert_encoder.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "bertcpp/error.hpp"
#include "kernels/attention.hpp"
#include "kernels/layer_norm.hpp"

namespace bertcpp::encoder {
namespace {

kernels::Epilogue activation_epilogue(const std::string& act) {
  if (act == "gelu") return kernels::Epilogue::gelu_erf;
  if (act == "gelu_new" || act == "gelu_pytorch_tanh") return kernels::Epilogue::gelu_tanh;
  if (act == "relu") return kernels::Epilogue::relu;
  if (act == "silu" || act == "swish") return kernels::Epilogue::silu;
  throw UnsupportedError("config.json: hidden_act '" + act +
                         "' is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu)");
}

template <typename Vector>
void grow(Vector& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

BertEncoder::BertEncoder(const kernels::DnnlContext& ctx, const weights::Checkpoint& ckpt,
                         const ModelConfig& config, bool load_pooler)
    : ctx_(&ctx), config_(config) {
  const std::int64_t H = config.hidden_size, I = config.intermediate_size;
  embeddings_.word = ckpt.load_f32("embeddings.word_embeddings.weight", {config.vocab_size, H});
  embeddings_.position = ckpt.load_f32("embeddings.position_embeddings.weight", {config.max_position_embeddings, H});
  embeddings_.token_type = ckpt.load_f32("embeddings.token_type_embeddings.weight", {config.type_vocab_size, H});
  embeddings_.ln_gamma = ckpt.load_f32("embeddings.LayerNorm.weight", {H});
  embeddings_.ln_beta = ckpt.load_f32("embeddings.LayerNorm.bias", {H});

  const kernels::Epilogue act = activation_epilogue(config.hidden_act);
  layers_.reserve(static_cast<std::size_t>(config.num_hidden_layers));
  for (std::int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    TransformerLayer layer;
    // Q, K and V stacked into one [3H, H] weight so that the projection is a single GEMM.
    std::vector<float> qkv_w, qkv_b;
    qkv_w.reserve(static_cast<std::size_t>(3 * H * H));
    qkv_b.reserve(static_cast<std::size_t>(3 * H));
    for (const char* part : {"query", "key", "value"}) {
      const auto w = ckpt.load_f32(p + "attention.self." + part + ".weight", {H, H});
      const auto b = ckpt.load_f32(p + "attention.self." + part + ".bias", {H});
      qkv_w.insert(qkv_w.end(), w.begin(), w.end());
      qkv_b.insert(qkv_b.end(), b.begin(), b.end());
    }
    layer.qkv = kernels::Linear(ctx, qkv_w, qkv_b, H, 3 * H, kernels::Epilogue::none);
    layer.attn_output = kernels::Linear(ctx, ckpt.load_f32(p + "attention.output.dense.weight", {H, H}),
                                        ckpt.load_f32(p + "attention.output.dense.bias", {H}), H, H,
                                        kernels::Epilogue::residual);
    layer.attn_ln_gamma = ckpt.load_f32(p + "attention.output.LayerNorm.weight", {H});
    layer.attn_ln_beta = ckpt.load_f32(p + "attention.output.LayerNorm.bias", {H});
    layer.ffn_in = kernels::Linear(ctx, ckpt.load_f32(p + "intermediate.dense.weight", {I, H}),
                                   ckpt.load_f32(p + "intermediate.dense.bias", {I}), H, I, act);
    layer.ffn_out = kernels::Linear(ctx, ckpt.load_f32(p + "output.dense.weight", {H, I}),
                                    ckpt.load_f32(p + "output.dense.bias", {H}), I, H, kernels::Epilogue::residual);
    layer.out_ln_gamma = ckpt.load_f32(p + "output.LayerNorm.weight", {H});
    layer.out_ln_beta = ckpt.load_f32(p + "output.LayerNorm.bias", {H});
    layers_.push_back(std::move(layer));
  }

  has_pooler_ = load_pooler && ckpt.resolve("pooler.dense.weight") != nullptr;
  if (has_pooler_) {
    pooler_ = kernels::Linear(ctx, ckpt.load_f32("pooler.dense.weight", {H, H}),
                              ckpt.load_f32("pooler.dense.bias", {H}), H, H, kernels::Epilogue::tanh);
  }
}

void BertEncoder::embed(Workspace& ws) const {
  const std::int64_t H = config_.hidden_size, n = ws.packed.total_tokens();
  const auto& e = embeddings_;
  const auto& pk = ws.packed;
  float* hidden = ws.hidden.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t t = 0; t < n; ++t) {
    const float* w = e.word.data() + static_cast<std::int64_t>(pk.input_ids[t]) * H;
    const float* p = e.position.data() + static_cast<std::int64_t>(pk.position_ids[t]) * H;
    const float* y = e.token_type.data() + static_cast<std::int64_t>(pk.token_type_ids[t]) * H;
    float* out = hidden + t * H;
    for (std::int64_t j = 0; j < H; ++j) out[j] = w[j] + p[j] + y[j];
  }
  kernels::layer_norm(hidden, hidden, n, H, e.ln_gamma.data(), e.ln_beta.data(),
                      static_cast<float>(config_.layer_norm_eps));
}

void BertEncoder::run(Workspace& ws, const HiddenStateSink& on_hidden_state) const {
  const std::int64_t H = config_.hidden_size, I = config_.intermediate_size;
  const std::int64_t n = ws.packed.total_tokens();
  const auto eps = static_cast<float>(config_.layer_norm_eps);
  grow(ws.hidden, static_cast<std::size_t>(n * H));
  grow(ws.qkv, static_cast<std::size_t>(n * 3 * H));
  grow(ws.context, static_cast<std::size_t>(n * H));
  grow(ws.intermediate, static_cast<std::size_t>(n * I));

  kernels::GemmExec exec{dnnl::stream(ctx_->engine), &ws.scratchpad};
  const kernels::AttentionShape shape{config_.num_attention_heads, H / config_.num_attention_heads};
  float* hidden = ws.hidden.data();

  embed(ws);
  if (on_hidden_state) on_hidden_state(0, hidden);
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const TransformerLayer& layer = layers_[i];
    layer.qkv.forward(exec, hidden, n, ws.qkv.data());                      // [n, 3H]
    kernels::attention(ws.qkv.data(), ws.context.data(), ws.packed.offsets, shape, ws.scores);  // [n, H]
    layer.attn_output.forward(exec, ws.context.data(), n, hidden);          // hidden += ctx Wo^T + bo
    kernels::layer_norm(hidden, hidden, n, H, layer.attn_ln_gamma.data(), layer.attn_ln_beta.data(), eps);
    layer.ffn_in.forward(exec, hidden, n, ws.intermediate.data());         // [n, I], activation fused
    layer.ffn_out.forward(exec, ws.intermediate.data(), n, hidden);        // hidden += act Wout^T + bout
    kernels::layer_norm(hidden, hidden, n, H, layer.out_ln_gamma.data(), layer.out_ln_beta.data(), eps);
    if (on_hidden_state) on_hidden_state(static_cast<std::int64_t>(i) + 1, hidden);
  }
  exec.stream.wait();
}

void BertEncoder::pool(Workspace& ws, float* pooled) const {
  const std::int64_t H = config_.hidden_size, batch = ws.packed.batch();
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
