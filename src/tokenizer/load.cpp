// Loading a tokenizer: tokenizer.json (tokenizers' format) or vocab.txt + tokenizer_config.json.
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer {
namespace {

using nlohmann::json;

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw IoError(file.string() + ": cannot open for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError(file.string() + ": read error");
  return ss.str();
}

json parse_json(const std::filesystem::path& file) {
  const std::string text = read_text(file);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw FormatError(file.string() + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  }
}

// Typed field access with messages naming the file and the field path.
class Fields {
 public:
  explicit Fields(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw FormatError(file_ + ": field '" + path + "' " + what);
  }
  static const char* type_name(const json& j) { return j.type_name(); }

  const json& require(const json& obj, const std::string& key, const std::string& path) const {
    if (!obj.is_object()) fail(path, std::string("must be inside an object, found ") + type_name(obj));
    auto it = obj.find(key);
    if (it == obj.end()) fail(path, "is missing");
    return *it;
  }
  std::string string(const json& j, const std::string& path) const {
    if (!j.is_string()) fail(path, std::string("must be a string, found ") + type_name(j));
    return j.get<std::string>();
  }
  bool boolean(const json& j, const std::string& path) const {
    if (!j.is_boolean()) fail(path, std::string("must be a boolean, found ") + type_name(j));
    return j.get<bool>();
  }
  std::int64_t integer(const json& j, const std::string& path, std::int64_t min, std::int64_t max) const {
    if (!j.is_number_integer()) fail(path, std::string("must be an integer, found ") + type_name(j));
    const auto v = j.get<std::int64_t>();
    if (v < min || v > max) {
      fail(path, "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], found " + std::to_string(v));
    }
    return v;
  }
  bool optional_bool(const json& obj, const std::string& key, const std::string& path, bool fallback) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fallback;
    return boolean(*it, path);
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

constexpr std::int64_t kMaxId = std::numeric_limits<std::int32_t>::max();

void load_normalizer(const Fields& f, const json& root, Tokenizer::Impl& impl) {
  auto it = root.find("normalizer");
  if (it == root.end() || it->is_null()) return;
  const json& n = *it;
  const std::string type = f.string(f.require(n, "type", "normalizer.type"), "normalizer.type");
  if (type != "BertNormalizer") {
    throw UnsupportedError(f.file() + ": field 'normalizer.type' is '" + type +
                           "', only BertNormalizer (or null) is supported");
  }
  NormalizerOptions o;
  o.clean_text = f.optional_bool(n, "clean_text", "normalizer.clean_text", true);
  o.handle_chinese_chars = f.optional_bool(n, "handle_chinese_chars", "normalizer.handle_chinese_chars", true);
  o.lowercase = f.optional_bool(n, "lowercase", "normalizer.lowercase", true);
  o.strip_accents = f.optional_bool(n, "strip_accents", "normalizer.strip_accents", o.lowercase);
  impl.has_normalizer = true;
  impl.normalizer = Normalizer(o);
}

void load_pre_tokenizer(const Fields& f, const json& root, Tokenizer::Impl& impl) {
  auto it = root.find("pre_tokenizer");
  if (it == root.end() || it->is_null()) {
    impl.has_pre_tokenizer = false;
    return;
  }
  const std::string type = f.string(f.require(*it, "type", "pre_tokenizer.type"), "pre_tokenizer.type");
  if (type != "BertPreTokenizer") {
    throw UnsupportedError(f.file() + ": field 'pre_tokenizer.type' is '" + type +
                           "', only BertPreTokenizer (or null) is supported");
  }
}

WordPiece load_model(const Fields& f, const json& root) {
  const json& m = f.require(root, "model", "model");
  auto type_it = m.find("type");
  if (type_it != m.end()) {
    const std::string type = f.string(*type_it, "model.type");
    if (type != "WordPiece") {
      throw UnsupportedError(f.file() + ": field 'model.type' is '" + type + "', only WordPiece is supported");
    }
  }
  WordPieceOptions o;
  o.unk_token = f.string(f.require(m, "unk_token", "model.unk_token"), "model.unk_token");
  if (auto it = m.find("continuing_subword_prefix"); it != m.end() && !it->is_null())
    o.continuing_subword_prefix = f.string(*it, "model.continuing_subword_prefix");
  if (auto it = m.find("max_input_chars_per_word"); it != m.end() && !it->is_null())
    o.max_input_chars_per_word = static_cast<std::size_t>(
        f.integer(*it, "model.max_input_chars_per_word", 0, std::numeric_limits<std::int64_t>::max()));
  const json& vocab = f.require(m, "vocab", "model.vocab");
  if (!vocab.is_object()) f.fail("model.vocab", std::string("must be an object token -> id, found ") + vocab.type_name());
  std::vector<std::string> tokens(vocab.size());
  std::vector<bool> seen(vocab.size(), false);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const std::string path = "model.vocab[\"" + it.key() + "\"]";
    const auto id = f.integer(it.value(), path, 0, kMaxId);
    if (static_cast<std::size_t>(id) >= tokens.size()) {
      f.fail(path, "is " + std::to_string(id) + ", ids must be 0.." + std::to_string(tokens.size() - 1) +
                       " (one per token)");
    }
    if (seen[static_cast<std::size_t>(id)]) f.fail(path, "repeats id " + std::to_string(id));
    seen[static_cast<std::size_t>(id)] = true;
    tokens[static_cast<std::size_t>(id)] = it.key();
  }
  return WordPiece(std::move(tokens), std::move(o), f.file());
}

void load_added_tokens(const Fields& f, const json& root, Tokenizer::Impl& impl) {
  auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return;
  if (!it->is_array()) f.fail("added_tokens", std::string("must be an array, found ") + it->type_name());
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& t = (*it)[i];
    const std::string path = "added_tokens[" + std::to_string(i) + "]";
    AddedToken a;
    a.id = static_cast<std::int32_t>(f.integer(f.require(t, "id", path + ".id"), path + ".id", 0, kMaxId));
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
  return static_cast<std::int32_t>(f.integer(pair[1], path + "[1]", 0, kMaxId));
}

std::vector<TemplatePiece> load_template(const Fields& f, const json& pieces, const std::string& path,
                                         const PostProcessor& pp) {
  if (!pieces.is_array()) f.fail(path, std::string("must be an array, found ") + pieces.type_name());
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
                                                      p + ".Sequence.type_id", 0, kMaxId));
    } else if (piece.is_object() && piece.contains("SpecialToken")) {
      const json& s = piece["SpecialToken"];
      t.special = f.string(f.require(s, "id", p + ".SpecialToken.id"), p + ".SpecialToken.id");
      if (!pp.specials.count(t.special)) {
        f.fail(p + ".SpecialToken.id", "names '" + t.special + "', which is not in post_processor.special_tokens");
      }
      t.type_id = static_cast<std::int32_t>(f.integer(f.require(s, "type_id", p + ".SpecialToken.type_id"),
                                                      p + ".SpecialToken.type_id", 0, kMaxId));
    } else {
      f.fail(p, "must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
    out.push_back(std::move(t));
  }
  return out;
}

