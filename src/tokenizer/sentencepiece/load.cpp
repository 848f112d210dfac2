// Loading a SentencePiece tokenizer directory: the model file, tokenizer_config.json / special_tokens_map.json,
// and the family's special tokens and post-processor template (transformers' AlbertTokenizer /
// XLMRobertaTokenizer).
#include <limits>

#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "tokenizer/loaders.hpp"
#include "tokenizer/sentencepiece/encoder.hpp"
#include "weights/model_spec.hpp"

namespace bertcpp::tokenizer {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// The settings transformers' tokenizer class takes, with its defaults.
struct SentencePieceConfig {
  SentencePieceVariant variant = SentencePieceVariant::albert;
  bool do_lower_case = true;     // ALBERT
  bool keep_accents = false;     // ALBERT
  bool add_prefix_space = true;  // Metaspace prepend_scheme always / never
  std::string bos, eos, unk, sep, pad, cls, mask;
  std::vector<std::string> extra_special;  // extra_special_tokens / additional_special_tokens
  std::size_t model_max_length = 512;
};

// transformers' additional_special_tokens / extra_special_tokens: a list of token names (null items skipped).
void read_token_list(const Fields& f, const json& cfg, const char* key, std::vector<std::string>& out) {
  const json* list = f.find(cfg, key, key);
  if (!list) return;
  f.array(*list, key, "an array of tokens");
  for (std::size_t i = 0; i < list->size(); ++i) {
    if ((*list)[i].is_null()) continue;
    std::string name = special_token_name(f, (*list)[i], std::string(key) + "[" + std::to_string(i) + "]");
    if (!name.empty()) out.push_back(std::move(name));
  }
}

SentencePieceVariant variant_of(const SettingsFiles& settings, const fs::path& model_file) {
  if (const std::optional<std::string> c = settings.tokenizer_class()) {
    if (*c == "AlbertTokenizer" || *c == "AlbertTokenizerFast") return SentencePieceVariant::albert;
    if (*c == "XLMRobertaTokenizer" || *c == "XLMRobertaTokenizerFast") return SentencePieceVariant::xlm_roberta;
    throw UnsupportedError(settings.tokenizer_config_file().string() + ": tokenizer_class '" + *c + "' with " +
                           model_file.filename().string() +
                           " is not supported (AlbertTokenizer and XLMRobertaTokenizer are)");
  }
  // The model-type registry says which SentencePiece tokenizer the type uses.
  if (const weights::ModelSpec* spec = settings.model_spec()) {
    if (spec->sentencepiece == weights::SentencePieceStyle::albert) return SentencePieceVariant::albert;
    if (spec->sentencepiece == weights::SentencePieceStyle::xlm_roberta) return SentencePieceVariant::xlm_roberta;
  }
  return model_file.filename() == "spiece.model" ? SentencePieceVariant::albert : SentencePieceVariant::xlm_roberta;
}

SentencePieceConfig read_config(const SettingsFiles& settings, const fs::path& model_file) {
  SentencePieceConfig c;
  c.variant = variant_of(settings, model_file);
  if (c.variant == SentencePieceVariant::albert) {
    c.bos = "[CLS]", c.eos = "[SEP]", c.unk = "<unk>", c.sep = "[SEP]", c.pad = "<pad>", c.cls = "[CLS]";
    c.mask = "[MASK]";
  } else {
    c.bos = "<s>", c.eos = "</s>", c.unk = "<unk>", c.sep = "</s>", c.pad = "<pad>", c.cls = "<s>";
    c.mask = "<mask>";
  }
  // special_tokens_map.json first; tokenizer_config.json (read second) wins where both name a token.
  // A wrong value in these files is a ConfigError here (transformers' tokenizer class rejects the setting).
  for (const auto& [file, j] : {std::pair{settings.special_tokens_map_file(), &settings.special_tokens_map},
                                std::pair{settings.tokenizer_config_file(), &settings.tokenizer_config}}) {
    if (!*j) continue;
    const Fields f(file.string(), ErrorCode::config);
    read_token_field(f, **j, "bos_token", c.bos);
    read_token_field(f, **j, "eos_token", c.eos);
    read_token_field(f, **j, "unk_token", c.unk);
    read_token_field(f, **j, "sep_token", c.sep);
    read_token_field(f, **j, "pad_token", c.pad);
    read_token_field(f, **j, "cls_token", c.cls);
    read_token_field(f, **j, "mask_token", c.mask);
    read_token_list(f, **j, "additional_special_tokens", c.extra_special);
    read_token_list(f, **j, "extra_special_tokens", c.extra_special);
  }
  if (const std::optional<json>& cfg = settings.tokenizer_config) {
    const Fields f(settings.tokenizer_config_file().string(), ErrorCode::config);
    c.do_lower_case = f.optional_bool(*cfg, "do_lower_case", "do_lower_case", c.do_lower_case);
    c.keep_accents = f.optional_bool(*cfg, "keep_accents", "keep_accents", c.keep_accents);
    c.add_prefix_space = f.optional_bool(*cfg, "add_prefix_space", "add_prefix_space", c.add_prefix_space);
    read_model_max_length(f, *cfg, c.model_max_length);
  }
  return c;
}

}  // namespace

