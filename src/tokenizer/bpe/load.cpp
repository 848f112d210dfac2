// Byte-level BPE tokenizers (GPT-2 / RoBERTa): the tokenizer.json sections, and vocab.json + merges.txt.
#include <limits>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/json_io.hpp"
#include "tokenizer/bpe/encoder.hpp"
#include "tokenizer/loaders.hpp"
#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer {
namespace {

using nlohmann::json;

[[noreturn]] void unsupported(const Fields& f, const std::string& field, const std::string& found,
                              const std::string& supported) {
  f.fail(field, "is " + found + ", " + supported, ErrorCode::unsupported);
}

// token -> id object (tokenizer.json model.vocab, vocab.json): ids must be 0..n-1, each once.
std::vector<std::string> vocab_from_object(const Fields& f, const json& vocab, const std::string& path) {
  const std::string where = path.empty() ? "the top level" : "'" + path + "'";
  if (!vocab.is_object()) {
    throw FormatError(f.source() + ": " + where + " must be an object token -> id, found " + vocab.type_name());
  }
  if (vocab.empty()) throw FormatError(f.source() + ": the vocabulary at " + where + " is empty");
  std::vector<std::string> tokens(vocab.size());
  std::vector<bool> seen(vocab.size(), false);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const std::string field = path + "[\"" + it.key() + "\"]";
    const auto id = static_cast<std::size_t>(f.integer(it.value(), field, 0, kMaxTokenId));
    if (id >= tokens.size()) {
      f.fail(field, "is " + std::to_string(id) + ", ids must be 0.." + std::to_string(tokens.size() - 1) +
                        " (one per token)");
    }
    if (seen[id]) f.fail(field, "repeats id " + std::to_string(id));
    seen[id] = true;
    tokens[id] = it.key();
  }
  return tokens;
}

// Resolves merge pairs against the vocabulary. `where(i)` names the i-th merge in messages.
template <typename Where>
std::vector<BpeMerge> resolve_merges(const std::vector<std::pair<std::string, std::string>>& pairs,
                                     const std::unordered_map<std::string, std::int32_t>& ids,
                                     const std::string& vocab_name, Where where) {
  std::vector<BpeMerge> merges;
  merges.reserve(pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    // Named references, not a structured binding: clang < 16 (the fuzz build) cannot capture bindings in lambdas.
    const std::string& left = pairs[i].first;
    const std::string& right = pairs[i].second;
    const auto l = ids.find(left), r = ids.find(right), m = ids.find(left + right);
    const auto missing = [&](const std::string& what, const std::string& token) {
      return FormatError(where(i) + ": merge '" + left + " " + right + "' " + what + " '" + token +
                         "', which is not in " + vocab_name);
    };
    if (l == ids.end()) throw missing("uses", left);
    if (r == ids.end()) throw missing("uses", right);
    if (m == ids.end()) throw missing("makes", left + right);
    merges.push_back({l->second, r->second, m->second});
  }
  return merges;
}

std::unordered_map<std::string, std::int32_t> index_of(const std::vector<std::string>& vocab) {
  std::unordered_map<std::string, std::int32_t> ids;
  ids.reserve(vocab.size());
  for (std::size_t i = 0; i < vocab.size(); ++i) ids.emplace(vocab[i], static_cast<std::int32_t>(i));
  return ids;
}

// merges.txt as tokenizers reads it: "#version" lines skipped, every other line exactly two tokens separated by
// one space.
std::vector<std::pair<std::string, std::string>> read_merges_txt(const std::filesystem::path& file) {
  const std::string text = common::read_regular_file(file, common::kMaxTokenizerFileBytes);
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t start = 0, line = 0;
  while (start < text.size()) {
    std::size_t stop = text.find('\n', start);
    if (stop == std::string::npos) stop = text.size();
    std::string_view content(text.data() + start, stop - start);
    if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
    ++line;
    start = stop + 1;
    if (content.starts_with("#version")) continue;
    const std::size_t space = content.find(' ');
    if (space == std::string_view::npos || space == 0 || space + 1 == content.size() ||
        content.find(' ', space + 1) != std::string_view::npos) {
      throw FormatError(file.string() + ": line " + std::to_string(line) +
                        ": expected two tokens separated by one space, found '" + std::string(content) + "'");
    }
    try {
      validate_utf8(content, "merge");
    } catch (const Utf8Error& e) {
      throw FormatError(file.string() + ": line " + std::to_string(line) + ": " + e.what());
    }
    pairs.emplace_back(std::string(content.substr(0, space)), std::string(content.substr(space + 1)));
  }
  return pairs;
}

