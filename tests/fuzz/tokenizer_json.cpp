// Fuzz target: a tokenizer.json (WordPiece or BPE model) through Tokenizer::from_tokenizer_json; when it loads,
// a few texts are encoded and decoded.
#include "bertcpp/tokenizer.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bertcpp;
  const fuzz::MemFile file(std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    const Tokenizer tokenizer = Tokenizer::from_tokenizer_json(file.path());
    EncodeOptions options;
    options.truncation = Truncation::longest_first;
    options.max_length = 16;
    for (const char* text : {"Hello world! Héllo, wörld: [MASK] 中文 don't", "", "   a  ", "<s> </s> <mask>"}) {
      const Encoding e = tokenizer.encode(text, options);
      fuzz::require(e.input_ids.size() == e.byte_offsets.size() && e.input_ids.size() == e.tokens.size(), "sizes");
      (void)tokenizer.decode(e.input_ids);
    }
    (void)tokenizer.encode("first", "second", options);
  } catch (const Error&) {
  }
  return 0;
}
