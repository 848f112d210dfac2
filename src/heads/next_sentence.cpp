// NextSentencePredictor: BertForNextSentencePrediction / BertForPreTraining's cls.seq_relationship on the pooler
// output (the registry's next_sentence head). Index 0 of its two logits is "B follows A".
#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "heads/head_common.hpp"
#include "kernels/softmax.hpp"

namespace bertcpp {

struct NextSentencePredictor::Impl {
  // cls.seq_relationship [2, H] on the pooler output; truncation limit min(tokenizer model_max_length,
  // max_sequence_length).
  heads::PairHead head;
};

namespace {

constexpr const char* kHead = "next-sentence-prediction";

NextSentencePredictor::Impl make(const heads::HeadCheckpoint& ckpt) {
  ckpt.require_head(&weights::ModelSpec::next_sentence, "next-sentence prediction is a BERT head (cls.seq_relationship)",
                    ckpt.spec->sentence_order.empty()
                        ? ""
                        : " (" + std::string(ckpt.spec->display) +
                              "'s pretraining head is sentence order: SentenceOrderPredictor)");
  ckpt.require_pooler(kHead, "cls.seq_relationship");
  const auto H = ckpt.model.config().hidden_size;
  return {{ckpt.model, ckpt.linear(ckpt.spec->next_sentence, H, 2, Activation::none, kHead), ckpt.max_length()}};
}

}  // namespace

NextSentencePredictor::NextSentencePredictor(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

NextSentencePredictor NextSentencePredictor::load(const std::filesystem::path& dir, const LoadOptions& options) {
  return NextSentencePredictor(std::make_shared<Impl>(make(heads::HeadCheckpoint::open(dir, options, true))));
}

NextSentencePredictor NextSentencePredictor::load(const BertModel& model, const std::filesystem::path& dir) {
  return NextSentencePredictor(std::make_shared<Impl>(make(heads::HeadCheckpoint::attach(model, dir))));
}

NextSentence NextSentencePredictor::predict(std::string_view first, std::string_view second) const {
  // [CLS] A [SEP] B [SEP] with token types 0 / 1; a pair longer than the model's window loses tokens from the
  // longer text first (truncation=True in transformers). An empty B is no pair at all, as in transformers.
  NextSentence result;
  result.logits = impl_->head.logits(first, second);
  std::vector<float> p = result.logits;
  kernels::probabilities(p);
  result.is_next = p[0];
  return result;
}

}  // namespace bertcpp
