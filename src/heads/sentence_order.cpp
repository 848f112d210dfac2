// SentenceOrderPredictor: AlbertForPreTraining's sop_classifier.classifier on the pooler output (the registry's
// sentence_order head). Index 0 of its two logits is "A then B is the original order", 1 "the segments were
// swapped" (transformers' sentence_order_label).
#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "heads/head_common.hpp"
#include "kernels/softmax.hpp"

namespace bertcpp {

struct SentenceOrderPredictor::Impl {
  // sop_classifier.classifier [2, H] on the pooler output; truncation limit min(tokenizer model_max_length,
  // max_sequence_length).
  heads::PairHead head;
};

namespace {

constexpr const char* kHead = "sentence-order-prediction";

SentenceOrderPredictor::Impl make(const heads::HeadCheckpoint& ckpt) {
  ckpt.require_head(&weights::ModelSpec::sentence_order, "sentence-order prediction is ALBERT's pretraining head",
                    ckpt.spec->next_sentence.empty()
                        ? ""
                        : " (" + std::string(ckpt.spec->display) + "'s is next-sentence prediction)");
  ckpt.require_pooler(kHead, "sop_classifier");
  const auto H = ckpt.model.config().hidden_size;
  return {{ckpt.model, ckpt.linear(ckpt.spec->sentence_order, H, 2, Activation::none, kHead), ckpt.max_length()}};
}

}  // namespace

SentenceOrderPredictor::SentenceOrderPredictor(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

SentenceOrderPredictor SentenceOrderPredictor::load(const std::filesystem::path& dir, const LoadOptions& options) {
  return SentenceOrderPredictor(std::make_shared<Impl>(make(heads::HeadCheckpoint::open(dir, options, true))));
}

SentenceOrderPredictor SentenceOrderPredictor::load(const BertModel& model, const std::filesystem::path& dir) {
  return SentenceOrderPredictor(std::make_shared<Impl>(make(heads::HeadCheckpoint::attach(model, dir))));
}

SentenceOrder SentenceOrderPredictor::predict(std::string_view first, std::string_view second) const {
  // A pair longer than the window loses tokens from the longer text first (truncation=True); an empty second
  // text is no pair, as in transformers. ALBERT: no token types, as transformers 5 feeds it.
  SentenceOrder result;
  result.logits = impl_->head.logits(first, second);
  std::vector<float> p = result.logits;
  kernels::probabilities(p);
  result.in_order = p[0];
  return result;
}

}  // namespace bertcpp
