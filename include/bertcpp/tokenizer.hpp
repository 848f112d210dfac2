// bertcpp/tokenizer.hpp - Hugging Face compatible tokenization: WordPiece with the BERT normalizer (BERT,
// ELECTRA, DistilBERT), byte-level BPE (RoBERTa, GPT-2 style) and SentencePiece unigram (XLM-R, ALBERT: the
// sentencepiece library loads and checks the model file, bertcpp normalizes and segments as transformers does);
// see docs/tokenizer.md and docs/tokenizer-sentencepiece.md for what each supports.
//
//   auto tok = bertcpp::Tokenizer::load("models/cache/all-MiniLM-L6-v2");  // tokenizer.json or vocab.txt
//   bertcpp::Encoding enc = tok.encode("Hello, world!");
//   // enc.input_ids    == {101, 7592, 1010, 2088, 999, 102}
//   // enc.char_offsets == {{0,0}, {0,5}, {5,6}, {7,12}, {12,13}, {0,0}}   (code points, as Python reports)
//
//   bertcpp::EncodeOptions opt;
//   opt.truncation = bertcpp::Truncation::only_second;
//   opt.max_length = 384;
//   opt.stride = 128;                                  // overflowing windows in enc.overflowing
//   auto qa = tok.encode("Who?", long_context, opt);
//
// Thread safety: a loaded Tokenizer is immutable; every const member may be called concurrently.
// Errors: text that is not valid UTF-8 throws Utf8Error naming the byte offset; bad files throw
// IoError / FormatError / ConfigError naming the file and field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bertcpp {

// Truncation strategies, as transformers names them.
enum class Truncation { do_not_truncate, longest_first, only_first, only_second };

// Padding strategies, as transformers names them (applies to encode_batch; `max_length` pads single encodes too).
enum class Padding { do_not_pad, longest, max_length };

struct EncodeOptions {
  bool add_special_tokens = true;
  Truncation truncation = Truncation::do_not_truncate;
  // Maximum length including special tokens; 0 means the tokenizer's model_max_length. Used when truncating
  // and when padding to max_length.
  std::size_t max_length = 0;
  // With truncation: tokens shared by consecutive windows; the windows past the first are returned in
  // Encoding::overflowing (transformers: return_overflowing_tokens=True).
  std::size_t stride = 0;
  bool return_overflowing_tokens = false;
  Padding padding = Padding::do_not_pad;
  std::size_t pad_to_multiple_of = 0;  // 0: off
};

// A half-open range [begin, end). (0, 0) for special and padding tokens.
struct Offset {
  std::size_t begin = 0;
  std::size_t end = 0;
  friend bool operator==(const Offset&, const Offset&) = default;
};

struct Encoding {
  std::vector<std::int32_t> input_ids;
  std::vector<std::int32_t> token_type_ids;
  std::vector<std::int32_t> attention_mask;
  std::vector<std::int32_t> special_tokens_mask;  // 1 for [CLS], [SEP], padding
  std::vector<std::string> tokens;                 // e.g. "[CLS]", "hello", "##s"; BPE: "<s>", "Ġworld"
  std::vector<std::int64_t> word_ids;              // index of the pre-tokenized word; -1 (Python None) for specials
  std::vector<std::int32_t> sequence_ids;          // 0 (first text), 1 (pair), -1 for specials and padding
  std::vector<Offset> byte_offsets;                // byte ranges into the UTF-8 text the token came from
  std::vector<Offset> char_offsets;                // code-point ranges into that text (what Python reports)
  std::vector<Encoding> overflowing;               // further windows (stride / return_overflowing_tokens)

  std::size_t size() const noexcept { return input_ids.size(); }
};

