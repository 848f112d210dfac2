// Loading a tokenizer.json (tokenizers' format): the sections every family shares (added tokens, post-processor,
// token names from tokenizer_config.json); the model-specific sections go to the family loader chosen by
// model.type (wordpiece/load.cpp, bpe/load.cpp).
#include <limits>

#include "tokenizer/loaders.hpp"

namespace bertcpp::tokenizer {
namespace {

using nlohmann::json;

void load_added_tokens(const Fields& f, const json& root, Tokenizer::Impl& impl) {
  auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return;
  f.array(*it, "added_tokens");
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& t = (*it)[i];
    const std::string path = "added_tokens[" + std::to_string(i) + "]";
    AddedToken a;
    a.id = static_cast<std::int32_t>(f.integer(f.require(t, "id", path + ".id"), path + ".id", 0, kMaxTokenId));
    a.content = f.string(f.require(t, "content", path + ".content"), path + ".content");
    a.special = f.optional_bool(t, "special", path + ".special", false);
    a.single_word = f.optional_bool(t, "single_word", path + ".single_word", false);
    a.lstrip = f.optional_bool(t, "lstrip", path + ".lstrip", false);
    a.rstrip = f.optional_bool(t, "rstrip", path + ".rstrip", false);
    a.normalized = f.optional_bool(t, "normalized", path + ".normalized", !a.special);
    impl.added_tokens.push_back(std::move(a));
  }
}

std::int32_t special_id(const Fields& f, const json& pair, const std::string& path) {
  if (!pair.is_array() || pair.size() != 2) f.fail(path, "must be [token, id]");
  f.string(pair[0], path + "[0]");
  return static_cast<std::int32_t>(f.integer(pair[1], path + "[1]", 0, kMaxTokenId));
}

std::vector<TemplatePiece> load_template(const Fields& f, const json& pieces, const std::string& path,
                                         const PostProcessor& pp) {
  f.array(pieces, path);
  std::vector<TemplatePiece> out;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    const json& piece = pieces[i];
    TemplatePiece t;
    if (piece.is_object() && piece.contains("Sequence")) {
      const json& s = piece["Sequence"];
      const std::string id = f.string(f.require(s, "id", p + ".Sequence.id"), p + ".Sequence.id");
      if (id != "A" && id != "B") f.fail(p + ".Sequence.id", "must be \"A\" or \"B\", found \"" + id + "\"");
      t.is_sequence = true;
      t.sequence = id == "A" ? 0 : 1;
      t.type_id = static_cast<std::int32_t>(f.integer(f.require(s, "type_id", p + ".Sequence.type_id"),
                                                      p + ".Sequence.type_id", 0, kMaxTokenId));
    } else if (piece.is_object() && piece.contains("SpecialToken")) {
      const json& s = piece["SpecialToken"];
      t.special = f.string(f.require(s, "id", p + ".SpecialToken.id"), p + ".SpecialToken.id");
      if (!pp.specials.count(t.special)) {
        f.fail(p + ".SpecialToken.id", "names '" + t.special + "', which is not in post_processor.special_tokens");
      }
      t.type_id = static_cast<std::int32_t>(f.integer(f.require(s, "type_id", p + ".SpecialToken.type_id"),
                                                      p + ".SpecialToken.type_id", 0, kMaxTokenId));
    } else {
      f.fail(p, "must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
    out.push_back(std::move(t));
  }
  return out;
}

// One post-processor object at `path` ("post_processor" or "post_processor.processors[i]").
void load_processor(const Fields& f, const json& p, const std::string& path, PostProcessor& pp) {
  const std::string type = f.string(f.require(p, "type", path + ".type"), path + ".type");
  if (type == "Sequence") {
    const json& list = f.require(p, "processors", path + ".processors");
    f.array(list, path + ".processors");
    for (std::size_t i = 0; i < list.size(); ++i)
      load_processor(f, list[i], path + ".processors[" + std::to_string(i) + "]", pp);
    return;
  }
  if (type == "ByteLevel") {
    pp.trim_offsets = f.optional_bool(p, "trim_offsets", path + ".trim_offsets", true);
    pp.trim_add_prefix_space = f.optional_bool(p, "add_prefix_space", path + ".add_prefix_space", true);
    return;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    const json& cls = f.require(p, "cls", path + ".cls");
    const json& sep = f.require(p, "sep", path + ".sep");
    const std::int32_t cls_id = special_id(f, cls, path + ".cls");
    const std::int32_t sep_id = special_id(f, sep, path + ".sep");
    const std::pair<std::string, std::int32_t> c{cls[0].get<std::string>(), cls_id}, s{sep[0].get<std::string>(), sep_id};
    if (type == "RobertaProcessing") {
      set_roberta_processing(pp, c, s, f.optional_bool(p, "trim_offsets", path + ".trim_offsets", true),
                             f.optional_bool(p, "add_prefix_space", path + ".add_prefix_space", true));
      return;
    }
    set_bert_processing(pp, c, s);
    return;
  }
  if (type != "TemplateProcessing") {
    f.fail(path + ".type",
           "is '" + type + "', only TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel and Sequence "
           "are supported",
           ErrorCode::unsupported);
  }
  pp.present = true;
  const json& specials = f.require(p, "special_tokens", path + ".special_tokens");
  if (!specials.is_object()) f.fail(path + ".special_tokens", "must be an object");
  for (auto s = specials.begin(); s != specials.end(); ++s) {
    const std::string field = path + ".special_tokens[\"" + s.key() + "\"]";
    TemplateSpecial def;
    const json& ids = f.require(s.value(), "ids", field + ".ids");
    const json& tokens = f.require(s.value(), "tokens", field + ".tokens");
    if (!ids.is_array() || !tokens.is_array() || ids.size() != tokens.size()) {
      f.fail(field, "must have arrays 'ids' and 'tokens' of the same length");
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
      def.ids.push_back(static_cast<std::int32_t>(f.integer(ids[i], field + ".ids[" + std::to_string(i) + "]", 0, kMaxTokenId)));
      def.tokens.push_back(f.string(tokens[i], field + ".tokens[" + std::to_string(i) + "]"));
    }
    pp.specials[s.key()] = std::move(def);
  }
  pp.single = load_template(f, f.require(p, "single", path + ".single"), path + ".single", pp);
  pp.pair = load_template(f, f.require(p, "pair", path + ".pair"), path + ".pair", pp);
}

void load_post_processor(const Fields& f, const json& root, Tokenizer::Impl& impl) {
  auto it = root.find("post_processor");
  if (it == root.end() || it->is_null()) return;
  load_processor(f, *it, "post_processor", impl.post_processor);
}

void read_config_file(const std::filesystem::path& file, const json& cfg, Tokenizer::WordPieceOptions& o,
                      bool& has_max, bool full) {
  const Fields f(file.string());
  for (const char* key : {"unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}) {
    std::string* target = key == std::string_view("unk_token")   ? &o.unk_token
                          : key == std::string_view("sep_token") ? &o.sep_token
                          : key == std::string_view("pad_token") ? &o.pad_token
                          : key == std::string_view("cls_token") ? &o.cls_token
                                                                 : &o.mask_token;
    read_token_field(f, cfg, key, *target);
  }
  if (!full) return;
  o.do_lower_case = f.optional_bool(cfg, "do_lower_case", "do_lower_case", o.do_lower_case);
  if (auto it = cfg.find("strip_accents"); it != cfg.end()) {
    if (it->is_null()) o.strip_accents.reset();
    else o.strip_accents = f.boolean(*it, "strip_accents");
  }
  o.tokenize_chinese_chars =
      f.optional_bool(cfg, "tokenize_chinese_chars", "tokenize_chinese_chars", o.tokenize_chinese_chars);
  if (auto it = cfg.find("never_split"); it != cfg.end() && !it->is_null()) {
    f.array(*it, "never_split", "an array or null");
    o.never_split.clear();
    for (std::size_t i = 0; i < it->size(); ++i)
      o.never_split.push_back(f.string((*it)[i], "never_split[" + std::to_string(i) + "]"));
  }
  has_max = read_model_max_length(f, cfg, o.model_max_length) || has_max;
}

// Dispatch on model.type (absent in old WordPiece files).
std::string model_type(const Fields& f, const json& root) {
  const json& m = f.require(root, "model", "model");
  auto it = m.find("type");
  return it == m.end() ? "WordPiece" : f.string(*it, "model.type");
}

std::unique_ptr<const SegmentEncoder> model_from_json(const Fields& f, const json& root) {
  const std::string type = model_type(f, root);
  if (type == "WordPiece") return wordpiece_from_json(f, root);
  if (type == "BPE") return bpe_from_json(f, root);
  f.fail("model.type", "is '" + type + "', only WordPiece and BPE are supported", ErrorCode::unsupported);
}

// transformers passes tokenizer_config.json's add_prefix_space / trim_offsets to its BPE tokenizer classes,
// which rebuild the ByteLevel pre-tokenizer and the post-processor with them: patch the JSON the same way.
void apply_byte_level_config(const SettingsFiles& settings, json& root) {
  if (!settings.tokenizer_config) return;
  const json& cfg = *settings.tokenizer_config;
  const Fields f(settings.tokenizer_config_file().string());
  const auto patch = [&](json* target, const char* key) {
    if (target == nullptr || !target->is_object() || !cfg.contains(key) || cfg[key].is_null()) return;
    (*target)[key] = f.boolean(cfg[key], key);
  };
  json* pre = root.contains("pre_tokenizer") ? &root["pre_tokenizer"] : nullptr;
  if (pre && pre->is_object() && pre->value("type", "") == "ByteLevel") patch(pre, "add_prefix_space");
  json* post = root.contains("post_processor") ? &root["post_processor"] : nullptr;
  if (post && post->is_object()) {
    const std::string type = post->value("type", "");
    if (type == "RobertaProcessing" || type == "ByteLevel") {
      patch(post, "add_prefix_space");
      patch(post, "trim_offsets");
    }
  }
}

}  // namespace

TemplatePiece special_piece(const std::string& token, std::int32_t type_id) {
  TemplatePiece t;
  t.special = token;
  t.type_id = type_id;
  return t;
}

TemplatePiece sequence_piece(int sequence, std::int32_t type_id) {
  TemplatePiece t;
  t.is_sequence = true;
  t.sequence = sequence;
  t.type_id = type_id;
  return t;
}

void set_bert_processing(PostProcessor& pp, const std::pair<std::string, std::int32_t>& cls,
                         const std::pair<std::string, std::int32_t>& sep) {
  pp.present = true;
  pp.specials[cls.first] = {{cls.second}, {cls.first}};
  pp.specials[sep.first] = {{sep.second}, {sep.first}};
  // [CLS] A [SEP] and [CLS] A [SEP] B [SEP], type ids 0 then 1.
  pp.single = {special_piece(cls.first, 0), sequence_piece(0, 0), special_piece(sep.first, 0)};
  pp.pair = {special_piece(cls.first, 0), sequence_piece(0, 0), special_piece(sep.first, 0), sequence_piece(1, 1),
             special_piece(sep.first, 1)};
}

bool read_model_max_length(const Fields& f, const json& cfg, std::size_t& out) {
  const json* v = f.find(cfg, "model_max_length", "model_max_length");
  if (!v) return false;
  // transformers writes 1e30 (a float) for "no limit"; keep the default then.
  if (!v->is_number_integer()) {
    f.number(*v, "model_max_length");
    return false;
  }
  out = static_cast<std::size_t>(f.integer(*v, "model_max_length", 1, std::numeric_limits<std::int64_t>::max()));
  return true;
}

void set_roberta_processing(PostProcessor& pp, const std::pair<std::string, std::int32_t>& cls,
                            const std::pair<std::string, std::int32_t>& sep, bool trim_offsets, bool add_prefix_space) {
  pp.present = true;
  pp.specials[cls.first] = {{cls.second}, {cls.first}};
  pp.specials[sep.first] = {{sep.second}, {sep.first}};
  // <s> A </s> and <s> A </s> </s> B </s>, every type id 0.
  pp.single = {special_piece(cls.first, 0), sequence_piece(0, 0), special_piece(sep.first, 0)};
  pp.pair = {special_piece(cls.first, 0), sequence_piece(0, 0), special_piece(sep.first, 0),
             special_piece(sep.first, 0), sequence_piece(1, 0), special_piece(sep.first, 0)};
  pp.trim_offsets = trim_offsets;
  pp.trim_add_prefix_space = add_prefix_space;
  pp.retype_overflowing = true;
}

std::string special_token_name(const Fields& f, const json& value, const std::string& path) {
  if (value.is_object()) return f.string(f.require(value, "content", path + ".content"), path + ".content");
  return f.string(value, path);
}

void read_token_field(const Fields& f, const json& cfg, const char* key, std::string& out) {
  if (const json* v = f.find(cfg, key, key)) out = special_token_name(f, *v, key);
}

SettingsFiles SettingsFiles::read(const std::filesystem::path& dir) {
  SettingsFiles s;
  s.dir = dir;
  const auto read = [](const std::filesystem::path& file) -> std::optional<json> {
    if (!common::entry_exists(file)) return std::nullopt;
    return common::read_json_object(file, common::kMaxSettingsFileBytes);
  };
  s.tokenizer_config = read(s.tokenizer_config_file());
  s.special_tokens_map = read(s.special_tokens_map_file());
  return s;
}

std::optional<std::string> SettingsFiles::tokenizer_class() const {
  if (!tokenizer_config) return std::nullopt;
  const auto it = tokenizer_config->find("tokenizer_class");
  if (it == tokenizer_config->end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

const weights::ModelSpec* SettingsFiles::model_spec() const {
  const std::filesystem::path config = dir / "config.json";
  if (!common::entry_exists(config)) return nullptr;
  const json model_cfg = common::read_json_object(config, common::kMaxSettingsFileBytes);
  const auto it = model_cfg.find("model_type");
  if (it == model_cfg.end() || !it->is_string()) return nullptr;
  return weights::find_model_spec(it->get<std::string>());
}

void read_tokenizer_config(const SettingsFiles& settings, Tokenizer::WordPieceOptions& options,
                           bool& has_model_max_length) {
  // special_tokens_map.json first; tokenizer_config.json (read second) wins where both name a token.
  if (settings.special_tokens_map)
    read_config_file(settings.special_tokens_map_file(), *settings.special_tokens_map, options, has_model_max_length,
                     false);
  if (settings.tokenizer_config)
    read_config_file(settings.tokenizer_config_file(), *settings.tokenizer_config, options, has_model_max_length,
                     true);
}

std::shared_ptr<const Tokenizer::Impl> load_tokenizer_json(const std::filesystem::path& file,
                                                           const std::filesystem::path* config_dir) {
  json root = common::read_json_object(file, common::kMaxTokenizerFileBytes);
  const Fields f(file.string());
  const std::optional<SettingsFiles> settings =
      config_dir ? std::optional<SettingsFiles>(SettingsFiles::read(*config_dir)) : std::nullopt;
  const bool bpe = model_type(f, root) == "BPE";
  if (bpe && settings) apply_byte_level_config(*settings, root);
  auto impl = std::make_shared<Tokenizer::Impl>();
  impl->source = file.string();
  impl->model = model_from_json(f, root);
  load_added_tokens(f, root, *impl);
  load_post_processor(f, root, *impl);

  // Token names and model_max_length: tokenizer_config.json next to the file when there is one; otherwise
  // the post-processor's first and last special tokens and tokenizer.json's own truncation length.
  Tokenizer::WordPieceOptions names;
  if (bpe) {  // RoBERTa's names unless the configuration says otherwise
    const Tokenizer::BpeOptions roberta;
    names.unk_token = roberta.unk_token;
    names.sep_token = roberta.sep_token;
    names.pad_token = roberta.pad_token;
    names.cls_token = roberta.cls_token;
    names.mask_token = roberta.mask_token;
  }
  bool has_max = false;
  if (settings) read_tokenizer_config(*settings, names, has_max);
  if (!config_dir && impl->post_processor.present && !impl->post_processor.single.empty()) {
    const auto& single = impl->post_processor.single;
    if (!single.front().is_sequence) names.cls_token = single.front().special;
    if (!single.back().is_sequence) names.sep_token = single.back().special;
  }
  impl->model_max_length = names.model_max_length;
  if (!has_max) {
    if (auto t = root.find("truncation"); t != root.end() && t->is_object() && t->contains("max_length")) {
      impl->model_max_length = static_cast<std::size_t>(
          f.integer((*t)["max_length"], "truncation.max_length", 1, std::numeric_limits<std::int64_t>::max()));
    }
  }
  if (auto p = root.find("padding"); p != root.end() && p->is_object() && p->contains("pad_token")) {
    names.pad_token = f.string((*p)["pad_token"], "padding.pad_token");
  }
  impl->finalize(names.cls_token, names.sep_token, names.pad_token, names.mask_token);
  if (impl->unk_id < 0) {  // a BPE model without unk_token: the configured name still has an id
    if (auto id = impl->token_to_id(names.unk_token)) impl->unk_id = *id;
  }
  return impl;
}


}  // namespace bertcpp::tokenizer
