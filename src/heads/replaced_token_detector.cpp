// ReplacedTokenDetector: ElectraForPreTraining's discriminator_predictions on every token (the registry's rtd_*
// tensors): dense [H, H] -> hidden_act -> dense_prediction [1, H], one logit per token (> 0: replaced). Both
// GEMMs run on the encoder's packed output, on the model's engine and GEMM cache.
#include <algorithm>
#include <string>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "heads/head_common.hpp"
#include "kernels/softmax.hpp"

namespace bertcpp {

struct ReplacedTokenDetector::Impl {
  BertModel model;
  // discriminator_predictions.dense [H, H] with hidden_act fused, then .dense_prediction [1, H]
  heads::DenseStack head;
  std::size_t max_length = 0;  // truncation: min(tokenizer model_max_length, max_sequence_length)
};

namespace {

constexpr const char* kHead = "replaced-token-detection";

ReplacedTokenDetector::Impl make(const heads::HeadCheckpoint& ckpt) {
  ckpt.require_head(&weights::ModelSpec::rtd_dense, "replaced-token detection is ELECTRA's discriminator head");
  const ModelConfig& config = ckpt.model.config();
  const std::int64_t H = config.hidden_size;
  Activation activation = Activation::none;
  weights::activation_from_name(config.hidden_act, activation);  // transformers: get_activation(hidden_act)
  std::vector<kernels::Linear> layers;
  layers.push_back(ckpt.linear(ckpt.spec->rtd_dense, H, H, activation, kHead));
  layers.push_back(ckpt.linear(ckpt.spec->rtd_prediction, H, 1, Activation::none, kHead));
  return {ckpt.model, heads::DenseStack(std::move(layers)), ckpt.max_length()};
}

}  // namespace

ReplacedTokenDetector::ReplacedTokenDetector(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

ReplacedTokenDetector ReplacedTokenDetector::load(const std::filesystem::path& dir, const LoadOptions& options) {
  return ReplacedTokenDetector(std::make_shared<Impl>(make(heads::HeadCheckpoint::open(dir, options, false))));
}

ReplacedTokenDetector ReplacedTokenDetector::load(const BertModel& model, const std::filesystem::path& dir) {
  return ReplacedTokenDetector(std::make_shared<Impl>(make(heads::HeadCheckpoint::attach(model, dir))));
}

std::vector<TokenJudgement> ReplacedTokenDetector::detect(std::string_view text) const {
  const Impl& m = *impl_;
  EncodeOptions encode;
  encode.truncation = Truncation::longest_first;
  encode.max_length = m.max_length;
  const Encoding enc = m.model.tokenizer().encode(text, encode);
  Batch batch;
  batch.add(enc, m.model.config());
  std::vector<float> logits(enc.size());  // [T]: one per token
  internal::run_packed(m.model, batch, false, [&](const internal::PackedOutput& run) {
    const std::int64_t tokens = run.offsets.back();
    m.head.reserve(run, tokens);
    float* packed = run.workspace->head_input.data();  // [tokens, 1]
    m.head.forward(run, run.hidden, tokens, packed);
    for (std::int64_t r = 0; r < tokens; ++r) logits[static_cast<std::size_t>(run.columns[static_cast<std::size_t>(r)])] = packed[r];
  });
  std::vector<float> probabilities = logits;
  kernels::sigmoid(probabilities);

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
