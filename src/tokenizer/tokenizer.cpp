// The public facade bertcpp::Tokenizer.
#include "bertcpp/tokenizer.hpp"

#include <algorithm>

#include "bertcpp/error.hpp"
#include "common/file_io.hpp"
#include "tokenizer/encoding_ops.hpp"
#include "tokenizer/sentencepiece/encoder.hpp"
#include "tokenizer/loaders.hpp"
#include "tokenizer/tokenizer_files.hpp"

namespace bertcpp {

void Tokenizer::Impl::finalize(const std::string& cls_token, const std::string& sep_token,
                               const std::string& pad_token_name, const std::string& mask_token) {
  std::vector<std::string> raw_patterns, normalized_patterns;
  std::vector<std::size_t> raw_which, normalized_which;
  for (std::size_t i = 0; i < added_tokens.size(); ++i) {
    const auto& t = added_tokens[i];
    added_by_id.emplace(t.id, i);
    raw_patterns.push_back(t.content);
    normalized_patterns.push_back(t.normalized ? model->normalize(t.content) : t.content);
    (t.normalized ? normalized_which : raw_which).push_back(i);
  }
  raw_matcher = tokenizer::AddedTokenMatcher(added_tokens, raw_patterns, raw_which);
  normalized_matcher = tokenizer::AddedTokenMatcher(added_tokens, normalized_patterns, normalized_which);
  unk_id = model->unk_id().value_or(-1);
  if (auto id = token_to_id(cls_token)) cls_id = *id;
  if (auto id = token_to_id(sep_token)) sep_id = *id;
  if (auto id = token_to_id(pad_token_name)) {
    pad_id = *id;
    pad_token = pad_token_name;
  }
  mask_id = token_to_id(mask_token);
}

namespace tokenizer {

bool has_tokenizer_files(const std::filesystem::path& dir) {
  // The files Tokenizer::load tries, in its order.
  return find_sentencepiece_model(dir) || common::entry_exists(dir / "tokenizer.json") ||
         common::entry_exists(dir / "vocab.txt") ||
         (common::entry_exists(dir / "vocab.json") && common::entry_exists(dir / "merges.txt"));
}

}  // namespace tokenizer

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::load(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    // A symlink loop or a permission denied on the way is not "not a directory": say what it is.
    if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) {
      throw IoError(dir.string() + ": cannot access: " + ec.message());
    }
    throw IoError(dir.string() + ": not a directory (expected a model directory with tokenizer.json or vocab.txt)");
  }
  // The files transformers would use, in its order of preference.
  // A SentencePiece model file decides over tokenizer.json (transformers' tokenizer.json for ALBERT / XLM-R is its
  // conversion of the same file; the parity fixtures check that both give the same outputs).
  if (auto model = tokenizer::find_sentencepiece_model(dir)) return Tokenizer(tokenizer::load_sentencepiece(dir, *model));
  const auto json = dir / "tokenizer.json";
  if (common::entry_exists(json)) return Tokenizer(tokenizer::load_tokenizer_json(json, &dir));
  const auto vocab = dir / "vocab.txt";
  if (common::entry_exists(vocab)) {
    WordPieceOptions options;
    bool has_max = false;
    const tokenizer::SettingsFiles settings = tokenizer::SettingsFiles::read(dir);
    const bool mpnet = tokenizer::mpnet_vocab_layout(settings, options);
    tokenizer::read_tokenizer_config(settings, options, has_max);
    return Tokenizer(tokenizer::load_vocab(vocab, options, mpnet));
  }
  const auto vocab_json = dir / "vocab.json", merges = dir / "merges.txt";
  if (common::entry_exists(vocab_json) && common::entry_exists(merges)) {
    BpeOptions options;
    bool has_max = false;
    tokenizer::read_bpe_config(tokenizer::SettingsFiles::read(dir), options, has_max);
    return Tokenizer(tokenizer::load_bpe_files(vocab_json, merges, options));
  }
  throw IoError(dir.string() + ": no tokenizer files found (expected tokenizer.json, vocab.txt, or vocab.json "
                "with merges.txt)");
}

Tokenizer Tokenizer::from_tokenizer_json(const std::filesystem::path& file) {
  return Tokenizer(tokenizer::load_tokenizer_json(file, nullptr));
}

Tokenizer Tokenizer::from_vocab(const std::filesystem::path& vocab_txt, const WordPieceOptions& options) {
  return Tokenizer(tokenizer::load_vocab(vocab_txt, options));
}

Tokenizer Tokenizer::from_bpe_files(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt,
                                    const BpeOptions& options) {
  return Tokenizer(tokenizer::load_bpe_files(vocab_json, merges_txt, options));
}

Encoding Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  return impl_->post_process(impl_->encode_sequence(text, 0, "text", impl_->token_limit(options, false, 0)), text,
                             std::nullopt, {}, options);
}

Encoding Tokenizer::encode(std::string_view text, std::string_view text_pair, const EncodeOptions& options) const {
  Encoding a = impl_->encode_sequence(text, 0, "text", impl_->token_limit(options, true, 0));
  Encoding b = impl_->encode_sequence(text_pair, 1, "text_pair", impl_->token_limit(options, true, 1));
  return impl_->post_process(std::move(a), text, std::move(b), text_pair, options);
}

std::vector<Encoding> Tokenizer::encode_batch(std::span<const std::string> texts, const EncodeOptions& options) const {
  EncodeOptions each = options;
  if (options.padding == Padding::longest) each.padding = Padding::do_not_pad;
  std::vector<Encoding> out;
  out.reserve(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    try {
      out.push_back(encode(texts[i], each));
    } catch (const Utf8Error& e) {
      throw Utf8Error("batch item " + std::to_string(i) + ": " + e.what(), e.byte_offset());
    }
  }
  if (options.padding == Padding::longest && !out.empty()) {
    std::size_t target = 0;
    for (const Encoding& e : out) target = std::max(target, e.size());
    if (options.pad_to_multiple_of > 0 && target % options.pad_to_multiple_of != 0)
      target += options.pad_to_multiple_of - target % options.pad_to_multiple_of;
    for (Encoding& e : out) tokenizer::pad(e, target, impl_->pad_id, 0, impl_->pad_token);
  }
  return out;
}

std::optional<std::int32_t> Tokenizer::token_to_id(std::string_view token) const { return impl_->token_to_id(token); }

std::string Tokenizer::id_to_token(std::int32_t id) const {
  if (const std::string* t = impl_->id_to_token(id)) return *t;
  throw InvalidArgumentError("token id " + std::to_string(id) + " is out of range [0, " +
                             std::to_string(vocab_size()) + ")");
}

std::size_t Tokenizer::vocab_size() const noexcept {
  std::size_t n = impl_->model->vocab_size();
  for (const auto& t : impl_->added_tokens) n = std::max(n, static_cast<std::size_t>(t.id) + 1);
  return n;
}

std::size_t Tokenizer::model_max_length() const noexcept { return impl_->model_max_length; }
std::int32_t Tokenizer::cls_token_id() const noexcept { return impl_->cls_id; }
std::int32_t Tokenizer::sep_token_id() const noexcept { return impl_->sep_id; }
std::int32_t Tokenizer::pad_token_id() const noexcept { return impl_->pad_id; }
std::int32_t Tokenizer::unk_token_id() const noexcept { return impl_->unk_id; }
std::optional<std::int32_t> Tokenizer::mask_token_id() const noexcept { return impl_->mask_id; }

}  // namespace bertcpp
