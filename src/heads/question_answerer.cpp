// QuestionAnswerer: BertForQuestionAnswering (last_hidden_state -> qa_outputs: start and end logits per token)
// with the windowing and span decoding of transformers' QuestionAnsweringPipeline (see qa_spans.hpp).
#include <algorithm>
#include <string>
#include <utility>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "heads/head_common.hpp"
#include "heads/qa_spans.hpp"

namespace bertcpp {
namespace {

// The windowing of one call: transformers' defaults filled in, and its argument checks.
struct Windowing {
  std::size_t max_seq_len = 0, doc_stride = 0;
};

Windowing validate(std::string_view question, std::string_view context, const QaOptions& options,
                   std::size_t model_max_length) {
  // transformers refuses empty strings before tokenizing ("`question` cannot be empty").
  if (question.empty()) throw InvalidArgumentError("question answering: `question` cannot be empty");
  if (context.empty()) throw InvalidArgumentError("question answering: `context` cannot be empty");
  if (options.top_k < 1) throw InvalidArgumentError("question answering: top_k must be >= 1 (got 0)");
  if (options.max_answer_len < 1) {
    throw InvalidArgumentError("question answering: max_answer_len must be >= 1 (got 0)");
  }
  Windowing w;
  w.max_seq_len = options.max_seq_len.value_or(std::min<std::size_t>(model_max_length, 384));
  w.doc_stride = options.doc_stride.value_or(std::min<std::size_t>(w.max_seq_len / 2, 128));
  if (w.doc_stride > w.max_seq_len) {
    throw InvalidArgumentError("question answering: doc_stride (" + std::to_string(w.doc_stride) +
                               ") is larger than max_seq_len (" + std::to_string(w.max_seq_len) + ")");
  }
  return w;
}

}  // namespace

struct QuestionAnswerer::Impl {
  BertModel model;  // encoder + tokenizer
  // qa_outputs.weight [2, hidden], qa_outputs.bias [2]: logit 0 = start, logit 1 = end
  kernels::Linear qa_outputs;

  // Question first, context second, only the context truncated: windows of max_seq_len tokens whose contexts
  // overlap by doc_stride tokens. (Like transformers' fast-tokenizer pipeline, the question is not cut to
  // max_question_len; a question too long for max_seq_len is an InvalidArgumentError from the tokenizer.)
  Encoding encode(std::string_view question, std::string_view context, const QaOptions& options) const {
    const Windowing windowing = validate(question, context, options, model.tokenizer().model_max_length());
    EncodeOptions encode;
    encode.truncation = Truncation::only_second;
    encode.max_length = windowing.max_seq_len;
    encode.stride = windowing.doc_stride;
    encode.return_overflowing_tokens = true;
    return model.tokenizer().encode(question, context, encode);
  }
};

QuestionAnswerer::QuestionAnswerer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

namespace {

QuestionAnswerer::Impl make(const heads::HeadCheckpoint& ckpt) {
  return {ckpt.model, ckpt.linear(ckpt.spec->qa_outputs, ckpt.model.config().hidden_size, 2, Activation::none,
                                  "question-answering")};
}

// [W, T, 2] -> start [W, T] and end [W, T].
QuestionAnswerer::Logits split(const Tensor& both) {
  const std::int64_t windows = both.dim(0), tokens = both.dim(1);
  QuestionAnswerer::Logits out{Tensor({windows, tokens}), Tensor({windows, tokens})};
  for (std::size_t i = 0; i < out.start_logits.numel(); ++i) {
    out.start_logits.data[i] = both.data[2 * i];
    out.end_logits.data[i] = both.data[2 * i + 1];
  }
  return out;
}

}  // namespace

QuestionAnswerer QuestionAnswerer::load(const std::filesystem::path& dir, const LoadOptions& options) {
  return QuestionAnswerer(std::make_shared<Impl>(make(heads::HeadCheckpoint::open(dir, options, false))));
}

QuestionAnswerer QuestionAnswerer::load(const BertModel& model, const std::filesystem::path& dir) {
  return QuestionAnswerer(std::make_shared<Impl>(make(heads::HeadCheckpoint::attach(model, dir))));
}

QuestionAnswerer::Logits QuestionAnswerer::logits(std::string_view question, std::string_view context,
                                                  const QaOptions& options) const {
  const Encoding encoding = impl_->encode(question, context, options);
  return split(heads::token_logits(impl_->model, heads::windows_of(encoding), impl_->qa_outputs));
}

std::vector<Answer> QuestionAnswerer::answer(std::string_view question, std::string_view context,
                                             const QaOptions& options) const {
  return answer_with_logits(question, context, options).answers;
}

QuestionAnswerer::Result QuestionAnswerer::answer_with_logits(std::string_view question, std::string_view context,
                                                              const QaOptions& options) const {
  const Impl& impl = *impl_;
  const Encoding encoding = impl.encode(question, context, options);
  const std::vector<const Encoding*> windows = heads::windows_of(encoding);
  const Tensor logits = heads::token_logits(impl.model, windows, impl.qa_outputs);  // [W, T, 2]
  const auto tokens = static_cast<std::size_t>(logits.dim(1));

  // With align_to_words, transformers looks at more candidates than asked for: some may merge into one answer.
  const std::size_t candidates = options.align_to_words ? options.top_k * 2 + 10 : options.top_k;
  const std::int32_t cls_id = impl.model.tokenizer().cls_token_id();
  float min_null_score = 1000000.0f;
  heads::qa::AnswerCollector answers(context);
  std::vector<float> start_logits, end_logits;
  for (std::size_t w = 0; w < windows.size(); ++w) {
    const Encoding& window = *windows[w];
    const float* row = logits.data.data() + w * tokens * 2;  // [T, 2] of window w
    start_logits.resize(window.size());
    end_logits.resize(window.size());
    for (std::size_t t = 0; t < window.size(); ++t) {
      start_logits[t] = row[2 * t];
      end_logits[t] = row[2 * t + 1];
    }
    const auto allowed = heads::qa::allowed_tokens(window, cls_id);
    const heads::qa::WindowSpans found =
        heads::qa::best_spans(start_logits, end_logits, allowed, candidates, options.max_answer_len);
    min_null_score = std::min(min_null_score, found.null_score);
    for (const heads::qa::Span& span : found.spans) answers.add(window, span, options.align_to_words);
  }
  return {answers.best(options.top_k,
                       options.handle_impossible_answer ? std::optional<float>(min_null_score) : std::nullopt),
          split(logits)};
}

}  // namespace bertcpp
