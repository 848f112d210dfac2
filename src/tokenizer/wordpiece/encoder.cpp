#include "tokenizer/wordpiece/encoder.hpp"

#include <vector>

#include "tokenizer/unicode.hpp"
#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer {
namespace {

// Long plain stretches are normalized in chunks of about this many bytes, cut where a word must end anyway.
constexpr std::size_t kChunkBytes = 1 << 16;

// Pre-tokenizer classes of ASCII bytes (after normalization): 0 word, 1 whitespace, 2 punctuation.
struct AsciiClasses {
  std::uint8_t cls[128];
  AsciiClasses() {
    for (char32_t b = 0; b < 128; ++b) cls[b] = unicode::is_whitespace(b) ? 1 : unicode::is_punctuation(b) ? 2 : 0;
  }
};
const AsciiClasses kAscii;

// A byte where a chunk may end: the byte starts a new word whatever the normalizer does to it (space, tab,
// newline, return, or ASCII punctuation, which is isolated).
bool is_cut_byte(unsigned char b) {
  return b == ' ' || b == '\t' || b == '\n' || b == '\r' || (b < 128 && kAscii.cls[b] == 2);
}

struct Scratch {
  std::vector<TextSplit> normalized_splits;
  NormalizedText normalized;
  std::vector<WordPiecePiece> pieces;
};

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

// The clean-up of tokenizers' WordPiece decoder (and transformers' clean_up_tokenization), in its order.
void cleanup(std::string& s) {
  replace_all(s, " .", ".");
  replace_all(s, " ?", "?");
  replace_all(s, " !", "!");
  replace_all(s, " ,", ",");
  replace_all(s, " ' ", "'");
  replace_all(s, " n't", "n't");
  replace_all(s, " 'm", "'m");
  replace_all(s, " do not", " don't");
  replace_all(s, " 's", "'s");
  replace_all(s, " 've", "'ve");
  replace_all(s, " 're", "'re");
}

}  // namespace

// One plain segment through normalizer, normalized added tokens, pre-tokenizer and WordPiece.
class WordPieceSegment {
 public:
  WordPieceSegment(const WordPieceEncoder& enc, std::string_view text, const NormalizedAddedTokens& added,
                   TokenSink& sink, Scratch& scratch)
      : enc_(enc), text_(text), added_(added), sink_(sink), scratch_(scratch) {}

  void run(std::size_t begin, std::size_t end) {
    std::size_t pos = begin;
    while (pos < end) {
      std::size_t cut = end;
      if (added_.matcher.empty() && enc_.pre_tokenize_ && end - pos > kChunkBytes) {
        cut = pos + kChunkBytes;
        while (cut < end && !is_cut_byte(static_cast<unsigned char>(text_[cut]))) ++cut;
      }
      normalize_and_tokenize(pos, cut);
      pos = cut;
    }
  }

 private:
  void normalize_and_tokenize(std::size_t begin, std::size_t end) {
    NormalizedText& norm = scratch_.normalized;
    norm.clear();
    if (enc_.normalizer_) {
      enc_.normalizer_->normalize(text_, begin, end, norm);
    } else {
      norm.text.assign(text_.substr(begin, end - begin));
      norm.orig.resize(norm.text.size());
      for (std::size_t i = 0; i < norm.text.size(); ++i) {
        // Alignment to the start of the code point each byte belongs to.
        std::size_t s = begin + i;
        while ((static_cast<unsigned char>(text_[s]) & 0xC0) == 0x80) --s;
        norm.orig[i] = static_cast<std::uint32_t>(s);
      }
    }
    if (added_.matcher.empty()) {
      pre_tokenize(0, norm.text.size());
      return;
    }
    auto& splits = scratch_.normalized_splits;
    splits.clear();
    added_.matcher.split(norm.text, 0, norm.text.size(), splits);
    // pre_tokenize reuses scratch vectors other than these splits, so iterate over a copy of the bounds.
    const std::vector<TextSplit> local(splits.begin(), splits.end());
    for (const TextSplit& s : local) {
      if (s.token >= 0) {
        const auto& token = added_.tokens[static_cast<std::size_t>(s.token)];
        sink_.push(token.id, norm.text.substr(s.begin, s.end - s.begin), orig_begin(s.begin), orig_end(s.end));
        sink_.end_word();
      } else {
        pre_tokenize(s.begin, s.end);
      }
    }
  }

