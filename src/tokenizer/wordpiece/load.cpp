// WordPiece tokenizers: the tokenizer.json sections of the BERT pipeline, and a plain vocab.txt.
#include <limits>
#include <optional>

#include "tokenizer/loaders.hpp"
#include "tokenizer/utf8.hpp"
#include "tokenizer/wordpiece/encoder.hpp"

namespace bertcpp::tokenizer {
namespace {

using nlohmann::json;

std::optional<Normalizer> load_normalizer(const Fields& f, const json& root) {
  auto it = root.find("normalizer");
  if (it == root.end() || it->is_null()) return std::nullopt;
  const json& n = *it;
  const std::string type = f.string(f.require(n, "type", "normalizer.type"), "normalizer.type");
  if (type != "BertNormalizer") {
    f.fail("normalizer.type", "is '" + type + "', only BertNormalizer (or null) is supported", ErrorCode::unsupported);
  }
  NormalizerOptions o;
  o.clean_text = f.optional_bool(n, "clean_text", "normalizer.clean_text", true);
  o.handle_chinese_chars = f.optional_bool(n, "handle_chinese_chars", "normalizer.handle_chinese_chars", true);
  o.lowercase = f.optional_bool(n, "lowercase", "normalizer.lowercase", true);
  o.strip_accents = f.optional_bool(n, "strip_accents", "normalizer.strip_accents", o.lowercase);
  return Normalizer(o);
}

// true: BertPreTokenizer; false: none.
bool load_pre_tokenizer(const Fields& f, const json& root) {
  auto it = root.find("pre_tokenizer");
  if (it == root.end() || it->is_null()) return false;
  const std::string type = f.string(f.require(*it, "type", "pre_tokenizer.type"), "pre_tokenizer.type");
  if (type != "BertPreTokenizer") {
    f.fail("pre_tokenizer.type",
           "is '" + type + "', only BertPreTokenizer (or null) is supported with a WordPiece model",
           ErrorCode::unsupported);
  }
  return true;
}

WordPiece load_model(const Fields& f, const json& root) {
  const json& m = f.require(root, "model", "model");
  WordPieceOptions o;
  o.unk_token = f.string(f.require(m, "unk_token", "model.unk_token"), "model.unk_token");
  if (auto it = m.find("continuing_subword_prefix"); it != m.end() && !it->is_null())
    o.continuing_subword_prefix = f.string(*it, "model.continuing_subword_prefix");
  if (auto it = m.find("max_input_chars_per_word"); it != m.end() && !it->is_null())
    o.max_input_chars_per_word = static_cast<std::size_t>(
        f.integer(*it, "model.max_input_chars_per_word", 0, std::numeric_limits<std::int64_t>::max()));
  const json& vocab = f.require(m, "vocab", "model.vocab");
  f.object(vocab, "model.vocab", "an object token -> id");
  std::vector<std::string> tokens(vocab.size());
  std::vector<bool> seen(vocab.size(), false);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const std::string path = "model.vocab[\"" + it.key() + "\"]";
    const auto id = f.integer(it.value(), path, 0, kMaxTokenId);
    if (static_cast<std::size_t>(id) >= tokens.size()) {
      f.fail(path, "is " + std::to_string(id) + ", ids must be 0.." + std::to_string(tokens.size() - 1) +
                       " (one per token)");
    }
    if (seen[static_cast<std::size_t>(id)]) f.fail(path, "repeats id " + std::to_string(id));
    seen[static_cast<std::size_t>(id)] = true;
    tokens[static_cast<std::size_t>(id)] = it.key();
  }
  return WordPiece(std::move(tokens), std::move(o), f.source());
}

WordPieceDecoderOptions load_decoder(const Fields& f, const json& root) {
  WordPieceDecoderOptions d;
  auto it = root.find("decoder");
  if (it == root.end() || it->is_null()) {
    d.present = false;
    return d;
  }
  const std::string type = f.string(f.require(*it, "type", "decoder.type"), "decoder.type");
  if (type != "WordPiece") {
    f.fail("decoder.type", "is '" + type + "', only WordPiece is supported with a WordPiece model",
           ErrorCode::unsupported);
  }
  if (auto p = it->find("prefix"); p != it->end()) d.prefix = f.string(*p, "decoder.prefix");
  d.cleanup = f.optional_bool(*it, "cleanup", "decoder.cleanup", true);
  return d;
}

}  // namespace

