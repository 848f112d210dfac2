#include "heads/qa_spans.hpp"

#include <algorithm>
#include <cmath>

#include "bertcpp/error.hpp"
#include "kernels/softmax.hpp"
#include "tokenizer/unicode.hpp"

namespace bertcpp::heads::qa {
namespace {

// Softmax over the window with the disallowed tokens' logits replaced by -10000 (whose probability then
// underflows to exactly 0 in fp32, as in transformers).
std::vector<float> masked_softmax(std::span<const float> logits, std::span<const std::uint8_t> allowed) {
  std::vector<float> p(logits.size());
  for (std::size_t t = 0; t < p.size(); ++t) p[t] = allowed[t] ? logits[t] : -10000.0f;
  kernels::probabilities(p);
  return p;
}

// tokenizers' Encoding::word_to_tokens(word, 1) on a window: the first and last token of `word` in the
// context, scanning the context tokens in order until a later word starts.
std::pair<std::size_t, std::size_t> word_tokens(const Encoding& window, std::int64_t word) {
  std::size_t first = window.size(), last = window.size();
  for (std::size_t t = 0; t < window.size(); ++t) {
    if (window.sequence_ids[t] != 1) continue;
    if (window.word_ids[t] > word) break;
    if (window.word_ids[t] == word) {
      if (first == window.size()) first = t;
      last = t;
    }
  }
  return {first, last};
}

}  // namespace

WindowSpans best_spans(std::span<const float> start_logits, std::span<const float> end_logits,
                       std::span<const std::uint8_t> allowed, std::size_t max_spans, std::size_t max_answer_len) {
  const std::size_t n = start_logits.size();
  if (end_logits.size() != n || allowed.size() != n) {
    throw InvalidArgumentError("question answering: start logits [" + std::to_string(n) + "], end logits [" +
                               std::to_string(end_logits.size()) + "] and mask [" + std::to_string(allowed.size()) +
                               "] differ in length");
  }
  WindowSpans out;
  if (n == 0) return out;
  std::vector<float> p_start = masked_softmax(start_logits, allowed);  // [T]
  std::vector<float> p_end = masked_softmax(end_logits, allowed);      // [T]
  out.null_score = p_start[0] * p_end[0];
  p_start[0] = p_end[0] = 0.0f;  // [CLS] is never part of a span

  // Every span of positive probability with s <= e < s + max_answer_len, both ends allowed.
  std::vector<Span> spans;
  for (std::size_t s = 0; s < n; ++s) {
    if (!allowed[s] || p_start[s] == 0.0f) continue;
    const std::size_t last = std::min(n, s + max_answer_len);
    for (std::size_t e = s; e < last; ++e) {
      if (!allowed[e]) continue;
      const float score = p_start[s] * p_end[e];
      if (score > 0.0f) spans.push_back({s, e, score});
    }
  }
  const auto better = [](const Span& a, const Span& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.start != b.start ? a.start < b.start : a.end < b.end;
  };
  const std::size_t keep = std::min(max_spans, spans.size());
  std::partial_sort(spans.begin(), spans.begin() + static_cast<std::ptrdiff_t>(keep), spans.end(), better);
  spans.resize(keep);
  out.spans = std::move(spans);
  return out;
}

std::vector<std::uint8_t> allowed_tokens(const Encoding& window, std::int32_t cls_token_id) {
  std::vector<std::uint8_t> allowed(window.size());
  for (std::size_t t = 0; t < window.size(); ++t) {
    allowed[t] = window.sequence_ids[t] == 1 || window.input_ids[t] == cls_token_id;
    if (!window.attention_mask.empty() && window.attention_mask[t] == 0) allowed[t] = 0;
  }
  return allowed;
}

TextRange span_range(const Encoding& window, const Span& span, bool align_to_words) {
  std::size_t first = span.start, last = span.end;
  if (align_to_words && window.word_ids[span.start] >= 0 && window.word_ids[span.end] >= 0) {
    const auto [start_first, start_last] = word_tokens(window, window.word_ids[span.start]);
    const auto [end_first, end_last] = word_tokens(window, window.word_ids[span.end]);
    if (start_first < window.size() && end_last < window.size()) {
      first = start_first;
      last = end_last;
    }
  }
  return {window.char_offsets[first].begin, window.char_offsets[last].end, window.byte_offsets[first].begin,
          window.byte_offsets[last].end};
}

void AnswerCollector::add(const Encoding& window, const Span& span, bool align_to_words) {
  const TextRange range = span_range(window, span, align_to_words);
  // A range whose end precedes its start cuts out nothing, as a Python slice.
  const std::size_t byte_end = std::max(range.byte_end, range.byte_start);
  std::string text(context_.substr(range.byte_start, byte_end - range.byte_start));
  std::string key = tokenizer::unicode::lowercase(text, /*final_sigma=*/true);  // Python's str.lower()
  const auto [it, inserted] = by_lowercase_text_.try_emplace(std::move(key), answers_.size());
  if (!inserted) {
    scores_[it->second] += static_cast<double>(span.score);
    return;
  }
  Answer a;
  a.start = range.start;
  a.end = range.end;
  a.byte_start = range.byte_start;
  a.byte_end = range.byte_end;
  a.answer = std::move(text);
  answers_.push_back(std::move(a));
  scores_.push_back(static_cast<double>(span.score));
}

std::vector<Answer> AnswerCollector::best(std::size_t top_k, std::optional<float> null_score) const {
  std::vector<Answer> all = answers_;
  std::vector<double> scores = scores_;
  if (null_score) {
    all.push_back(Answer{});  // {score, 0, 0, ""}
    scores.push_back(static_cast<double>(*null_score));
  }
  std::vector<std::size_t> order(all.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  std::vector<Answer> best;
  for (std::size_t i = 0; i < order.size() && best.size() < top_k; ++i) {
    Answer a = std::move(all[order[i]]);
    a.score = static_cast<float>(scores[order[i]]);
    best.push_back(std::move(a));
  }
  return best;
}

}  // namespace bertcpp::heads::qa