ByteLevelOptions load_byte_level_pre_tokenizer(const Fields& f, const json& root) {
  auto it = root.find("pre_tokenizer");
  if (it == root.end() || it->is_null()) {
    unsupported(f, "pre_tokenizer", "null", "a BPE model is supported with the ByteLevel pre-tokenizer only");
  }
  const std::string type = f.string(f.require(*it, "type", "pre_tokenizer.type"), "pre_tokenizer.type");
  if (type != "ByteLevel") {
    unsupported(f, "pre_tokenizer.type", "'" + type + "'", "a BPE model is supported with ByteLevel only");
  }
  ByteLevelOptions o;
  o.add_prefix_space = f.optional_bool(*it, "add_prefix_space", "pre_tokenizer.add_prefix_space", true);
  o.use_regex = f.optional_bool(*it, "use_regex", "pre_tokenizer.use_regex", true);
  return o;
}

Bpe load_bpe_model(const Fields& f, const json& root) {
  const json& m = f.require(root, "model", "model");
  const auto empty_or_null = [&](const char* key) {
    auto it = m.find(key);
    if (it == m.end() || it->is_null()) return;
    const std::string value = f.string(*it, std::string("model.") + key);
    if (!value.empty()) unsupported(f, std::string("model.") + key, "'" + value + "'", "only \"\" is supported");
  };
  empty_or_null("continuing_subword_prefix");
  empty_or_null("end_of_word_suffix");
  if (auto it = m.find("dropout"); it != m.end() && !it->is_null()) {
    f.number(*it, "model.dropout");
    if (it->get<double>() != 0.0) unsupported(f, "model.dropout", common::brief_json(*it), "only null (no dropout) is supported");
  }
  if (f.optional_bool(m, "byte_fallback", "model.byte_fallback", false))
    unsupported(f, "model.byte_fallback", "true", "only false is supported");

  std::vector<std::string> vocab = vocab_from_object(f, f.require(m, "vocab", "model.vocab"), "model.vocab");
  const auto ids = index_of(vocab);
  const json& merges_json = f.require(m, "merges", "model.merges");
  f.array(merges_json, "model.merges");
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(merges_json.size());
  for (std::size_t i = 0; i < merges_json.size(); ++i) {
    const std::string path = "model.merges[" + std::to_string(i) + "]";
    const json& merge = merges_json[i];
    if (merge.is_string()) {  // "a b" (tokenizers < 0.20)
      const std::string s = merge.get<std::string>();
      const std::size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        f.fail(path, "must be two tokens separated by one space, found '" + s + "'");
      pairs.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (merge.is_array() && merge.size() == 2) {  // ["a", "b"]
      pairs.emplace_back(f.string(merge[0], path + "[0]"), f.string(merge[1], path + "[1]"));
    } else {
      f.fail(path, std::string("must be \"a b\" or [\"a\", \"b\"], found ") + common::brief_json(merge));
    }
  }
  const auto merges = resolve_merges(pairs, ids, "model.vocab", [&](std::size_t i) {
    return f.source() + ": field 'model.merges[" + std::to_string(i) + "]'";
  });

  BpeModelOptions o;
  if (auto it = m.find("unk_token"); it != m.end() && !it->is_null()) {
    const std::string unk = f.string(*it, "model.unk_token");
    auto id = ids.find(unk);
    if (id == ids.end()) {
      f.fail("model.unk_token", "is '" + unk + "', which is not in model.vocab", ErrorCode::config);
    }
    o.unk_id = id->second;
  }
  o.fuse_unk = f.optional_bool(m, "fuse_unk", "model.fuse_unk", false);
  o.ignore_merges = f.optional_bool(m, "ignore_merges", "model.ignore_merges", false);
  return Bpe(std::move(vocab), merges, o);
}

// true: ByteLevel decoder; false: none.
bool load_byte_level_decoder(const Fields& f, const json& root) {
  auto it = root.find("decoder");
  if (it == root.end() || it->is_null()) return false;
  const std::string type = f.string(f.require(*it, "type", "decoder.type"), "decoder.type");
  if (type != "ByteLevel") unsupported(f, "decoder.type", "'" + type + "'", "a BPE model is supported with ByteLevel only");
  return true;
}

// The settings WordPieceOptions and BpeOptions share (read_tokenizer_config fills them for both), as a tuple of
// references: shared_settings(a) = shared_settings(b) copies them.
template <class Options>
auto shared_settings(Options& o) {
  return std::tie(o.unk_token, o.sep_token, o.pad_token, o.cls_token, o.mask_token, o.model_max_length);
}

}  // namespace

