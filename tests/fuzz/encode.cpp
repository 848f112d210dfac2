// Fuzz target: Tokenizer::encode() of arbitrary bytes with one of the three pipelines (the directory is chosen at
// build time: FUZZ_TOKENIZER_DIR = tests/data/tokenizer/{wordpiece,roberta,xlmr}). The first byte picks the
// options; the rest is the text (and, after a 0xff byte, the pair). Checks the encoding's invariants, and that
// truncation without stride (which may stop tokenizing early) keeps the same tokens as truncation with a stride
// (which tokenizes everything).
#include "bertcpp/tokenizer.hpp"
#include "fuzz_util.hpp"

namespace {

const bertcpp::Tokenizer& tokenizer() {
  static const bertcpp::Tokenizer t = bertcpp::Tokenizer::load(FUZZ_TOKENIZER_DIR);
  return t;
}

void check(const bertcpp::Encoding& e, std::size_t text_bytes, std::size_t pair_bytes) {
  using bertcpp::fuzz::require;
  const std::size_t n = e.input_ids.size();
  require(e.token_type_ids.size() == n && e.attention_mask.size() == n && e.special_tokens_mask.size() == n &&
              e.tokens.size() == n && e.word_ids.size() == n && e.sequence_ids.size() == n &&
              e.byte_offsets.size() == n && e.char_offsets.size() == n,
          "field sizes");
  for (std::size_t i = 0; i < n; ++i) {
    const auto& o = e.byte_offsets[i];
    require(o.begin <= o.end, "offset order");
    require(o.end <= (e.sequence_ids[i] == 1 ? pair_bytes : text_bytes), "offset inside the text");
    require(e.input_ids[i] >= 0 && static_cast<std::size_t>(e.input_ids[i]) < tokenizer().vocab_size(), "id range");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bertcpp;
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string_view text = input, pair;
  bool has_pair = false;
  if (const auto at = input.find('\xff'); at != std::string_view::npos && (flags & 1)) {
    text = input.substr(0, at);
    pair = input.substr(at + 1);
    has_pair = true;
  }
  EncodeOptions options;
  options.add_special_tokens = (flags & 2) == 0;
  options.max_length = 4 + (flags >> 3);  // 4..35
  const Truncation kinds[] = {Truncation::longest_first, Truncation::only_first, Truncation::only_second,
                              Truncation::longest_first};
  options.truncation = kinds[(flags >> 1) & 3];
  if (!has_pair && options.truncation == Truncation::only_second) options.truncation = Truncation::only_first;
  const auto run = [&](const EncodeOptions& o) { return has_pair ? tokenizer().encode(text, pair, o) : tokenizer().encode(text, o); };
  try {
    const Encoding full = run(EncodeOptions{});  // no truncation: every token
    check(full, text.size(), pair.size());
    (void)tokenizer().decode(full.input_ids);
    const Encoding cut = run(options);
    check(cut, text.size(), pair.size());
    fuzz::require(cut.size() <= options.max_length, "truncated length");
    // The same truncation with a stride tokenizes everything; its first window must be identical.
    EncodeOptions strided = options;
    strided.stride = 1;
    const Encoding reference = run(strided);
    fuzz::require(reference.input_ids == cut.input_ids, "early stop changed the ids");
    fuzz::require(reference.word_ids == cut.word_ids, "early stop changed the word ids");
    for (std::size_t i = 0; i < cut.size(); ++i) {
      fuzz::require(reference.byte_offsets[i].begin == cut.byte_offsets[i].begin &&
                        reference.byte_offsets[i].end == cut.byte_offsets[i].end,
                    "early stop changed the offsets");
    }
  } catch (const Error&) {  // invalid UTF-8, a truncation that cannot be done: typed errors are fine
  }
  return 0;
}
