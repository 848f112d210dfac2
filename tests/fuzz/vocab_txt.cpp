// Fuzz target: a vocab.txt through Tokenizer::from_vocab, then a few encodes.
#include "bertcpp/tokenizer.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bertcpp;
  const fuzz::MemFile file(std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    const Tokenizer tokenizer = Tokenizer::from_vocab(file.path(), {});
    for (const char* text : {"Hello world! [MASK] unaffable 中文", ""}) {
      const Encoding e = tokenizer.encode(text);
      fuzz::require(e.input_ids.size() == e.byte_offsets.size(), "sizes");
      (void)tokenizer.decode(e.input_ids);
    }
  } catch (const Error&) {
  }
  return 0;
}