void load_post_processor(const Fields& f, const json& root, Tokenizer::Impl& impl) {
  auto it = root.find("post_processor");
  if (it == root.end() || it->is_null()) return;
  const json& p = *it;
  const std::string type = f.string(f.require(p, "type", "post_processor.type"), "post_processor.type");
  PostProcessor& pp = impl.post_processor;
  pp.present = true;
  if (type == "BertProcessing") {
    const json& cls = f.require(p, "cls", "post_processor.cls");
    const json& sep = f.require(p, "sep", "post_processor.sep");
    const std::int32_t cls_id = special_id(f, cls, "post_processor.cls");
    const std::int32_t sep_id = special_id(f, sep, "post_processor.sep");
    const std::string cls_tok = cls[0].get<std::string>(), sep_tok = sep[0].get<std::string>();
    pp.specials[cls_tok] = {{cls_id}, {cls_tok}};
    pp.specials[sep_tok] = {{sep_id}, {sep_tok}};
    auto special = [](const std::string& s, std::int32_t type_id) {
      TemplatePiece t;
      t.special = s;
      t.type_id = type_id;
      return t;
    };
    auto seq = [](int s, std::int32_t type_id) {
      TemplatePiece t;
      t.is_sequence = true;
      t.sequence = s;
      t.type_id = type_id;
      return t;
    };
    pp.single = {special(cls_tok, 0), seq(0, 0), special(sep_tok, 0)};
    pp.pair = {special(cls_tok, 0), seq(0, 0), special(sep_tok, 0), seq(1, 1), special(sep_tok, 1)};
    return;
  }
  if (type != "TemplateProcessing") {
    throw UnsupportedError(f.file() + ": field 'post_processor.type' is '" + type +
                           "', only TemplateProcessing and BertProcessing are supported");
  }
  const json& specials = f.require(p, "special_tokens", "post_processor.special_tokens");
  if (!specials.is_object()) f.fail("post_processor.special_tokens", "must be an object");
  for (auto s = specials.begin(); s != specials.end(); ++s) {
    const std::string path = "post_processor.special_tokens[\"" + s.key() + "\"]";
    TemplateSpecial def;
    const json& ids = f.require(s.value(), "ids", path + ".ids");
    const json& tokens = f.require(s.value(), "tokens", path + ".tokens");
    if (!ids.is_array() || !tokens.is_array() || ids.size() != tokens.size()) {
      f.fail(path, "must have arrays 'ids' and 'tokens' of the same length");
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
      def.ids.push_back(static_cast<std::int32_t>(f.integer(ids[i], path + ".ids[" + std::to_string(i) + "]", 0, kMaxId)));
      def.tokens.push_back(f.string(tokens[i], path + ".tokens[" + std::to_string(i) + "]"));
    }
    pp.specials[s.key()] = std::move(def);
  }
  pp.single = load_template(f, f.require(p, "single", "post_processor.single"), "post_processor.single", pp);
  pp.pair = load_template(f, f.require(p, "pair", "post_processor.pair"), "post_processor.pair", pp);
}

