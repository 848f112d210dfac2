// Just enough of the protobuf wire format to read a SentencePiece model file (ModelProto, see sentencepiece's
// sentencepiece_model.proto) and to write it back with another normalizer: the Debian package ships the library
// without its generated protobuf headers, so bertcpp reads the few fields it needs itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bertcpp::tokenizer::sp {

// ModelProto.SentencePiece.Type
enum class PieceType : int { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

struct ProtoPiece {
  std::string piece;  // ModelProto.pieces[i].piece
  float score = 0.0f;  // ModelProto.pieces[i].score
  PieceType type = PieceType::normal;
};

struct ModelProtoView {
  std::vector<ProtoPiece> pieces;
  int model_type = 1;           // trainer_spec.model_type: 1 unigram, 2 bpe, 3 word, 4 char
  bool byte_fallback = false;   // trainer_spec.byte_fallback
  std::string normalizer_name;  // normalizer_spec.name, e.g. "nmt_nfkc"
  std::string precompiled_charsmap;  // normalizer_spec.precompiled_charsmap (may be empty)
  // The same model with normalizer_spec replaced by an identity normalizer (no charsmap, no dummy prefix, no
  // whitespace handling) and without self_test_data / denormalizer_spec: what the sentencepiece library is
  // given, so that it segments exactly the text bertcpp has normalized.
  std::string identity_serialized;
};

// Parses a serialized ModelProto. Throws FormatError("<file>: ...") on malformed or truncated data.
ModelProtoView parse_model_proto(std::string_view bytes, const std::string& file);

}  // namespace bertcpp::tokenizer::sp
