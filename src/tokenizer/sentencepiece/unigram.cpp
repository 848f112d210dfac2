#include "tokenizer/sentencepiece/unigram.hpp"

#include <algorithm>
#include <limits>

#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer {
namespace {
constexpr double kUnkPenalty = 10.0;  // tokenizers' and sentencepiece's K_UNK_PENALTY
}

UnigramSegmenter::UnigramSegmenter(const std::vector<std::string>& tokens, const std::vector<double>& scores,
                                   std::int32_t unk_id)
    : scores_(scores), unk_id_(unk_id) {
  leaf_id_.push_back(-1);  // root
  double min_score = std::numeric_limits<double>::infinity();
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    std::int32_t node = 0;
    for (unsigned char b : tokens[id]) {
      const std::uint64_t key = (static_cast<std::uint64_t>(node) << 8) | b;
      auto it = edges_.find(key);
      if (it == edges_.end()) {
        it = edges_.emplace(key, static_cast<std::int32_t>(leaf_id_.size())).first;
        leaf_id_.push_back(-1);
      }
      node = it->second;
    }
    if (node != 0) leaf_id_[static_cast<std::size_t>(node)] = static_cast<std::int32_t>(id);
    min_score = std::min(min_score, scores[id]);
  }
  unk_score_ = min_score - kUnkPenalty;
}

std::int32_t UnigramSegmenter::child(std::int32_t node, unsigned char byte) const {
  auto it = edges_.find((static_cast<std::uint64_t>(node) << 8) | byte);
  return it == edges_.end() ? -1 : it->second;
}

void UnigramSegmenter::encode(std::string_view word, std::vector<SentencePiecePiece>& out) const {
  struct Best {
    std::int32_t id = -1;
    double score = 0.0;
    std::int64_t starts_at = -1;  // -1: no path ends here yet
  };
  const std::size_t size = word.size();
  if (size == 0) return;
  thread_local std::vector<Best> best;
  best.assign(size + 1, Best{});
  for (std::size_t start = 0; start < size;) {
    const double till_here = best[start].score;
    const std::size_t char_len = std::min(utf8_seq_len(static_cast<unsigned char>(word[start])), size - start);
    bool has_single = false;
    std::int32_t node = 0;
    for (std::size_t pos = start; pos < size; ++pos) {
      node = child(node, static_cast<unsigned char>(word[pos]));
      if (node < 0) break;
      const std::int32_t id = leaf_id_[static_cast<std::size_t>(node)];
      if (id < 0) continue;
      const std::size_t end = pos + 1;
      const double candidate = scores_[static_cast<std::size_t>(id)] + till_here;
      Best& target = best[end];
      if (target.starts_at < 0 || candidate > target.score) target = {id, candidate, static_cast<std::int64_t>(start)};
      if (end - start == char_len) has_single = true;
    }
    if (!has_single) {
      const double candidate = unk_score_ + till_here;
      Best& target = best[start + char_len];
      if (target.starts_at < 0 || candidate > target.score) {
        target = {unk_id_, candidate, static_cast<std::int64_t>(start)};
      }
    }
    start += char_len;
  }
  // Backtrack; adjacent unk tokens fuse into one.
  const std::size_t first = out.size();
  for (std::size_t end = size; end > 0;) {
    const Best& b = best[end];
    const auto start = static_cast<std::size_t>(b.starts_at);
    if (b.id == unk_id_ && out.size() > first && out.back().id == unk_id_ &&
        out.back().begin == static_cast<std::uint32_t>(end)) {
      out.back().begin = static_cast<std::uint32_t>(start);
    } else {
      out.push_back({b.id, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(end)});
    }
    end = start;
  }
  std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
}

}  // namespace bertcpp::tokenizer
