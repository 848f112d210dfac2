// Unigram segmentation (best path over the pieces of a vocabulary), computed as Hugging Face tokenizers'
// Unigram model computes it: scores summed in double precision, candidates visited from the shortest piece to
// the longest at each start, a later candidate replacing the best one only when strictly better, and runs of
// unknown characters fused into one unk token.
//
// The sentencepiece library runs the same algorithm in single precision; on paths whose scores tie (e.g. the
// 14- and 15-letter "aaa..." pieces of a long run of "a", in a different order) the rounding makes it pick
// another, equally scored segmentation than transformers. bertcpp segments here so that its ids match
// transformers', and keeps the library for loading and checking the model (see sentencepiece/model.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bertcpp::tokenizer {

struct SentencePiecePiece {
  std::int32_t id;
  std::uint32_t begin;  // byte range in the word
  std::uint32_t end;
};

class UnigramSegmenter {
 public:
  UnigramSegmenter() = default;
  // tokens[i] / scores[i]: the vocabulary in id order (every entry is a candidate, as in tokenizers; on
  // duplicate strings the last id wins). unk_id < tokens.size().
  UnigramSegmenter(const std::vector<std::string>& tokens, const std::vector<double>& scores, std::int32_t unk_id);

  void encode(std::string_view word, std::vector<SentencePiecePiece>& out) const;

 private:
  std::int32_t child(std::int32_t node, unsigned char byte) const;

  std::unordered_map<std::uint64_t, std::int32_t> edges_;  // (node << 8 | byte) -> child node
  std::vector<std::int32_t> leaf_id_;                      // per node: vocabulary id ending here, or -1
  std::vector<double> scores_;
  double unk_score_ = 0.0;
  std::int32_t unk_id_ = 0;
};

}  // namespace bertcpp::tokenizer
