// Fuzz target: vocab.json + merges.txt (separated by "\n--8<--\n") through Tokenizer::from_bpe_files.
#include "bertcpp/tokenizer.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bertcpp;
  const auto parts = fuzz::split_parts(std::string_view(reinterpret_cast<const char*>(data), size), 2);
  const fuzz::MemFile vocab(parts[0]), merges(parts[1]);
  try {
    const Tokenizer tokenizer = Tokenizer::from_bpe_files(vocab.path(), merges.path(), {});
    for (const char* text : {"Hello world! lower newest <mask>", " ", ""}) {
      const Encoding e = tokenizer.encode(text);
      fuzz::require(e.input_ids.size() == e.byte_offsets.size(), "sizes");
      (void)tokenizer.decode(e.input_ids);
    }
  } catch (const Error&) {
  }
  return 0;
}
