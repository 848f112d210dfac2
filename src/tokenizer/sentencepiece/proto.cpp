#include "tokenizer/sentencepiece/proto.hpp"

#include <cstring>

#include "bertcpp/error.hpp"

namespace bertcpp::tokenizer::sp {
namespace {

enum WireType : unsigned { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// A cursor over one message's bytes; every read checks the bounds and names the file and message on failure.
class Reader {
 public:
  Reader(std::string_view bytes, const std::string& file, std::string what)
      : bytes_(bytes), file_(file), what_(std::move(what)) {}

  bool done() const { return pos_ >= bytes_.size(); }
  std::size_t pos() const { return pos_; }

  [[noreturn]] void fail(const std::string& why) const {
    throw FormatError(file_ + ": not a SentencePiece model (" + what_ + " at byte " + std::to_string(pos_) +
                      ": " + why + ")");
  }

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= bytes_.size()) fail("truncated varint");
      const auto b = static_cast<unsigned char>(bytes_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    fail("varint longer than 10 bytes");
  }

  std::string_view bytes(std::size_t n) {
    if (n > bytes_.size() - pos_) {
      fail("field of " + std::to_string(n) + " bytes, only " + std::to_string(bytes_.size() - pos_) + " left");
    }
    const std::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  // Reads a key; returns the field number and sets the wire type.
  std::uint32_t key(unsigned& wire) {
    const std::uint64_t k = varint();
    wire = static_cast<unsigned>(k & 7);
    const std::uint64_t field = k >> 3;
    if (field == 0 || field > 0x1FFFFFFF) fail("invalid field number " + std::to_string(field));
    if (wire != kVarint && wire != kFixed64 && wire != kLengthDelimited && wire != kFixed32) {
      fail("unsupported wire type " + std::to_string(wire) + " for field " + std::to_string(field));
    }
    return static_cast<std::uint32_t>(field);
  }

  std::string_view length_delimited() { return bytes(static_cast<std::size_t>(checked_length(varint()))); }

  float fixed32_float() {
    const std::string_view b = bytes(4);
    std::uint32_t u = 0;
    for (int i = 3; i >= 0; --i) u = (u << 8) | static_cast<unsigned char>(b[static_cast<std::size_t>(i)]);
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
  }

  void skip(unsigned wire) {
    switch (wire) {
      case kVarint: varint(); break;
      case kFixed64: bytes(8); break;
      case kLengthDelimited: length_delimited(); break;
      default: bytes(4); break;
    }
  }

  void expect(unsigned wire, unsigned expected, const char* field) {
    if (wire != expected) {
      fail(std::string("field '") + field + "' has wire type " + std::to_string(wire) + ", expected " +
           std::to_string(expected));
    }
  }

 private:
  std::uint64_t checked_length(std::uint64_t n) const {
    if (n > bytes_.size()) fail("length " + std::to_string(n) + " exceeds the message");
    return n;
  }

  std::string_view bytes_;
  const std::string& file_;
  std::string what_;
  std::size_t pos_ = 0;
};

void append_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void append_key(std::string& out, std::uint32_t field, unsigned wire) { append_varint(out, (field << 3) | wire); }

ProtoPiece parse_piece(std::string_view bytes, const std::string& file, std::size_t index) {
  Reader r(bytes, file, "pieces[" + std::to_string(index) + "]");
  ProtoPiece p;
  bool has_piece = false;
  while (!r.done()) {
    unsigned wire = 0;
    switch (r.key(wire)) {
      case 1:
        r.expect(wire, kLengthDelimited, "piece");
        p.piece = std::string(r.length_delimited());
        has_piece = true;
        break;
      case 2:
        r.expect(wire, kFixed32, "score");
        p.score = r.fixed32_float();
        break;
      case 3: {
        r.expect(wire, kVarint, "type");
        const std::uint64_t t = r.varint();
        if (t < 1 || t > 6) r.fail("piece type " + std::to_string(t) + " is not 1..6");
        p.type = static_cast<PieceType>(t);
        break;
      }
      default:
        r.skip(wire);
    }
  }
  if (!has_piece || p.piece.empty()) r.fail("empty piece");
  return p;
}

void parse_trainer_spec(std::string_view bytes, const std::string& file, ModelProtoView& out) {
  Reader r(bytes, file, "trainer_spec");
  while (!r.done()) {
    unsigned wire = 0;
    const std::uint32_t field = r.key(wire);
    if (field == 3 && wire == kVarint) {
      out.model_type = static_cast<int>(r.varint());
    } else if (field == 35 && wire == kVarint) {
      out.byte_fallback = r.varint() != 0;
    } else {
      r.skip(wire);
    }
  }
}

void parse_normalizer_spec(std::string_view bytes, const std::string& file, ModelProtoView& out) {
  Reader r(bytes, file, "normalizer_spec");
  while (!r.done()) {
    unsigned wire = 0;
    const std::uint32_t field = r.key(wire);
    if (field == 1 && wire == kLengthDelimited) {
      out.normalizer_name = std::string(r.length_delimited());
    } else if (field == 2 && wire == kLengthDelimited) {
      out.precompiled_charsmap = std::string(r.length_delimited());
    } else {
      r.skip(wire);
    }
  }
}

}  // namespace

ModelProtoView parse_model_proto(std::string_view bytes, const std::string& file) {
  if (bytes.empty()) throw FormatError(file + ": not a SentencePiece model (the file is empty)");
  Reader r(bytes, file, "ModelProto");
  ModelProtoView out;
  std::string& kept = out.identity_serialized;
  kept.reserve(bytes.size());
  while (!r.done()) {
    const std::size_t start = r.pos();
    unsigned wire = 0;
    const std::uint32_t field = r.key(wire);
    if (field >= 1 && field <= 5) r.expect(wire, kLengthDelimited, "ModelProto field");
    switch (field) {
      case 1:
        out.pieces.push_back(parse_piece(r.length_delimited(), file, out.pieces.size()));
        break;
      case 2:
        parse_trainer_spec(r.length_delimited(), file, out);
        break;
      case 3:
        parse_normalizer_spec(r.length_delimited(), file, out);
        continue;  // replaced below
      case 4:  // self_test_data: expectations of the original normalizer, which the library would check at load
      case 5:  // denormalizer_spec: only used by decoding
        r.length_delimited();
        continue;
      default:
        r.skip(wire);
    }
    kept.append(bytes.substr(start, r.pos() - start));
  }
  if (out.pieces.empty()) throw FormatError(file + ": not a SentencePiece model (no pieces)");
  // NormalizerSpec{name: "identity", add_dummy_prefix: false, remove_extra_whitespaces: false,
  //                escape_whitespaces: false}
  std::string spec;
  append_key(spec, 1, kLengthDelimited);
  append_varint(spec, 8);
  spec += "identity";
  for (std::uint32_t f : {3u, 4u, 5u}) {
    append_key(spec, f, kVarint);
    append_varint(spec, 0);
  }
  append_key(kept, 3, kLengthDelimited);
  append_varint(kept, spec.size());
  kept += spec;
  return out;
}

}  // namespace bertcpp::tokenizer::sp
