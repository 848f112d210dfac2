// Fuzz target: a SentencePiece model proto: bertcpp's own proto reader, then the whole load (which hands the
// model to the sentencepiece library) as ALBERT and as XLM-R, and a few segmentations.
#include "fuzz_util.hpp"
#include "tokenizer/sentencepiece/model.hpp"
#include "tokenizer/sentencepiece/proto.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bertcpp;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    (void)tokenizer::sp::parse_model_proto(bytes, "spiece.model");
  } catch (const Error&) {
    return 0;  // the load below would reject it the same way
  }
  const fuzz::MemFile file(bytes);
  for (auto variant : {tokenizer::SentencePieceVariant::albert, tokenizer::SentencePieceVariant::xlm_roberta}) {
    try {
      const auto model = tokenizer::SentencePieceModel::load(file.path(), variant);
      std::vector<tokenizer::SentencePiecePiece> pieces;
      for (const char* word : {"\xe2\x96\x81hello", "\xe2\x96\x81w\xc3\xb6rld", "x"}) {
        pieces.clear();
        model.encode_word(word, pieces);
      }
    } catch (const Error&) {
    }
  }
  return 0;
}
