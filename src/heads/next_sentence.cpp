// NextSentencePredictor: BertForNextSentencePrediction / BertForPreTraining's cls.seq_relationship on the pooler
// output. Index 0 of its two logits is "B follows A".
#include <algorithm>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "heads/head_common.hpp"

namespace bertcpp {

struct NextSentencePredictor::Impl {
  BertModel model;
  std::vector<float> weight;   // cls.seq_relationship.weight [2, H]
  std::vector<float> bias;     // cls.seq_relationship.bias [2]
  std::size_t max_length = 0;  // truncation limit: min(tokenizer model_max_length, max_position_embeddings)
};

namespace {
constexpr const char* kHead = "next-sentence-prediction";
}  // namespace

NextSentencePredictor::NextSentencePredictor(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

NextSentencePredictor NextSentencePredictor::load(const std::filesystem::path& dir, const LoadOptions& options) {
  LoadOptions with_pooler = options;
  with_pooler.pooler_output = true;
  heads::HeadCheckpoint ckpt = heads::HeadCheckpoint::open(dir, with_pooler);
  if (const std::string& type = ckpt.model.config().model_type; type != "bert") {
    throw UnsupportedError(dir.filename().string() + ": next-sentence prediction is a BERT head " +
                           "(cls.seq_relationship); model_type is '" + type + "', expected 'bert'" +
                           (type == "albert" ? " (ALBERT's pretraining head is sentence order: SentenceOrderPredictor)"
                                             : ""));
  }
  if (!ckpt.model.has_pooler()) {
    throw FormatError(dir.filename().string() + ": missing tensor 'pooler.dense.weight' needed by the " +
                      std::string(kHead) + " head (cls.seq_relationship reads the pooler output)");
  }
  const auto H = ckpt.model.config().hidden_size;
  auto impl = std::make_shared<Impl>(Impl{
      ckpt.model,
      ckpt.head_tensor("cls.seq_relationship.weight", {2, H}, kHead),
      ckpt.head_tensor("cls.seq_relationship.bias", {2}, kHead),
      std::min(ckpt.model.tokenizer().model_max_length(),
               static_cast<std::size_t>(ckpt.model.config().max_position_embeddings)),
  });
  return NextSentencePredictor(std::move(impl));
}

NextSentence NextSentencePredictor::predict(std::string_view first, std::string_view second) const {
  const Impl& m = *impl_;
  // [CLS] A [SEP] B [SEP] with token types 0 / 1; a pair longer than the model's window loses tokens from the
  // longer text first (truncation=True in transformers). An empty B is no pair at all, as in transformers
  // (its tokenizer tests the pair for truth): [CLS] A [SEP].
  EncodeOptions encode;
  encode.truncation = Truncation::longest_first;
  encode.max_length = m.max_length;
  const Tokenizer& tok = m.model.tokenizer();
  const Encoding enc = second.empty() ? tok.encode(first, encode) : tok.encode(first, second, encode);
  Batch batch;
  batch.add(enc.input_ids, enc.token_type_ids);
  const EncoderOutput out = m.model.forward(batch);  // pooler_output [1, H]

  NextSentence result;
  result.logits.resize(2);
  heads::dense(out.pooler_output.data.data(), 1, m.model.config().hidden_size, m.weight, m.bias, 2,
               result.logits.data());
  result.is_next = heads::softmax(result.logits)[0];
  return result;
}

}  // namespace bertcpp
