#include "tokenizer/bpe/encoder.hpp"

#include <utility>
#include <vector>

#include "tokenizer/bpe/byte_level.hpp"
#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer {
namespace {

struct Scratch {
  std::vector<TextSplit> splits;
  std::string prefixed;  // ' ' + the stretch, when add_prefix_space adds one
  std::vector<std::pair<std::uint32_t, std::uint32_t>> words;
  std::vector<BpePiece> pieces;
};

// Start of the code point that contains byte pos of valid UTF-8.
std::size_t char_start(std::string_view text, std::size_t pos) noexcept {
  while ((static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

std::size_t char_end(std::string_view text, std::size_t pos) noexcept {
  const std::size_t start = char_start(text, pos);
  return start + utf8_seq_len(static_cast<unsigned char>(text[start]));
}

}  // namespace

BpeEncoder::BpeEncoder(Bpe model, ByteLevelOptions pre_tokenizer, bool byte_level_decoder)
    : model_(std::move(model)), pre_tokenizer_(pre_tokenizer), byte_level_decoder_(byte_level_decoder) {}

void BpeEncoder::encode(std::string_view text, std::size_t begin, std::size_t end, const NormalizedAddedTokens& added,
                        TokenSink& sink) const {
  if (added.matcher.empty()) {
    encode_stretch(text, begin, end, sink);
    return;
  }
  // No normalizer: tokens with normalized == true are found in the original text too, but after the
  // others, and each stretch between them is pre-tokenized on its own.
  std::vector<TextSplit> splits;
  added.matcher.split(text, begin, end, splits);
  for (const TextSplit& s : splits) {
    if (s.token >= 0) {
      const AddedToken& token = added.tokens[static_cast<std::size_t>(s.token)];
      sink.push(token.id, token.content, s.begin, s.end);
      sink.end_word();
    } else {
      encode_stretch(text, s.begin, s.end, sink);
    }
  }
}

void BpeEncoder::encode_stretch(std::string_view text, std::size_t begin, std::size_t end, TokenSink& sink) const {
  thread_local Scratch scratch;
  // The pre-tokenized string s; position i of s is byte begin + i - shift of the text, except the added
  // prefix space (i == 0 when shift == 1), which stands for the first character.
  std::string_view s = text.substr(begin, end - begin);
  std::size_t shift = 0;
  if (pre_tokenizer_.add_prefix_space && text[begin] != ' ') {
    scratch.prefixed.assign(1, ' ');
    scratch.prefixed.append(s);
    s = scratch.prefixed;
    shift = 1;
  }
  auto& words = scratch.words;
  words.clear();
  if (pre_tokenizer_.use_regex) {
    byte_level::split(s, 0, s.size(), words);
  } else {
    words.emplace_back(0u, static_cast<std::uint32_t>(s.size()));
  }
  const auto orig_begin = [&](std::size_t i) {
    return i < shift ? begin : char_start(text, begin + i - shift);
  };
  const auto orig_end = [&](std::size_t i_end) {
    const std::size_t last = i_end - 1;
    return char_end(text, last < shift ? begin : begin + last - shift);
  };
  auto& pieces = scratch.pieces;
  for (const auto& [word_begin, word_end] : words) {
    pieces.clear();
    model_.tokenize(s.substr(word_begin, word_end - word_begin), pieces);
    for (const BpePiece& p : pieces) {
      sink.push(p.id, model_.id_to_token(p.id), orig_begin(word_begin + p.begin), orig_end(word_begin + p.end));
    }
    sink.end_word();
  }
}

const std::string* BpeEncoder::id_to_token(std::int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= model_.size()) return nullptr;
  return &model_.id_to_token(id);
}

std::string BpeEncoder::decode(std::span<const std::string_view> tokens) const {
  if (byte_level_decoder_) return byte_level::decode(tokens);
  std::string out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0) out += ' ';
    out += tokens[i];
  }
  return out;
}

}  // namespace bertcpp::tokenizer
