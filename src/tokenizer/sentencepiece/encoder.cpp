#include "tokenizer/sentencepiece/encoder.hpp"

#include "tokenizer/tokenizer_impl.hpp"

namespace bertcpp::tokenizer {
namespace {
constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // U+2581
}

void SentencePieceEncoder::encode(std::string_view text, std::size_t begin, std::size_t end,
                                  const NormalizedAddedTokens& added, TokenSink& sink) const {
  thread_local std::vector<SentencePieceToken> tokens;
  tokens.clear();
  std::int64_t words = 0;
  pipeline_.encode(text.substr(begin, end - begin), tokens, words, {&added.matcher, &added.tokens});
  const SentencePieceModel& model = pipeline_.model();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const SentencePieceToken& t = tokens[i];
    // tokenizers names an unknown piece by the text it covers, not by the unk token.
    const std::string& token = t.added >= 0                ? added.tokens[static_cast<std::size_t>(t.added)].content
                               : t.id == model.unk_id() ? t.unknown
                                                        : model.id_to_token(t.id);
    sink.push(t.id, token, begin + t.begin, begin + t.end);
    if (i + 1 == tokens.size() || tokens[i + 1].word != t.word) sink.end_word();
  }
}

std::string SentencePieceEncoder::normalize(std::string_view content) const {
  return pipeline_.normalizer().normalize(content).text;
}

const std::string* SentencePieceEncoder::id_to_token(std::int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= pipeline_.model().size()) return nullptr;
  return &pipeline_.model().id_to_token(id);
}

std::string SentencePieceEncoder::decode(std::span<const std::string_view> tokens) const {
  std::string out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string_view t = tokens[i];
    const bool drop = i == 0 && pipeline_.add_prefix_space();
    for (std::size_t pos = 0; pos < t.size();) {
      if (t.compare(pos, kMetaspace.size(), kMetaspace) == 0) {
        if (!drop) out += ' ';
        pos += kMetaspace.size();
      } else {
        out += t[pos++];
      }
    }
  }
  return out;
}

}  // namespace bertcpp::tokenizer