  std::size_t orig_begin(std::size_t norm_byte) const { return scratch_.normalized.orig[norm_byte]; }
  std::size_t orig_end(std::size_t norm_end) const {
    const std::size_t start = scratch_.normalized.orig[norm_end - 1];
    return start + utf8_seq_len(static_cast<unsigned char>(text_[start]));
  }

  // BertPreTokenizer: split on whitespace (removed) and punctuation (each one its own word).
  void pre_tokenize(std::size_t begin, std::size_t end) {
    const std::string& s = scratch_.normalized.text;
    if (!enc_.pre_tokenize_) {
      if (begin < end) word(begin, end);
      return;
    }
    std::size_t word_start = begin;
    std::size_t pos = begin;
    while (pos < end) {
      const auto b = static_cast<unsigned char>(s[pos]);
      std::size_t next = pos;
      int cls;
      if (b < 0x80) {
        cls = kAscii.cls[b];
        next = pos + 1;
      } else {
        const char32_t cp = decode_utf8(s.data(), next);
        cls = unicode::is_whitespace(cp) ? 1 : unicode::is_punctuation(cp) ? 2 : 0;
      }
      if (cls != 0) {
        if (word_start < pos) word(word_start, pos);
        if (cls == 2) word(pos, next);
        word_start = next;
      }
      pos = next;
    }
    if (word_start < end) word(word_start, end);
  }

  void word(std::size_t begin, std::size_t end) {
    const std::string& s = scratch_.normalized.text;
    auto& pieces = scratch_.pieces;
    pieces.clear();
    enc_.model_.tokenize(std::string_view(s).substr(begin, end - begin), pieces);
    for (const WordPiecePiece& p : pieces) {
      sink_.push(p.id, enc_.model_.id_to_token(p.id), orig_begin(begin + p.begin), orig_end(begin + p.end));
    }
    sink_.end_word();
  }

  const WordPieceEncoder& enc_;
  std::string_view text_;
  const NormalizedAddedTokens& added_;
  TokenSink& sink_;
  Scratch& scratch_;
};

WordPieceEncoder::WordPieceEncoder(std::optional<Normalizer> normalizer, bool pre_tokenize, WordPiece model,
                                   WordPieceDecoderOptions decoder)
    : normalizer_(std::move(normalizer)),
      pre_tokenize_(pre_tokenize),
      model_(std::move(model)),
      decoder_(std::move(decoder)) {}

void WordPieceEncoder::encode(std::string_view text, std::size_t begin, std::size_t end,
                              const NormalizedAddedTokens& added, TokenSink& sink) const {
  thread_local Scratch scratch;
  WordPieceSegment(*this, text, added, sink, scratch).run(begin, end);
}

std::string WordPieceEncoder::normalize(std::string_view content) const {
  return normalizer_ ? normalizer_->normalize(content) : std::string(content);
}

const std::string* WordPieceEncoder::id_to_token(std::int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= model_.size()) return nullptr;
  return &model_.id_to_token(id);
}

std::optional<std::int32_t> WordPieceEncoder::unk_id() const noexcept { return model_.unk_id(); }

// tokenizers' WordPiece decoder: the first token as it is, a later one with its continuation prefix removed or
// a space put before it; then the clean-up, applied to each piece alone (with its leading space), so a pattern
// spanning two tokens is left alone.
std::string WordPieceEncoder::decode(std::span<const std::string_view> tokens) const {
  std::string out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string_view token = tokens[i];
    const bool first = i == 0;
    if (!decoder_.present) {
      if (!first) out += ' ';
      out += token;
      continue;
    }
    std::string piece;
    const std::string& prefix = decoder_.prefix;
    if (!first && token.starts_with(prefix)) {
      piece = token.substr(prefix.size());
    } else if (!first) {
      piece = " ";
      piece += token;
    } else {
      piece = token;
    }
    if (decoder_.cleanup) cleanup(piece);
    out += piece;
  }
  return out;
}

}  // namespace bertcpp::tokenizer
