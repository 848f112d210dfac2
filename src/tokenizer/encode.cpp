// The encoding pipeline of Tokenizer::Impl: text -> tokens with offsets, then truncation, special tokens and
// padding.
#include <algorithm>
#include <limits>

#include "bertcpp/error.hpp"
#include "tokenizer/encoding_ops.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer/utf8.hpp"

namespace bertcpp {
namespace {

using tokenizer::NormalizedText;
using tokenizer::TextSplit;
using tokenizer::WordPiecePiece;

// Long plain stretches are normalized in chunks of about this many bytes, cut where a word must end anyway.
constexpr std::size_t kChunkBytes = 1 << 16;

// Pre-tokenizer classes of ASCII bytes (after normalization): 0 word, 1 whitespace, 2 punctuation.
struct AsciiClasses {
  std::uint8_t cls[128];
  AsciiClasses() {
    for (char32_t b = 0; b < 128; ++b)
      cls[b] = tokenizer::unicode::is_whitespace(b) ? 1 : tokenizer::unicode::is_punctuation(b) ? 2 : 0;
  }
};
const AsciiClasses kAscii;

// A byte where a chunk may end: the byte starts a new word whatever the normalizer does to it (space, tab,
// newline, return, or ASCII punctuation, which is isolated).
bool is_cut_byte(unsigned char b) {
  return b == ' ' || b == '\t' || b == '\n' || b == '\r' || (b < 128 && kAscii.cls[b] == 2);
}

// Converts nondecreasing byte offsets of valid UTF-8 to code-point offsets in amortized O(1).
class CharOffsetConverter {
 public:
  explicit CharOffsetConverter(std::string_view text) : text_(text) {}
  std::size_t convert(std::size_t byte) {
    if (byte < byte_) byte_ = char_ = 0;
    for (; byte_ < byte; ++byte_) char_ += (static_cast<unsigned char>(text_[byte_]) & 0xC0) != 0x80;
    return char_;
  }

 private:
  std::string_view text_;
  std::size_t byte_ = 0, char_ = 0;
};

struct Scratch {
  std::vector<TextSplit> raw_splits, normalized_splits;
  NormalizedText normalized;
  std::vector<WordPiecePiece> pieces;
};

class SequenceBuilder {
 public:
  SequenceBuilder(const Tokenizer::Impl& impl, std::string_view text, int sequence, Encoding& out,
                  Scratch& scratch)
      : impl_(impl), text_(text), sequence_(sequence), out_(out), scratch_(scratch) {}

  void run() {
    auto& raw = scratch_.raw_splits;
    raw.clear();
    impl_.raw_matcher.split(text_, 0, text_.size(), raw);
    for (const TextSplit& split : raw) {
      if (split.token >= 0) {
        const auto& added = impl_.added_tokens[static_cast<std::size_t>(split.token)];
        push(added.id, std::string(text_.substr(split.begin, split.end - split.begin)), split.begin, split.end);
        ++word_;
        continue;
      }
      std::size_t pos = split.begin;
      while (pos < split.end) {
        std::size_t cut = split.end;
        if (impl_.normalized_matcher.empty() && impl_.has_pre_tokenizer && split.end - pos > kChunkBytes) {
          cut = pos + kChunkBytes;
          while (cut < split.end && !is_cut_byte(static_cast<unsigned char>(text_[cut]))) ++cut;
        }
        normalize_and_tokenize(pos, cut);
        pos = cut;
      }
    }
  }

