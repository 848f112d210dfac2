// SentenceOrderPredictor: AlbertForPreTraining's sop_classifier.classifier on the pooler output. Index 0 of its two
// logits is "A then B is the original order", 1 "the segments were swapped" (transformers' sentence_order_label).
#include <algorithm>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "heads/head_common.hpp"

namespace bertcpp {

struct SentenceOrderPredictor::Impl {
  BertModel model;
  std::vector<float> weight;   // sop_classifier.classifier.weight [2, H]
  std::vector<float> bias;     // sop_classifier.classifier.bias [2]
  std::size_t max_length = 0;  // truncation: min(tokenizer model_max_length, the encoder's longest input)
};

namespace {
constexpr const char* kHead = "sentence-order-prediction";
}  // namespace

SentenceOrderPredictor::SentenceOrderPredictor(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

SentenceOrderPredictor SentenceOrderPredictor::load(const std::filesystem::path& dir, const LoadOptions& options) {
  LoadOptions with_pooler = options;
  with_pooler.pooler_output = true;
  heads::HeadCheckpoint ckpt = heads::HeadCheckpoint::open(dir, with_pooler);
  const ModelConfig& config = ckpt.model.config();
  if (config.model_type != "albert") {
    throw UnsupportedError(dir.filename().string() + ": sentence-order prediction is ALBERT's pretraining head; "
                           "model_type is '" + config.model_type + "', expected 'albert'" +
                           (config.model_type == "bert" ? " (BERT's is next-sentence prediction)" : ""));
  }
  if (!ckpt.model.has_pooler()) {
    throw FormatError(dir.filename().string() + ": missing tensor 'albert.pooler.weight' needed by the " +
                      std::string(kHead) + " head (sop_classifier reads the pooler output)");
  }
  const std::int64_t H = config.hidden_size;
  auto impl = std::make_shared<Impl>(Impl{
      ckpt.model,
      ckpt.head_tensor("sop_classifier.classifier.weight", {2, H}, kHead),
      ckpt.head_tensor("sop_classifier.classifier.bias", {2}, kHead),
      std::min(ckpt.model.tokenizer().model_max_length(), heads::max_input_tokens(config)),
  });
  return SentenceOrderPredictor(std::move(impl));
}

SentenceOrder SentenceOrderPredictor::predict(std::string_view first, std::string_view second) const {
  const Impl& m = *impl_;
  // A pair longer than the window loses tokens from the longer text first (truncation=True); an empty second
  // text is no pair, as in transformers.
  EncodeOptions encode;
  encode.truncation = Truncation::longest_first;
  encode.max_length = m.max_length;
  const Tokenizer& tok = m.model.tokenizer();
  const Encoding enc = second.empty() ? tok.encode(first, encode) : tok.encode(first, second, encode);
  Batch batch;
  heads::add_encoding(batch, enc, m.model.config());  // ALBERT: no token types, as transformers 5 feeds it
  const EncoderOutput out = m.model.forward(batch);  // pooler_output [1, H]

  SentenceOrder result;
  result.logits.resize(2);
  heads::dense(out.pooler_output.data.data(), 1, m.model.config().hidden_size, m.weight, m.bias, 2,
               result.logits.data());
  result.in_order = heads::softmax(result.logits)[0];
  return result;
}

}  // namespace bertcpp
