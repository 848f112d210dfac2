// Start/end logits -> answer spans, as transformers' QuestionAnsweringPipeline does it (select_starts_ends,
// decode_spans, get_indices, and the merging of equal answers across candidates and windows in postprocess).
//
// Per window: the logits of tokens that cannot be in an answer (question, special tokens, except [CLS]) are set
// to -10000 so that they drop out of the softmax; start and end probabilities come from a softmax over the
// window; the null (impossible-answer) score is p_start([CLS]) * p_end([CLS]); a span (s, e) with s <= e <
// s + max_answer_len scores p_start(s) * p_end(e). The best `max_spans` spans of each window become answers:
// their character range (widened to whole words with align_to_words) cut out of the context; answers whose
// texts are equal ignoring case are one answer whose score is the sum of theirs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bertcpp/pipelines.hpp"
#include "bertcpp/tokenizer.hpp"

namespace bertcpp::heads::qa {

// A candidate answer: token indices into its window, end inclusive.
struct Span {
  std::size_t start = 0, end = 0;
  float score = 0.0f;
};

struct WindowSpans {
  std::vector<Span> spans;  // best first; at most max_spans, only spans of positive probability
  float null_score = 0.0f;  // p_start(token 0) * p_end(token 0): the [CLS] ("no answer") score
};

// The spans of one window. start_logits / end_logits: [T]; allowed: [T], 1 for tokens that may start or end an
// answer or take part in the softmax (context tokens and [CLS]). Token 0 ([CLS]) takes part in the softmax but
// never in a span. Ties are broken by the lower (start, end), as numpy's argmax on the flattened matrix does.
WindowSpans best_spans(std::span<const float> start_logits, std::span<const float> end_logits,
                       std::span<const std::uint8_t> allowed, std::size_t max_spans, std::size_t max_answer_len);

// Which tokens of a question/context window may be in an answer: the context's (sequence id 1) and every
// [CLS] token.
std::vector<std::uint8_t> allowed_tokens(const Encoding& window, std::int32_t cls_token_id);

// The context range a span covers: its first token's start to its last token's end, or with align_to_words the
// start of the first token's word to the end of the last token's word (the word's tokens in this window).
struct TextRange {
  std::size_t start = 0, end = 0;            // code points
  std::size_t byte_start = 0, byte_end = 0;  // bytes
};
TextRange span_range(const Encoding& window, const Span& span, bool align_to_words);

// Collects the answers of all windows in order, merging those of equal lowercased text.
class AnswerCollector {
 public:
  explicit AnswerCollector(std::string_view context) : context_(context) {}
  void add(const Encoding& window, const Span& span, bool align_to_words);
  // Best first (stable among equal scores); with a null score, the impossible answer {score, 0, 0, ""} competes.
  std::vector<Answer> best(std::size_t top_k, std::optional<float> null_score) const;

 private:
  std::string_view context_;
  std::vector<Answer> answers_;
  std::vector<double> scores_;  // summed in double, as Python floats
  std::unordered_map<std::string, std::size_t> by_lowercase_text_;
};

}  // namespace bertcpp::heads::qa
