// Loading a SentencePiece tokenizer directory: the model file, tokenizer_config.json / special_tokens_map.json,
// and the family's special tokens and post-processor template (transformers' AlbertTokenizer /
// XLMRobertaTokenizer).
#include <limits>

#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "common/file_io.hpp"
#include "common/json_io.hpp"
#include "tokenizer/sentencepiece/encoder.hpp"
#include "tokenizer/tokenizer_impl.hpp"

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

std::optional<json> read_json(const fs::path& file) {
  if (!common::entry_exists(file)) return std::nullopt;
  json j = common::read_json_file(file, common::kMaxSettingsFileBytes);
  if (!j.is_object()) throw FormatError(file.string() + ": expected a JSON object at the top level");
  return j;
}

[[noreturn]] void bad_field(const fs::path& file, const std::string& field, const std::string& expected,
                            const json& found) {
  throw ConfigError(file.string() + ": field '" + field + "' must be " + expected + ", found " + found.type_name());
}

// A token name: "[CLS]" or {"content": "[CLS]", ...}; null or absent keeps `out`.
void token_field(const fs::path& file, const json& cfg, const char* key, std::string& out) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return;
  if (it->is_string()) {
    out = it->get<std::string>();
  } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    out = (*it)["content"].get<std::string>();
  } else {
    bad_field(file, key, "a string or {\"content\": string}", *it);
  }
}

void bool_field(const fs::path& file, const json& cfg, const char* key, bool& out) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return;
  if (!it->is_boolean()) bad_field(file, key, "a boolean", *it);
  out = it->get<bool>();
}

void token_list_field(const fs::path& file, const json& cfg, const char* key, std::vector<std::string>& out) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return;
  if (!it->is_array()) bad_field(file, key, "an array of tokens", *it);
  for (std::size_t i = 0; i < it->size(); ++i) {
    std::string name;
    token_field(file, json{{"t", (*it)[i]}}, "t", name);
    if (!name.empty()) out.push_back(name);
  }
}

SentencePieceVariant variant_of(const fs::path& dir, const fs::path& model_file, const std::optional<json>& cfg) {
  const fs::path cfg_file = dir / "tokenizer_config.json";
  if (cfg) {
    if (auto it = cfg->find("tokenizer_class"); it != cfg->end() && it->is_string()) {
      const std::string c = it->get<std::string>();
      if (c == "AlbertTokenizer" || c == "AlbertTokenizerFast") return SentencePieceVariant::albert;
      if (c == "XLMRobertaTokenizer" || c == "XLMRobertaTokenizerFast") return SentencePieceVariant::xlm_roberta;
      throw UnsupportedError(cfg_file.string() + ": tokenizer_class '" + c + "' with " +
                             model_file.filename().string() +
                             " is not supported (AlbertTokenizer and XLMRobertaTokenizer are)");
    }
  }
  if (auto model_cfg = read_json(dir / "config.json")) {
    if (auto it = model_cfg->find("model_type"); it != model_cfg->end() && it->is_string()) {
      if (*it == "albert") return SentencePieceVariant::albert;
      if (*it == "xlm-roberta") return SentencePieceVariant::xlm_roberta;
    }
  }
  return model_file.filename() == "spiece.model" ? SentencePieceVariant::albert : SentencePieceVariant::xlm_roberta;
}

