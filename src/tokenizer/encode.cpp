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

using tokenizer::TextSplit;

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

// Plain text longer than this is tokenized piece by piece when only the first tokens are needed. The fuzz build
// sets it tiny so that piece boundaries are everywhere.
#ifndef BERTCPP_TOKENIZER_PIECE_BYTES
#define BERTCPP_TOKENIZER_PIECE_BYTES (64 * 1024)
#endif
constexpr std::size_t kPieceBytes = BERTCPP_TOKENIZER_PIECE_BYTES;

bool ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// The first cut at or after `from` and before `end`: a ' ' that follows a non-space byte; `end` when none.
std::size_t next_cut(std::string_view text, std::size_t from, std::size_t end) {
  for (std::size_t p = std::max<std::size_t>(from, 1); p < end; ++p) {
    if (text[p] == ' ' && !ascii_space(text[p - 1])) return p;
  }
  return end;
}

// Whether the pipeline may encode a stretch in pieces: it splits before spaces, and no added token matched in
// normalized text could span a cut or reach across it (content with whitespace, lstrip / rstrip).
bool piecewise_allowed(const Tokenizer::Impl& impl) {
  if (!impl.model->splits_before_spaces()) return false;
  for (const auto& added : impl.added_tokens) {
    if (!added.normalized) continue;
    if (added.lstrip || added.rstrip) return false;
    for (char c : added.content)
      if (ascii_space(c)) return false;
  }
  return true;
}

// Added tokens of the original text become one word each; the plain text between them goes to the model
// pipeline, one call per stretch (or per piece of a long stretch when only token_limit tokens are needed).
void build_sequence(const Tokenizer::Impl& impl, std::string_view text, tokenizer::TokenSink& sink,
                    const Encoding& out, std::size_t token_limit) {
  thread_local std::vector<TextSplit> raw;
  raw.clear();
  impl.raw_matcher.split(text, 0, text.size(), raw);
  const tokenizer::NormalizedAddedTokens normalized{impl.normalized_matcher, impl.added_tokens};
  const bool limited = token_limit != Tokenizer::Impl::kNoTokenLimit && piecewise_allowed(impl);
  for (const TextSplit& split : raw) {
    if (limited && out.size() >= token_limit) return;
    if (split.token >= 0) {
      const auto& added = impl.added_tokens[static_cast<std::size_t>(split.token)];
      // lstrip / rstrip: the range takes the spaces, and so does the token string, as in tokenizers (" <mask>");
      // a RoBERTa post-processor's trim_offsets then takes them off the offsets again.
      if ((added.lstrip || added.rstrip) && split.end - split.begin != added.content.size())
        sink.push(added.id, std::string(text.substr(split.begin, split.end - split.begin)), split.begin, split.end);
      else
        sink.push(added.id, added.content, split.begin, split.end);
      sink.end_word();
    } else if (!limited || split.end - split.begin <= kPieceBytes) {
      impl.model->encode(text, split.begin, split.end, normalized, sink);
    } else {
      for (std::size_t begin = split.begin; begin < split.end && out.size() < token_limit;) {
        const std::size_t end = next_cut(text, begin + kPieceBytes, split.end);
        impl.model->encode(text, begin, end, normalized, sink);
        begin = end;
      }
    }
  }
}

}  // namespace

std::size_t PostProcessor::added_tokens(bool is_pair) const {
  if (!present) return 0;
  std::size_t n = 0;
  for (const TemplatePiece& p : is_pair ? pair : single)
    if (!p.is_sequence) n += specials.at(p.special).ids.size();
  return n;
}

std::size_t Tokenizer::Impl::token_limit(const EncodeOptions& options, bool is_pair, int sequence) const {
  if (options.truncation == Truncation::do_not_truncate || options.stride != 0 || options.return_overflowing_tokens) {
    return kNoTokenLimit;
  }
  // longest_first on a pair takes tokens from the longer sequence: both lengths matter in full.
  const bool truncated = is_pair ? (options.truncation == Truncation::only_first && sequence == 0) ||
                                       (options.truncation == Truncation::only_second && sequence == 1)
                                 : options.truncation == Truncation::longest_first ||
                                       options.truncation == Truncation::only_first;
  if (!truncated) return kNoTokenLimit;
  const std::size_t max_length = options.max_length ? options.max_length : model_max_length;
  const std::size_t n_added = options.add_special_tokens ? post_processor.added_tokens(is_pair) : 0;
  if (max_length < n_added) return kNoTokenLimit;  // post_process rejects the settings
  // One token more than can be kept: truncation still sees a sequence that is too long.
  return max_length - n_added + 1;
}

Encoding Tokenizer::Impl::encode_sequence(std::string_view text, int sequence, std::string_view what,
                                          std::size_t token_limit) const {
  const bool ascii = tokenizer::validate_utf8(text, what);
  if (text.size() >= std::numeric_limits<std::uint32_t>::max()) {
    throw InvalidArgumentError(std::string(what) + ": " + std::to_string(text.size()) +
                               " bytes is more than the 4 GiB - 1 a single text may have");
  }
  Encoding e;
  // About 4 bytes per token in English text.
  const std::size_t expected = std::min(text.size() / 3 + 4, token_limit);
  tokenizer::reserve_tokens(e, expected, /*with_char_offsets=*/false);  // char_offsets come from byte_offsets
  tokenizer::TokenSink sink(e, sequence);
  build_sequence(*this, text, sink, e, token_limit);
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
  tokenizer::reserve_tokens(out, total);
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

Encoding Tokenizer::Impl::post_process(Encoding a, std::string_view text_a, std::optional<Encoding> b,
                                       std::string_view text_b, const EncodeOptions& options) const {
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

  if (post_processor.trim_offsets) {
    const auto trim = [&](Encoding& e, std::string_view text) {
      tokenizer::trim_byte_level_offsets(e, text, post_processor.trim_add_prefix_space);
      for (Encoding& window : e.overflowing) tokenizer::trim_byte_level_offsets(window, text, post_processor.trim_add_prefix_space);
    };
    trim(a, text_a);
    if (is_pair) trim(*b, text_b);
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
        if (post_processor.retype_overflowing)
          for (Encoding& window : part.overflowing)
            std::fill(window.token_type_ids.begin(), window.token_type_ids.end(), piece.type_id);
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
  return model->token_to_id(token);
}

const std::string* Tokenizer::Impl::id_to_token(std::int32_t id) const {
  if (auto it = added_by_id.find(id); it != added_by_id.end()) return &added_tokens[it->second].content;
  return model->id_to_token(id);
}

}  // namespace bertcpp