void load_decoder(const Fields& f, const json& root, Tokenizer::Impl& impl) {
  auto it = root.find("decoder");
  if (it == root.end() || it->is_null()) {
    impl.has_decoder = false;
    return;
  }
  const std::string type = f.string(f.require(*it, "type", "decoder.type"), "decoder.type");
  if (type != "WordPiece") {
    throw UnsupportedError(f.file() + ": field 'decoder.type' is '" + type + "', only WordPiece is supported");
  }
  if (auto p = it->find("prefix"); p != it->end()) impl.decoder_prefix = f.string(*p, "decoder.prefix");
  impl.decoder_cleanup = f.optional_bool(*it, "cleanup", "decoder.cleanup", true);
}

// A special token in tokenizer_config.json / special_tokens_map.json: "[CLS]" or {"content": "[CLS]", ...}.
void read_token_field(const Fields& f, const json& cfg, const char* key, std::string& out) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return;
  if (it->is_object()) {
    out = f.string(f.require(*it, "content", std::string(key) + ".content"), std::string(key) + ".content");
  } else {
    out = f.string(*it, key);
  }
}

void read_config_file(const std::filesystem::path& file, Tokenizer::WordPieceOptions& o, bool& has_max,
                      bool full) {
  const json cfg = parse_json(file);
  const Fields f(file.string());
  if (!cfg.is_object()) throw FormatError(file.string() + ": expected a JSON object at the top level");
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
    if (!it->is_array()) f.fail("never_split", std::string("must be an array or null, found ") + it->type_name());
    o.never_split.clear();
    for (std::size_t i = 0; i < it->size(); ++i)
      o.never_split.push_back(f.string((*it)[i], "never_split[" + std::to_string(i) + "]"));
  }
  if (auto it = cfg.find("model_max_length"); it != cfg.end() && !it->is_null()) {
    // transformers writes 1e30 (a float) for "no limit"; keep the default then.
    if (it->is_number_integer()) {
      o.model_max_length = static_cast<std::size_t>(
          f.integer(*it, "model_max_length", 1, std::numeric_limits<std::int64_t>::max()));
      has_max = true;
    } else if (!it->is_number()) {
      f.fail("model_max_length", std::string("must be a number, found ") + it->type_name());
    }
  }
}

}  // namespace