class Tokenizer {
 public:
  // From a model directory, the first of: spiece.model / sentencepiece.bpe.model (SentencePiece unigram, ALBERT /
  // XLM-R); tokenizer.json (it decides, as in transformers' fast tokenizer; for a BPE model
  // tokenizer_config.json's add_prefix_space / trim_offsets override it, as transformers does); vocab.txt
  // (WordPiece); vocab.json + merges.txt (byte-level BPE). tokenizer_config.json / special_tokens_map.json
  // are read with each. Every file is read and parsed once.
  static Tokenizer load(const std::filesystem::path& dir);
  static Tokenizer from_tokenizer_json(const std::filesystem::path& file);

  // BERT settings for a plain vocab.txt (transformers' BertTokenizer arguments).
  struct WordPieceOptions {
    bool do_lower_case = true;
    std::optional<bool> strip_accents;  // unset: follows do_lower_case
    bool tokenize_chinese_chars = true;
    std::vector<std::string> never_split;
    std::size_t model_max_length = 512;
    std::string unk_token = "[UNK]", sep_token = "[SEP]", pad_token = "[PAD]", cls_token = "[CLS]",
                mask_token = "[MASK]";
  };
  static Tokenizer from_vocab(const std::filesystem::path& vocab_txt, const WordPieceOptions& options);

  // RoBERTa settings for vocab.json + merges.txt (transformers' RobertaTokenizer arguments and defaults).
  struct BpeOptions {
    bool add_prefix_space = false;  // a space before the text, so its first word is encoded like the others
    bool trim_offsets = true;       // offsets leave out the spaces a token starts or ends with
    std::size_t model_max_length = 512;
    std::string bos_token = "<s>", eos_token = "</s>", unk_token = "<unk>", sep_token = "</s>", cls_token = "<s>",
                pad_token = "<pad>", mask_token = "<mask>";
    // "<mask>" also takes the whitespace before it. transformers 5 (the reference) leaves it off unless
    // tokenizer_config.json's mask_token says {"lstrip": true}; transformers 4 turned it on.
    bool mask_lstrip = false;
  };
  static Tokenizer from_bpe_files(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt,
                                  const BpeOptions& options);

  Encoding encode(std::string_view text, const EncodeOptions& options = {}) const;
  Encoding encode(std::string_view text, std::string_view text_pair, const EncodeOptions& options = {}) const;
  // Padding::longest pads every encoding to the longest one of the batch.
  std::vector<Encoding> encode_batch(std::span<const std::string> texts, const EncodeOptions& options = {}) const;

  // Ids -> text with the tokenizer's decoder, special tokens skipped when asked. WordPiece: "##" pieces joined
  // to the previous token and clean_up_tokenization_spaces applied (" ." -> ".", " ' " -> "'", ...). Byte-level
  // BPE: the bytes the tokens stand for, as UTF-8 (invalid sequences become U+FFFD), nothing cleaned up.
  std::string decode(std::span<const std::int32_t> ids, bool skip_special_tokens = true) const;
  // Token strings -> text with the same decoder (transformers' convert_tokens_to_string); the strings need not be
  // in the vocabulary, e.g. {"new", "york", "##er"} -> "new yorker", {"Ġnew", "Ġyork"} -> " new york".
  std::string convert_tokens_to_string(std::span<const std::string> tokens) const;

  std::optional<std::int32_t> token_to_id(std::string_view token) const;
  std::string id_to_token(std::int32_t id) const;  // throws InvalidArgumentError when out of range
  std::size_t vocab_size() const noexcept;
  std::size_t model_max_length() const noexcept;

  std::int32_t cls_token_id() const noexcept;
  std::int32_t sep_token_id() const noexcept;
  std::int32_t pad_token_id() const noexcept;
  std::int32_t unk_token_id() const noexcept;  // -1 when the tokenizer has none
  std::optional<std::int32_t> mask_token_id() const noexcept;

  Tokenizer(const Tokenizer&) = default;
  Tokenizer(Tokenizer&&) noexcept = default;
  Tokenizer& operator=(const Tokenizer&) = default;
  Tokenizer& operator=(Tokenizer&&) noexcept = default;
  ~Tokenizer();

  struct Impl;

 private:
  friend struct TokenizerInternals;  // the library's own layers (not part of the API)
  explicit Tokenizer(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace bertcpp
