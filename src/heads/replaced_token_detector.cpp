// ReplacedTokenDetector: ElectraForPreTraining's discriminator_predictions on every token:
// dense [H, H] -> hidden_act -> dense_prediction [1, H], one logit per token (> 0: replaced).
#include <algorithm>
#include <cmath>
#include <string>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "heads/head_common.hpp"
#include "heads/lm_layout.hpp"
#include "kernels/linear.hpp"

namespace bertcpp {

struct ReplacedTokenDetector::Impl {
  explicit Impl(BertModel m) : model(std::move(m)) {}

  BertModel model;
  kernels::DnnlContext dnnl;            // referenced by `dense`; the Impl never moves (shared_ptr)
  kernels::Linear dense;                // discriminator_predictions.dense [H, H] with hidden_act fused
  std::vector<float> prediction_weight; // discriminator_predictions.dense_prediction.weight [1, H]
  std::vector<float> prediction_bias;   // discriminator_predictions.dense_prediction.bias [1]
  std::size_t max_length = 0;           // truncation: min(tokenizer model_max_length, the encoder's longest input)
};

namespace {
constexpr const char* kHead = "replaced-token-detection";
}  // namespace

ReplacedTokenDetector::ReplacedTokenDetector(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

ReplacedTokenDetector ReplacedTokenDetector::load(const std::filesystem::path& dir, const LoadOptions& options) {
  LoadOptions encoder_only = options;
  encoder_only.pooler_output = false;
  heads::HeadCheckpoint ckpt = heads::HeadCheckpoint::open(dir, encoder_only);
  const ModelConfig& config = ckpt.model.config();
  if (config.model_type != "electra") {
    throw UnsupportedError(dir.filename().string() + ": replaced-token detection is ELECTRA's discriminator head; "
                           "model_type is '" + config.model_type + "', expected 'electra'");
  }
  const std::int64_t H = config.hidden_size;
  auto impl = std::make_shared<Impl>(ckpt.model);
  const auto dense_weight = ckpt.head_tensor("discriminator_predictions.dense.weight", {H, H}, kHead);
  const auto dense_bias = ckpt.head_tensor("discriminator_predictions.dense.bias", {H}, kHead);
  // transformers: get_activation(config.hidden_act).
  impl->dense = kernels::Linear(impl->dnnl, dense_weight, dense_bias, H, H,
                                heads::activation_epilogue(config.hidden_act, kHead));
  impl->prediction_weight = ckpt.head_tensor("discriminator_predictions.dense_prediction.weight", {1, H}, kHead);
  impl->prediction_bias = ckpt.head_tensor("discriminator_predictions.dense_prediction.bias", {1}, kHead);
  impl->max_length = std::min(ckpt.model.tokenizer().model_max_length(), heads::max_input_tokens(config));
  return ReplacedTokenDetector(std::move(impl));
}

std::vector<TokenJudgement> ReplacedTokenDetector::detect(std::string_view text) const {
  const Impl& m = *impl_;
  EncodeOptions encode;
  encode.truncation = Truncation::longest_first;
  encode.max_length = m.max_length;
  const Encoding enc = m.model.tokenizer().encode(text, encode);
  Batch batch;
  heads::add_encoding(batch, enc, m.model.config());
  const EncoderOutput out = m.model.forward(batch);  // last_hidden_state [1, T, H]

  const std::int64_t H = m.model.config().hidden_size;
  const auto T = static_cast<std::int64_t>(enc.size());
  std::vector<float> hidden(static_cast<std::size_t>(T * H));  // [T, H]
  std::vector<std::byte> scratchpad;
  kernels::GemmExec exec{dnnl::stream(m.dnnl.engine), &scratchpad};
  m.dense.forward(exec, out.last_hidden_state.row(0), T, hidden.data());
  exec.stream.wait();
  std::vector<float> logits(static_cast<std::size_t>(T));  // [T]
  heads::dense(hidden.data(), T, H, m.prediction_weight, m.prediction_bias, 1, logits.data());
  const std::vector<float> probabilities = heads::sigmoid(logits);

  std::vector<TokenJudgement> tokens(enc.size());
  for (std::size_t t = 0; t < enc.size(); ++t) {
    TokenJudgement& j = tokens[t];
    j.token = enc.tokens[t];
    j.id = enc.input_ids[t];
    j.start = enc.char_offsets[t].begin;
    j.end = enc.char_offsets[t].end;
    j.byte_start = enc.byte_offsets[t].begin;
    j.byte_end = enc.byte_offsets[t].end;
    j.logit = logits[t];
    j.probability = probabilities[t];
    j.replaced = logits[t] > 0.0f;
    j.special = enc.special_tokens_mask[t] != 0;
  }
  return tokens;
}

}  // namespace bertcpp