void read_tokenizer_config(const std::filesystem::path& dir, Tokenizer::WordPieceOptions& options,
                           bool& has_model_max_length) {
  std::error_code ec;
  // special_tokens_map.json first; tokenizer_config.json (read second) wins where both name a token.
  if (std::filesystem::exists(dir / "special_tokens_map.json", ec))
    read_config_file(dir / "special_tokens_map.json", options, has_model_max_length, false);
  if (std::filesystem::exists(dir / "tokenizer_config.json", ec))
    read_config_file(dir / "tokenizer_config.json", options, has_model_max_length, true);
}

std::shared_ptr<const Tokenizer::Impl> load_tokenizer_json(const std::filesystem::path& file,
                                                           const std::filesystem::path* config_dir) {
  const json root = parse_json(file);
  const Fields f(file.string());
  if (!root.is_object()) throw FormatError(file.string() + ": expected a JSON object at the top level");
  auto impl = std::make_shared<Tokenizer::Impl>();
  impl->source = file.string();
  load_normalizer(f, root, *impl);
  load_pre_tokenizer(f, root, *impl);
  impl->model = load_model(f, root);
  load_added_tokens(f, root, *impl);
  load_post_processor(f, root, *impl);
  load_decoder(f, root, *impl);

  // Token names and model_max_length: tokenizer_config.json next to the file when there is one; otherwise
  // the post-processor's first and last special tokens and tokenizer.json's own truncation length.
  Tokenizer::WordPieceOptions names;
  bool has_max = false;
  if (config_dir) read_tokenizer_config(*config_dir, names, has_max);
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
  return impl;
}

std::shared_ptr<const Tokenizer::Impl> load_vocab(const std::filesystem::path& vocab_txt,
                                                  const Tokenizer::WordPieceOptions& options) {
  const std::string text = read_text(vocab_txt);
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
  impl->has_normalizer = true;
  impl->normalizer = Normalizer(n);
  WordPieceOptions wp;
  wp.unk_token = options.unk_token;
  impl->model = WordPiece(std::move(tokens), wp, vocab_txt.string());

  // Special tokens and never_split entries are kept whole, matched in the original text (as transformers'
  // fast BERT tokenizer converted from this vocabulary does for its special tokens).
  auto add = [&](const std::string& content, bool special) {
    if (content.empty()) return;
    for (const auto& t : impl->added_tokens)
      if (t.content == content) return;
    const auto id = impl->model.token_to_id(content);
    if (!id) {
      if (special) return;  // a special token missing from the vocabulary cannot be produced
      throw ConfigError(vocab_txt.string() + ": never_split token '" + content + "' is not in the vocabulary");
    }
    AddedToken t;
    t.content = content;
    t.id = *id;
    t.special = special;
    impl->added_tokens.push_back(std::move(t));
  };
  for (const std::string* s : {&options.pad_token, &options.unk_token, &options.cls_token, &options.sep_token,
                               &options.mask_token})
    add(*s, true);
  for (const std::string& s : options.never_split) add(s, false);

  PostProcessor& pp = impl->post_processor;
  const auto cls = impl->model.token_to_id(options.cls_token);
  const auto sep = impl->model.token_to_id(options.sep_token);
  if (!cls || !sep) {
    throw ConfigError(vocab_txt.string() + ": cls_token '" + options.cls_token + "' and sep_token '" +
                      options.sep_token + "' must be in the vocabulary");
  }
  pp.present = true;
  pp.specials[options.cls_token] = {{*cls}, {options.cls_token}};
  pp.specials[options.sep_token] = {{*sep}, {options.sep_token}};
  TemplatePiece c, s0, s1, a, b;
  c.special = options.cls_token;
  s0.special = options.sep_token;
  s1.special = options.sep_token;
  s1.type_id = 1;
  a.is_sequence = true;
  b.is_sequence = true;
  b.sequence = 1;
  b.type_id = 1;
  pp.single = {c, a, s0};
  pp.pair = {c, a, s0, b, s1};
  impl->model_max_length = options.model_max_length;
  impl->finalize(options.cls_token, options.sep_token, options.pad_token, options.mask_token);
  return impl;
}

}  // namespace bertcpp::tokenizer