SentencePieceConfig read_config(const fs::path& dir, const fs::path& model_file) {
  const fs::path cfg_file = dir / "tokenizer_config.json";
  const fs::path map_file = dir / "special_tokens_map.json";
  const std::optional<json> cfg = read_json(cfg_file);
  SentencePieceConfig c;
  c.variant = variant_of(dir, model_file, cfg);
  if (c.variant == SentencePieceVariant::albert) {
    c.bos = "[CLS]", c.eos = "[SEP]", c.unk = "<unk>", c.sep = "[SEP]", c.pad = "<pad>", c.cls = "[CLS]";
    c.mask = "[MASK]";
  } else {
    c.bos = "<s>", c.eos = "</s>", c.unk = "<unk>", c.sep = "</s>", c.pad = "<pad>", c.cls = "<s>";
    c.mask = "<mask>";
  }
  // special_tokens_map.json first; tokenizer_config.json (read second) wins where both name a token.
  for (const auto& [file, j] : {std::pair{map_file, read_json(map_file)}, std::pair{cfg_file, cfg}}) {
    if (!j) continue;
    token_field(file, *j, "bos_token", c.bos);
    token_field(file, *j, "eos_token", c.eos);
    token_field(file, *j, "unk_token", c.unk);
    token_field(file, *j, "sep_token", c.sep);
    token_field(file, *j, "pad_token", c.pad);
    token_field(file, *j, "cls_token", c.cls);
    token_field(file, *j, "mask_token", c.mask);
    token_list_field(file, *j, "additional_special_tokens", c.extra_special);
    token_list_field(file, *j, "extra_special_tokens", c.extra_special);
  }
  if (cfg) {
    bool_field(cfg_file, *cfg, "do_lower_case", c.do_lower_case);
    bool_field(cfg_file, *cfg, "keep_accents", c.keep_accents);
    bool_field(cfg_file, *cfg, "add_prefix_space", c.add_prefix_space);
    if (auto it = cfg->find("model_max_length"); it != cfg->end() && !it->is_null()) {
      // transformers writes 1e30 (a float) for "no limit"; keep the default then.
      if (it->is_number_integer()) {
        const auto v = it->get<std::int64_t>();
        if (v < 1) throw ConfigError(cfg_file.string() + ": field 'model_max_length' must be >= 1, found " +
                                     std::to_string(v));
        c.model_max_length = static_cast<std::size_t>(v);
      } else if (!it->is_number()) {
        bad_field(cfg_file, "model_max_length", "a number", *it);
      }
    }
  }
  return c;
}

TemplatePiece special(const std::string& token, std::int32_t type_id) {
  TemplatePiece t;
  t.special = token;
  t.type_id = type_id;
  return t;
}

TemplatePiece sequence(int which, std::int32_t type_id) {
  TemplatePiece t;
  t.is_sequence = true;
  t.sequence = which;
  t.type_id = type_id;
  return t;
}

}  // namespace

std::optional<fs::path> find_sentencepiece_model(const fs::path& dir) {
  for (const char* name : {"spiece.model", "sentencepiece.bpe.model"}) {
    if (common::entry_exists(dir / name)) return dir / name;
  }
  return std::nullopt;
}

std::shared_ptr<const Tokenizer::Impl> load_sentencepiece(const fs::path& dir, const fs::path& model_file) {
  const SentencePieceConfig c = read_config(dir, model_file);
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
  pp.present = true;
  if (c.variant == SentencePieceVariant::albert) {
    pp.specials[c.cls] = {{id_of(c.cls)}, {c.cls}};
    pp.specials[c.sep] = {{id_of(c.sep)}, {c.sep}};
    pp.single = {special(c.cls, 0), sequence(0, 0), special(c.sep, 0)};
    pp.pair = {special(c.cls, 0), sequence(0, 0), special(c.sep, 0), sequence(1, 1), special(c.sep, 1)};
  } else {
    pp.specials[c.bos] = {{id_of(c.bos)}, {c.bos}};
    pp.specials[c.eos] = {{id_of(c.eos)}, {c.eos}};
    pp.single = {special(c.bos, 0), sequence(0, 0), special(c.eos, 0)};
    pp.pair = {special(c.bos, 0), sequence(0, 0), special(c.eos, 0), special(c.eos, 0), sequence(1, 0),
               special(c.eos, 0)};
  }
  impl->model_max_length = c.model_max_length;
  impl->finalize(c.cls, c.sep, c.pad, c.mask);
  return impl;
}

}  // namespace bertcpp::tokenizer