std::unique_ptr<const SegmentEncoder> wordpiece_from_json(const Fields& f, const json& root) {
  auto normalizer = load_normalizer(f, root);
  const bool pre_tokenize = load_pre_tokenizer(f, root);
  WordPiece model = load_model(f, root);
  return std::make_unique<WordPieceEncoder>(std::move(normalizer), pre_tokenize, std::move(model),
                                            load_decoder(f, root));
}

bool mpnet_vocab_layout(const SettingsFiles& settings, Tokenizer::WordPieceOptions& options) {
  bool mpnet = false;
  if (const std::optional<std::string> c = settings.tokenizer_class()) {
    mpnet = *c == "MPNetTokenizer" || *c == "MPNetTokenizerFast";
  } else if (const weights::ModelSpec* spec = settings.model_spec()) {
    mpnet = spec->vocab_txt == weights::VocabTxtStyle::mpnet;
  }
  if (mpnet) {
    options.cls_token = "<s>";
    options.sep_token = "</s>";
    options.unk_token = "[UNK]";
    options.pad_token = "<pad>";
    options.mask_token = "<mask>";
  }
  return mpnet;
}

std::shared_ptr<const Tokenizer::Impl> load_vocab(const std::filesystem::path& vocab_txt,
                                                  const Tokenizer::WordPieceOptions& options, bool mpnet_layout) {
  const std::string text = common::read_regular_file(vocab_txt, common::kMaxTokenizerFileBytes);
  // One token per line; \n, \r\n and \r all end a line (Python's universal newlines).
  std::vector<std::string> tokens;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    tokens.emplace_back(text, start, i - start);
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) tokens.emplace_back(text, start, text.size() - start);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    try {
      validate_utf8(tokens[i], "token");
    } catch (const Utf8Error& e) {
      throw FormatError(vocab_txt.string() + ": line " + std::to_string(i + 1) + ": " + e.what());
    }
  }
  if (tokens.empty()) throw FormatError(vocab_txt.string() + ": the vocabulary is empty");

  auto impl = std::make_shared<Tokenizer::Impl>();
  impl->source = vocab_txt.string();
  NormalizerOptions n;
  n.clean_text = true;
  n.handle_chinese_chars = options.tokenize_chinese_chars;
  n.lowercase = options.do_lower_case;
  n.strip_accents = options.strip_accents.value_or(options.do_lower_case);
  WordPieceOptions wp;
  wp.unk_token = options.unk_token;
  auto encoder = std::make_unique<WordPieceEncoder>(Normalizer(n), true,
                                                    WordPiece(std::move(tokens), wp, vocab_txt.string()),
                                                    WordPieceDecoderOptions{});
  const WordPiece& model = encoder->model();
  impl->model = std::move(encoder);

  // Special tokens and never_split entries are kept whole, matched in the original text (as transformers'
  // fast BERT tokenizer converted from this vocabulary does for its special tokens).
  auto add = [&](const std::string& content, bool special) {
    if (content.empty()) return;
    for (const auto& t : impl->added_tokens)
      if (t.content == content) return;
    const auto id = model.token_to_id(content);
    if (!id) {
      if (special) return;  // a special token missing from the vocabulary cannot be produced
      throw ConfigError(vocab_txt.string() + ": never_split token '" + content + "' is not in the vocabulary");
    }
    AddedToken t;
    t.content = content;
    t.id = *id;
    t.special = special;
    t.lstrip = mpnet_layout && content == options.mask_token;  // MPNetTokenizer's mask "includes the space before it"
    impl->added_tokens.push_back(std::move(t));
  };
  for (const std::string* s : {&options.pad_token, &options.unk_token, &options.cls_token, &options.sep_token,
                               &options.mask_token})
    add(*s, true);
  for (const std::string& s : options.never_split) add(s, false);

  PostProcessor& pp = impl->post_processor;
  const auto cls = model.token_to_id(options.cls_token);
  const auto sep = model.token_to_id(options.sep_token);
  if (!cls || !sep) {
    throw ConfigError(vocab_txt.string() + ": cls_token '" + options.cls_token + "' and sep_token '" +
                      options.sep_token + "' must be in the vocabulary");
  }
  if (mpnet_layout) {
    set_roberta_processing(pp, {options.cls_token, *cls}, {options.sep_token, *sep}, /*trim_offsets=*/true,
                           /*add_prefix_space=*/false);
  } else {
    set_bert_processing(pp, {options.cls_token, *cls}, {options.sep_token, *sep});
  }
  impl->model_max_length = options.model_max_length;
  impl->finalize(options.cls_token, options.sep_token, options.pad_token, options.mask_token);
  return impl;
}

}  // namespace bertcpp::tokenizer
