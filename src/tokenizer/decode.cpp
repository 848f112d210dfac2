// Tokenizer::decode: ids -> tokens -> text, as tokenizers' WordPiece decoder does it.
#include <string>

#include "bertcpp/error.hpp"
#include "bertcpp/tokenizer.hpp"
#include "tokenizer/tokenizer_impl.hpp"

namespace bertcpp {
namespace {

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

// One token's text as tokenizers' WordPiece decoder emits it: the first token as it is, a later one with its
// continuation prefix removed or a space put before it; then the clean-up, applied to this piece alone.
void append_piece(const Tokenizer::Impl& impl, const std::string& token, bool first, std::string& out) {
  if (!impl.has_decoder) {
    if (!first) out += ' ';
    out += token;
    return;
  }
  std::string piece;
  const std::string& prefix = impl.decoder_prefix;
  if (!first && token.compare(0, prefix.size(), prefix) == 0 && token.size() >= prefix.size()) {
    piece = token.substr(prefix.size());
  } else if (!first) {
    piece = " " + token;
  } else {
    piece = token;
  }
  // tokenizers applies the clean-up to each token on its own (with its leading space), not to the joined
  // text; a pattern spanning two tokens is therefore left alone.
  if (impl.decoder_cleanup) cleanup(piece);
  out += piece;
}

}  // namespace

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool skip_special_tokens) const {
  const Impl& impl = *impl_;
  std::string out;
  bool first = true;
  for (std::int32_t id : ids) {
    const std::string* token = impl.id_to_token(id);
    if (!token) {
      throw InvalidArgumentError("decode: token id " + std::to_string(id) + " is out of range [0, " +
                                 std::to_string(vocab_size()) + ")");
    }
    if (skip_special_tokens) {
      auto it = impl.added_by_id.find(id);
      if (it != impl.added_by_id.end() && impl.added_tokens[it->second].special) continue;
    }
    append_piece(impl, *token, first, out);
    first = false;
  }
  return out;
}

std::string Tokenizer::convert_tokens_to_string(std::span<const std::string> tokens) const {
  std::string out;
  for (std::size_t i = 0; i < tokens.size(); ++i) append_piece(*impl_, tokens[i], i == 0, out);
  return out;
}

}  // namespace bertcpp
