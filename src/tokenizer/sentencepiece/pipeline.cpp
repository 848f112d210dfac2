#include "tokenizer/sentencepiece/pipeline.hpp"

#include <string>

#include "tokenizer/unicode.hpp"
#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer {
namespace {

constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // U+2581

struct Scratch {
  std::string word;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> align;
  std::vector<SentencePiecePiece> pieces;
};

}  // namespace

void SentencePiecePipeline::encode(std::string_view text, std::vector<SentencePieceToken>& out, std::int64_t& word,
                                   const SentencePieceAddedTokens& added) const {
  const AlignedText norm = normalizer_.normalize(text);
  if (added.matcher == nullptr || added.matcher->empty()) {
    pre_tokenize(norm, 0, norm.text.size(), out, word);
    return;
  }
  std::vector<TextSplit> splits;
  added.matcher->split(norm.text, 0, norm.text.size(), splits);
  for (const TextSplit& split : splits) {
    if (split.token < 0) {
      pre_tokenize(norm, split.begin, split.end, out, word);
    } else if (split.end > split.begin) {
      const AddedToken& token = (*added.tokens)[static_cast<std::size_t>(split.token)];
      const auto range = norm.original_range(split.begin, split.end);
      out.push_back({token.id, range.first, range.second, word++, split.token, {}});
    }
  }
}

void SentencePiecePipeline::pre_tokenize(const AlignedText& norm, std::size_t begin, std::size_t end,
                                         std::vector<SentencePieceToken>& out, std::int64_t& word) const {
  const std::string& s = norm.text;
  // WhitespaceSplit: maximal runs of non-whitespace characters.
  std::size_t start = begin;
  bool in_word = false;
  for (std::size_t pos = begin; pos < end;) {
    const std::size_t here = pos;
    const auto b = static_cast<unsigned char>(s[pos]);
    const char32_t cp = b < 0x80 ? (++pos, b) : decode_utf8(s.data(), pos);
    const bool space = unicode::is_whitespace(cp);
    if (space && in_word) {
      encode_word(norm, start, here, out, word);
      in_word = false;
    } else if (!space && !in_word) {
      start = here;
      in_word = true;
    }
  }
  if (in_word) encode_word(norm, start, end, out, word);
}

void SentencePiecePipeline::encode_word(const AlignedText& norm, std::size_t begin, std::size_t end,
                                        std::vector<SentencePieceToken>& out, std::int64_t& word) const {
  thread_local Scratch scratch;
  std::string& w = scratch.word;
  auto& align = scratch.align;
  w.clear();
  align.clear();
  const std::string_view text = std::string_view(norm.text).substr(begin, end - begin);
  if (add_prefix_space_ && text.substr(0, kMetaspace.size()) != kMetaspace) {
    // Metaspace prepend: "▁" takes the alignment of the word's first character.
    w += kMetaspace;
    align.insert(align.end(), kMetaspace.size(), norm.align[begin]);
  }
  w += text;
  align.insert(align.end(), norm.align.begin() + static_cast<std::ptrdiff_t>(begin),
               norm.align.begin() + static_cast<std::ptrdiff_t>(end));

  // Metaspace split (MergedWithNext): a new word starts at every "▁".
  std::size_t piece_start = 0;
  const auto flush = [&](std::size_t piece_end) {
    if (piece_end <= piece_start) return;
    auto& pieces = scratch.pieces;
    pieces.clear();
    model_.encode_word(std::string_view(w).substr(piece_start, piece_end - piece_start), pieces);
    for (const SentencePiecePiece& p : pieces) {
      const std::size_t b = piece_start + p.begin, e = piece_start + p.end;
      if (e <= b) continue;  // the library never emits empty pieces for non-empty text
      out.push_back({p.id, align[b].first, align[e - 1].second, word, -1, {}});
      if (p.id == model_.unk_id()) out.back().unknown.assign(w, b, e - b);
    }
    ++word;
  };
  for (std::size_t pos = 0; pos < w.size();) {
    if (pos > 0 && w.compare(pos, kMetaspace.size(), kMetaspace) == 0) {
      flush(pos);
      piece_start = pos;
    }
    pos += utf8_seq_len(static_cast<unsigned char>(w[pos]));
  }
  flush(w.size());
}

}  // namespace bertcpp::tokenizer
