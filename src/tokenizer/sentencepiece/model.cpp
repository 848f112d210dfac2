#include "tokenizer/sentencepiece/model.hpp"

#include <sentencepiece_processor.h>

#include <unordered_map>

#include "bertcpp/error.hpp"
#include "common/file_io.hpp"
#include "tokenizer/sentencepiece/proto.hpp"

namespace bertcpp::tokenizer {

struct SentencePieceModel::State {
  std::string source;
  SentencePieceVariant variant = SentencePieceVariant::albert;
  sentencepiece::SentencePieceProcessor processor;
  std::vector<std::string> tokens;            // by bertcpp id
  std::vector<double> scores;                 // by bertcpp id (0 for the added fairseq specials)
  UnigramSegmenter segmenter;
  std::vector<std::int32_t> id_of_piece;      // library piece id -> bertcpp id
  std::unordered_map<std::string, std::int32_t> id_of_token;
  std::int32_t unk_id = 0;
  std::string charsmap;
};

namespace {

const char* type_name(sp::PieceType t) {
  switch (t) {
    case sp::PieceType::normal: return "normal";
    case sp::PieceType::unknown: return "unknown";
    case sp::PieceType::control: return "control";
    case sp::PieceType::user_defined: return "user-defined";
    case sp::PieceType::unused: return "unused";
    case sp::PieceType::byte: return "byte";
  }
  return "?";
}

}  // namespace

SentencePieceModel SentencePieceModel::load(const std::filesystem::path& file, SentencePieceVariant variant) {
  const std::string name = file.string();
  const std::string bytes = common::read_regular_file(file, common::kMaxTokenizerFileBytes);
  const sp::ModelProtoView proto = sp::parse_model_proto(bytes, name);
  if (proto.model_type != 1) {
    throw UnsupportedError(name + ": trainer_spec.model_type is " + std::to_string(proto.model_type) +
                           ", only unigram models (1) are supported");
  }
  if (proto.byte_fallback) {
    throw UnsupportedError(name + ": trainer_spec.byte_fallback is true, which is not supported");
  }
  auto state = std::make_shared<State>();
  state->source = name;
  state->variant = variant;
  state->charsmap = proto.precompiled_charsmap;
  const auto status = state->processor.LoadFromSerializedProto(proto.identity_serialized);
  if (!status.ok()) {
    throw FormatError(name + ": the sentencepiece library rejects the model: " + status.ToString());
  }
  const std::size_t n = proto.pieces.size();
  if (static_cast<std::size_t>(state->processor.GetPieceSize()) != n) {
    throw FormatError(name + ": the library reads " + std::to_string(state->processor.GetPieceSize()) +
                      " pieces, the file has " + std::to_string(n));
  }
  std::int32_t unk_piece = -1;
  for (std::size_t i = 0; i < n; ++i) {
    if (proto.pieces[i].type == sp::PieceType::unknown) {
      unk_piece = static_cast<std::int32_t>(i);
      break;
    }
  }
  if (unk_piece < 0) throw FormatError(name + ": the model has no piece of type unknown");

  state->id_of_piece.resize(n);
  if (variant == SentencePieceVariant::albert) {
    for (std::size_t i = 0; i < n; ++i) {
      state->tokens.push_back(proto.pieces[i].piece);
      state->scores.push_back(proto.pieces[i].score);
      state->id_of_piece[i] = static_cast<std::int32_t>(i);
    }
    state->unk_id = unk_piece;
  } else {
    // fairseq's dictionary: transformers' XLMRobertaTokenizer assumes pieces 0..2 are <unk>, <s>, </s>.
    static constexpr sp::PieceType kExpected[3] = {sp::PieceType::unknown, sp::PieceType::control,
                                                   sp::PieceType::control};
    for (std::size_t i = 0; i < 3; ++i) {
      if (i >= n || proto.pieces[i].type != kExpected[i]) {
        throw ConfigError(name + ": an XLM-R model must start with the pieces <unk> (unknown), <s>, </s> "
                                 "(control); piece " + std::to_string(i) + " is " +
                          (i < n ? "'" + proto.pieces[i].piece + "' (" + type_name(proto.pieces[i].type) + ")"
                                 : std::string("missing")));
      }
    }
    state->tokens = {"<s>", "<pad>", "</s>", "<unk>"};
    state->scores = {0.0, 0.0, 0.0, 0.0};
    state->id_of_piece[0] = 3;
    state->id_of_piece[1] = 0;
    state->id_of_piece[2] = 2;
    for (std::size_t i = 3; i < n; ++i) {
      state->tokens.push_back(proto.pieces[i].piece);
      state->scores.push_back(proto.pieces[i].score);
      state->id_of_piece[i] = static_cast<std::int32_t>(i + 1);
    }
    state->tokens.push_back("<mask>");
    state->scores.push_back(0.0);
    state->unk_id = 3;
  }
  for (std::size_t i = 0; i < state->tokens.size(); ++i) {
    state->id_of_token[state->tokens[i]] = static_cast<std::int32_t>(i);  // the last id wins, as in tokenizers
  }
  state->segmenter = UnigramSegmenter(state->tokens, state->scores, state->unk_id);
  return SentencePieceModel(std::move(state));
}

void SentencePieceModel::encode_word(std::string_view word, std::vector<SentencePiecePiece>& out) const {
  state_->segmenter.encode(word, out);
}

void SentencePieceModel::encode_word_with_library(std::string_view word, std::vector<SentencePiecePiece>& out) const {
  thread_local sentencepiece::ImmutableSentencePieceText text;
  const auto status = state_->processor.Encode(word, text.mutable_proto());
  if (!status.ok()) {
    throw InvalidArgumentError(state_->source + ": the sentencepiece library cannot encode a word of " +
                               std::to_string(word.size()) + " bytes: " + status.ToString());
  }
  const std::size_t n = text.pieces_size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto piece = text.pieces(static_cast<int>(i));
    const std::uint32_t id = piece.id();
    const std::int32_t mapped = id < state_->id_of_piece.size() ? state_->id_of_piece[id] : state_->unk_id;
    out.push_back({mapped, piece.begin(), piece.end()});
  }
}

std::size_t SentencePieceModel::size() const noexcept { return state_->tokens.size(); }
const std::string& SentencePieceModel::id_to_token(std::int32_t id) const {
  return state_->tokens.at(static_cast<std::size_t>(id));
}
std::optional<std::int32_t> SentencePieceModel::token_to_id(std::string_view token) const {
  auto it = state_->id_of_token.find(std::string(token));
  if (it == state_->id_of_token.end()) return std::nullopt;
  return it->second;
}
std::int32_t SentencePieceModel::unk_id() const noexcept { return state_->unk_id; }
SentencePieceVariant SentencePieceModel::variant() const noexcept { return state_->variant; }
const std::string& SentencePieceModel::precompiled_charsmap() const noexcept { return state_->charsmap; }
const std::string& SentencePieceModel::source() const noexcept { return state_->source; }

}  // namespace bertcpp::tokenizer