 private:
  void normalize_and_tokenize(std::size_t begin, std::size_t end) {
    NormalizedText& norm = scratch_.normalized;
    norm.clear();
    if (impl_.has_normalizer) {
      impl_.normalizer.normalize(text_, begin, end, norm);
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
    if (impl_.normalized_matcher.empty()) {
      pre_tokenize(0, norm.text.size());
      return;
    }
    auto& splits = scratch_.normalized_splits;
    splits.clear();
    impl_.normalized_matcher.split(norm.text, 0, norm.text.size(), splits);
    // pre_tokenize reuses scratch vectors other than these splits, so iterate over a copy of the bounds.
    const std::vector<TextSplit> local(splits.begin(), splits.end());
    for (const TextSplit& s : local) {
      if (s.token >= 0) {
        const auto& added = impl_.added_tokens[static_cast<std::size_t>(s.token)];
        push(added.id, norm.text.substr(s.begin, s.end - s.begin), orig_begin(s.begin), orig_end(s.end));
        ++word_;
      } else {
        pre_tokenize(s.begin, s.end);
      }
    }
  }

  std::size_t orig_begin(std::size_t norm_byte) const { return scratch_.normalized.orig[norm_byte]; }
  std::size_t orig_end(std::size_t norm_end) const {
    const std::size_t start = scratch_.normalized.orig[norm_end - 1];
    return start + tokenizer::utf8_seq_len(static_cast<unsigned char>(text_[start]));
  }

  // BertPreTokenizer: split on whitespace (removed) and punctuation (each one its own word).
  void pre_tokenize(std::size_t begin, std::size_t end) {
    const std::string& s = scratch_.normalized.text;
    if (!impl_.has_pre_tokenizer) {
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
        const char32_t cp = tokenizer::decode_utf8(s.data(), next);
        cls = tokenizer::unicode::is_whitespace(cp) ? 1 : tokenizer::unicode::is_punctuation(cp) ? 2 : 0;
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
    impl_.model.tokenize(std::string_view(s).substr(begin, end - begin), pieces);
    for (const WordPiecePiece& p : pieces) {
      push(p.id, impl_.model.id_to_token(p.id), orig_begin(begin + p.begin), orig_end(begin + p.end));
    }
    ++word_;
  }

  void push(std::int32_t id, const std::string& token, std::size_t begin, std::size_t end) {
    out_.input_ids.push_back(id);
    out_.token_type_ids.push_back(sequence_);
    out_.attention_mask.push_back(1);
    out_.special_tokens_mask.push_back(0);
    out_.tokens.push_back(token);
    out_.word_ids.push_back(word_);
    out_.sequence_ids.push_back(sequence_);
    out_.byte_offsets.push_back({begin, end});
  }

  const Tokenizer::Impl& impl_;
  std::string_view text_;
  int sequence_;
  Encoding& out_;
  Scratch& scratch_;
  std::int64_t word_ = 0;
};

}  // namespace

std::size_t PostProcessor::added_tokens(bool is_pair) const {
  if (!present) return 0;
  std::size_t n = 0;
  for (const TemplatePiece& p : is_pair ? pair : single)
    if (!p.is_sequence) n += specials.at(p.special).ids.size();
  return n;
}

Encoding Tokenizer::Impl::encode_sequence(std::string_view text, int sequence, std::string_view what) const {
  const bool ascii = tokenizer::validate_utf8(text, what);
  if (text.size() >= std::numeric_limits<std::uint32_t>::max()) {
    throw InvalidArgumentError(std::string(what) + ": " + std::to_string(text.size()) +
                               " bytes is more than the 4 GiB - 1 a single text may have");
  }
  thread_local Scratch scratch;
  Encoding e;
  const std::size_t expected = text.size() / 3 + 4;  // about 4 bytes per token in English text
  e.input_ids.reserve(expected);
  e.token_type_ids.reserve(expected);
  e.attention_mask.reserve(expected);
  e.special_tokens_mask.reserve(expected);
  e.tokens.reserve(expected);
  e.word_ids.reserve(expected);
  e.sequence_ids.reserve(expected);
  e.byte_offsets.reserve(expected);
  SequenceBuilder(*this, text, sequence, e, scratch).run();
  if (ascii) {
    e.char_offsets = e.byte_offsets;
  } else {
    e.char_offsets.resize(e.byte_offsets.size());
    CharOffsetConverter begins(text), ends(text);
    for (std::size_t i = 0; i < e.byte_offsets.size(); ++i) {
      e.char_offsets[i] = {begins.convert(e.byte_offsets[i].begin), ends.convert(e.byte_offsets[i].end)};
    }
  }
  return e;
}

void Tokenizer::Impl::merge_template_simple(Encoding& a, Encoding* b, bool add_special_tokens,
                                            Encoding& out) const {
  const auto& pieces = b ? post_processor.pair : post_processor.single;
  std::size_t total = 0;
  for (const TemplatePiece& piece : pieces) {
    if (piece.is_sequence) total += (piece.sequence == 0 ? a : *b).size();
    else if (add_special_tokens) total += post_processor.specials.at(piece.special).ids.size();
  }
  out.input_ids.reserve(total);
  out.token_type_ids.reserve(total);
  out.attention_mask.reserve(total);
  out.special_tokens_mask.reserve(total);
  out.tokens.reserve(total);
  out.word_ids.reserve(total);
  out.sequence_ids.reserve(total);
  out.byte_offsets.reserve(total);
  out.char_offsets.reserve(total);
  for (const TemplatePiece& piece : pieces) {
    if (piece.is_sequence) {
      Encoding& s = piece.sequence == 0 ? a : *b;
      out.input_ids.insert(out.input_ids.end(), s.input_ids.begin(), s.input_ids.end());
      out.token_type_ids.insert(out.token_type_ids.end(), s.size(), piece.type_id);
      out.attention_mask.insert(out.attention_mask.end(), s.attention_mask.begin(), s.attention_mask.end());
      out.special_tokens_mask.insert(out.special_tokens_mask.end(), s.special_tokens_mask.begin(),
                                     s.special_tokens_mask.end());
      out.tokens.insert(out.tokens.end(), std::make_move_iterator(s.tokens.begin()),
                        std::make_move_iterator(s.tokens.end()));
      out.word_ids.insert(out.word_ids.end(), s.word_ids.begin(), s.word_ids.end());
      out.sequence_ids.insert(out.sequence_ids.end(), s.sequence_ids.begin(), s.sequence_ids.end());
      out.byte_offsets.insert(out.byte_offsets.end(), s.byte_offsets.begin(), s.byte_offsets.end());
      out.char_offsets.insert(out.char_offsets.end(), s.char_offsets.begin(), s.char_offsets.end());
    } else if (add_special_tokens) {
      const TemplateSpecial& special = post_processor.specials.at(piece.special);
      const std::size_t n = special.ids.size();
      out.input_ids.insert(out.input_ids.end(), special.ids.begin(), special.ids.end());
      out.token_type_ids.insert(out.token_type_ids.end(), n, piece.type_id);
      out.attention_mask.insert(out.attention_mask.end(), n, 1);
      out.special_tokens_mask.insert(out.special_tokens_mask.end(), n, 1);
      out.tokens.insert(out.tokens.end(), special.tokens.begin(), special.tokens.end());
      out.word_ids.insert(out.word_ids.end(), n, -1);
      out.sequence_ids.insert(out.sequence_ids.end(), n, -1);
      out.byte_offsets.insert(out.byte_offsets.end(), n, Offset{});
      out.char_offsets.insert(out.char_offsets.end(), n, Offset{});
    }
  }
}

Encoding Tokenizer::Impl::post_process(Encoding a, std::optional<Encoding> b, const EncodeOptions& options) const {
  const bool is_pair = b.has_value();
  if (options.truncation != Truncation::do_not_truncate) {
    const std::size_t max_length = options.max_length ? options.max_length : model_max_length;
    const std::size_t single_added = post_processor.added_tokens(false);
    const std::size_t n_added = options.add_special_tokens ? post_processor.added_tokens(is_pair) : 0;
    if (max_length < std::max(n_added, single_added)) {
      throw InvalidArgumentError("truncation: max_length " + std::to_string(max_length) + " is less than the " +
                                 std::to_string(std::max(n_added, single_added)) + " special tokens it must hold");
    }
    // tokenizers checks this when truncation is configured, against the single-sequence special tokens.
    if (max_length - single_added < options.stride) {
      throw InvalidArgumentError("truncation: stride " + std::to_string(options.stride) +
                                 " is greater than the effective max length " +
                                 std::to_string(max_length - single_added) + " (= max_length " +
                                 std::to_string(max_length) + " - " + std::to_string(single_added) +
                                 " special tokens)");
    }
    tokenizer::TruncationStrategy strategy = tokenizer::TruncationStrategy::longest_first;
    if (options.truncation == Truncation::only_first) strategy = tokenizer::TruncationStrategy::only_first;
    if (options.truncation == Truncation::only_second) strategy = tokenizer::TruncationStrategy::only_second;
    tokenizer::truncate_encodings(a, is_pair ? &*b : nullptr, max_length - n_added, options.stride, strategy);
  }

  // tokenizers' PostProcessor::process: each sequence gets its index as type id, then the template applies.
  std::fill(a.token_type_ids.begin(), a.token_type_ids.end(), 0);
  if (is_pair) std::fill(b->token_type_ids.begin(), b->token_type_ids.end(), 1);
  Encoding merged;
  if (post_processor.present && a.overflowing.empty() && (!is_pair || b->overflowing.empty())) {
    // Fast path without overflowing windows: one allocation per field, sequences moved in.
    merge_template_simple(a, is_pair ? &*b : nullptr, options.add_special_tokens, merged);
  } else if (post_processor.present) {
    bool first = true;
    auto add = [&](Encoding&& part) {
      if (first) {
        merged = std::move(part);
        first = false;
      } else {
        tokenizer::merge_with(merged, part);
      }
    };
    for (const TemplatePiece& piece : is_pair ? post_processor.pair : post_processor.single) {
      if (piece.is_sequence) {
        Encoding part = piece.sequence == 0 ? a : *b;
        std::fill(part.token_type_ids.begin(), part.token_type_ids.end(), piece.type_id);
        add(std::move(part));
      } else if (options.add_special_tokens) {
        const TemplateSpecial& special = post_processor.specials.at(piece.special);
        Encoding part;
        const std::size_t n = special.ids.size();
        part.input_ids = special.ids;
        part.tokens = special.tokens;
        part.token_type_ids.assign(n, piece.type_id);
        part.attention_mask.assign(n, 1);
        part.special_tokens_mask.assign(n, 1);
        part.word_ids.assign(n, -1);
        part.sequence_ids.assign(n, -1);
        part.byte_offsets.assign(n, Offset{});
        part.char_offsets.assign(n, Offset{});
        add(std::move(part));
      }
    }
  } else {
    merged = std::move(a);
    if (is_pair) tokenizer::merge_with(merged, *b);
  }

  if (options.padding != Padding::do_not_pad) {
    std::size_t target = merged.size();
    if (options.padding == Padding::max_length) target = options.max_length ? options.max_length : model_max_length;
    if (options.pad_to_multiple_of > 0 && target % options.pad_to_multiple_of != 0)
      target += options.pad_to_multiple_of - target % options.pad_to_multiple_of;
    tokenizer::pad(merged, target, pad_id, 0, pad_token);
  }
  if (!options.return_overflowing_tokens && options.stride == 0) merged.overflowing.clear();
  return merged;
}

std::optional<std::int32_t> Tokenizer::Impl::token_to_id(std::string_view token) const {
  for (const auto& added : added_tokens)
    if (added.content == token) return added.id;
  return model.token_to_id(token);
}

const std::string* Tokenizer::Impl::id_to_token(std::int32_t id) const {
  if (auto it = added_by_id.find(id); it != added_by_id.end()) return &added_tokens[it->second].content;
  if (id >= 0 && static_cast<std::size_t>(id) < model.size()) return &model.id_to_token(id);
  return nullptr;
}

}  // namespace bertcpp