std::unique_ptr<const SegmentEncoder> bpe_from_json(const Fields& f, const json& root) {
  if (auto it = root.find("normalizer"); it != root.end() && !it->is_null()) {
    const std::string type = f.string(f.require(*it, "type", "normalizer.type"), "normalizer.type");
    unsupported(f, "normalizer.type", "'" + type + "'", "a BPE model is supported without a normalizer (null) only");
  }
  const ByteLevelOptions pre = load_byte_level_pre_tokenizer(f, root);
  Bpe model = load_bpe_model(f, root);
  return std::make_unique<BpeEncoder>(std::move(model), pre, load_byte_level_decoder(f, root));
}

void read_bpe_config(const SettingsFiles& settings, Tokenizer::BpeOptions& o, bool& has_model_max_length) {
  Tokenizer::WordPieceOptions names;
  shared_settings(names) = shared_settings(o);
  read_tokenizer_config(settings, names, has_model_max_length);
  shared_settings(o) = shared_settings(names);
  // special_tokens_map.json first; tokenizer_config.json (read second) wins.
  for (const auto& [file, cfg] : {std::pair{settings.special_tokens_map_file(), &settings.special_tokens_map},
                                  std::pair{settings.tokenizer_config_file(), &settings.tokenizer_config}}) {
    if (!*cfg) continue;
    const Fields f(file.string());
    if (auto it = (*cfg)->find("mask_token"); it != (*cfg)->end() && it->is_object())
      o.mask_lstrip = f.optional_bool(*it, "lstrip", "mask_token.lstrip", o.mask_lstrip);
    o.add_prefix_space = f.optional_bool(**cfg, "add_prefix_space", "add_prefix_space", o.add_prefix_space);
    o.trim_offsets = f.optional_bool(**cfg, "trim_offsets", "trim_offsets", o.trim_offsets);
  }
}

std::shared_ptr<const Tokenizer::Impl> load_bpe_files(const std::filesystem::path& vocab_json,
                                                      const std::filesystem::path& merges_txt,
                                                      const Tokenizer::BpeOptions& options) {
  const Fields vf(vocab_json.string());
  std::vector<std::string> vocab =
      vocab_from_object(vf, common::read_json_file(vocab_json, common::kMaxTokenizerFileBytes), "");
  const auto ids = index_of(vocab);
  const auto merges = resolve_merges(read_merges_txt(merges_txt), ids, vocab_json.filename().string(),
                                     [&](std::size_t i) { return merges_txt.string() + ": merge " + std::to_string(i + 1); });

  auto impl = std::make_shared<Tokenizer::Impl>();
  impl->source = vocab_json.string();
  ByteLevelOptions pre;
  pre.add_prefix_space = options.add_prefix_space;
  // transformers' RobertaTokenizer builds its BPE without unk_token: unknown bytes are dropped.
  impl->model = std::make_unique<BpeEncoder>(Bpe(std::move(vocab), merges, BpeModelOptions{}), pre, true);

  // The special tokens are added tokens matched in the original text, as transformers sets them up.
  for (const std::string* s : {&options.bos_token, &options.eos_token, &options.unk_token, &options.sep_token,
                               &options.pad_token, &options.cls_token, &options.mask_token}) {
    if (s->empty()) continue;
    bool known = false;
    for (const auto& t : impl->added_tokens) known = known || t.content == *s;
    const auto id = ids.find(*s);
    if (known || id == ids.end()) continue;  // a special token missing from vocab.json cannot be produced
    AddedToken t;
    t.content = *s;
    t.id = id->second;
    t.special = true;
    t.lstrip = s == &options.mask_token && options.mask_lstrip;
    impl->added_tokens.push_back(std::move(t));
  }
  std::sort(impl->added_tokens.begin(), impl->added_tokens.end(),
            [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });

  const auto cls = ids.find(options.cls_token), sep = ids.find(options.sep_token);
  if (cls == ids.end() || sep == ids.end()) {
    throw ConfigError(vocab_json.string() + ": cls_token '" + options.cls_token + "' and sep_token '" +
                      options.sep_token + "' must be in the vocabulary");
  }
  set_roberta_processing(impl->post_processor, {options.cls_token, cls->second}, {options.sep_token, sep->second},
                         options.trim_offsets, options.add_prefix_space);
  impl->model_max_length = options.model_max_length;
  impl->finalize(options.cls_token, options.sep_token, options.pad_token, options.mask_token);
  if (auto id = ids.find(options.unk_token); id != ids.end()) impl->unk_id = id->second;
  return impl;
}

}  // namespace bertcpp::tokenizer