std::optional<fs::path> find_sentencepiece_model(const fs::path& dir) {
  for (const char* name : {"spiece.model", "sentencepiece.bpe.model"}) {
    if (common::entry_exists(dir / name)) return dir / name;
  }
  return std::nullopt;
}

std::shared_ptr<const Tokenizer::Impl> load_sentencepiece(const fs::path& dir, const fs::path& model_file) {
  const SentencePieceConfig c = read_config(SettingsFiles::read(dir), model_file);
  SentencePieceModel model = SentencePieceModel::load(model_file, c.variant);
  SentencePieceNormalizerOptions n;
  if (c.variant == SentencePieceVariant::albert) {
    n.replace_quotes = true;
    n.nfkd_strip_accents = !c.keep_accents;
    n.lowercase = c.do_lower_case;
  }
  PrecompiledCharsmap charsmap(model.precompiled_charsmap(), model_file.string());
  SentencePiecePipeline pipeline(model, SentencePieceNormalizer(n, std::move(charsmap)), c.add_prefix_space);

  auto impl = std::make_shared<Tokenizer::Impl>();
  impl->source = model_file.string();
  impl->model = std::make_unique<SentencePieceEncoder>(std::move(pipeline));

  // Special tokens are added tokens matched in the original text (normalized = false), as transformers
  // registers them; one missing from the model's vocabulary gets the next free id, as add_tokens does.
  std::int32_t next_id = static_cast<std::int32_t>(model.size());
  const auto add = [&](const std::string& content) {
    if (content.empty()) return;
    for (const AddedToken& t : impl->added_tokens)
      if (t.content == content) return;
    AddedToken t;
    t.content = content;
    t.id = model.token_to_id(content).value_or(next_id);
    if (t.id == next_id) ++next_id;
    t.special = true;
    t.normalized = false;
    impl->added_tokens.push_back(std::move(t));
  };
  for (const std::string* s : {&c.bos, &c.eos, &c.unk, &c.sep, &c.pad, &c.cls, &c.mask}) add(*s);
  for (const std::string& s : c.extra_special) add(s);
  const auto id_of = [&](const std::string& token) {
    for (const AddedToken& t : impl->added_tokens)
      if (t.content == token) return t.id;
    return model.token_to_id(token).value_or(-1);
  };

  // transformers' templates: ALBERT "[CLS] A [SEP]" / "[CLS] A [SEP] B [SEP]" with type ids 0 then 1;
  // XLM-R "<s> A </s>" / "<s> A </s> </s> B </s>", all type ids 0.
  PostProcessor& pp = impl->post_processor;
  if (c.variant == SentencePieceVariant::albert) {
    set_bert_processing(pp, {c.cls, id_of(c.cls)}, {c.sep, id_of(c.sep)});
  } else {
    pp.present = true;
    pp.specials[c.bos] = {{id_of(c.bos)}, {c.bos}};
    pp.specials[c.eos] = {{id_of(c.eos)}, {c.eos}};
    pp.single = {special_piece(c.bos, 0), sequence_piece(0, 0), special_piece(c.eos, 0)};
    pp.pair = {special_piece(c.bos, 0), sequence_piece(0, 0), special_piece(c.eos, 0), special_piece(c.eos, 0),
               sequence_piece(1, 0), special_piece(c.eos, 0)};
  }
  impl->model_max_length = c.model_max_length;
  impl->finalize(c.cls, c.sep, c.pad, c.mask);
  return impl;
}

}  // namespace bertcpp::tokenizer
