#include "heads/sentence_embedder_config.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "common/file_io.hpp"
#include "common/json_fields.hpp"
#include "common/json_io.hpp"

namespace bertcpp::heads {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// "<dir name>/<file>" for messages: enough to find the file, short enough to read.
std::string name_of(const fs::path& file) {
  return (file.parent_path().filename() / file.filename()).string();
}

// A settings file whose top level must be an object; its fields are ConfigErrors naming "<dir>/<file>".
json read_settings(const fs::path& file) {
  return common::read_json_object(file, common::kMaxSettingsFileBytes, ErrorCode::config);
}
common::Fields fields_of(const fs::path& file) { return common::Fields(name_of(file), ErrorCode::config); }

// The last component of a dotted Python class path: "sentence_transformers.models.Pooling" -> "Pooling".
std::string_view class_name(std::string_view type) {
  const auto dot = type.rfind('.');
  return dot == std::string_view::npos ? type : type.substr(dot + 1);
}

std::optional<std::size_t> optional_size(const common::Fields& f, const json& object, const char* key) {
  const json* v = f.find(object, key, key);
  if (!v) return std::nullopt;
  return static_cast<std::size_t>(f.integer(*v, key, 1, std::numeric_limits<std::int64_t>::max()));
}

// Pooling modes in the order sentence-transformers concatenates them, with their legacy boolean keys.
struct ModeName {
  const char* mode;
  const char* legacy_key;
};
constexpr ModeName kModes[] = {
    {"cls", "pooling_mode_cls_token"},
    {"max", "pooling_mode_max_tokens"},
    {"mean", "pooling_mode_mean_tokens"},
    {"mean_sqrt_len_tokens", "pooling_mode_mean_sqrt_len_tokens"},
    {"weightedmean", "pooling_mode_weightedmean_tokens"},
    {"lasttoken", "pooling_mode_lasttoken"},
};

Pooling parse_mode(const std::string& mode, const fs::path& file) {
  if (mode == "cls") return Pooling::cls;
  if (mode == "mean") return Pooling::mean;
  if (mode == "max") return Pooling::max;
  if (mode == "mean_sqrt_len_tokens") return Pooling::mean_sqrt_len;
  if (mode == "weightedmean") return Pooling::weighted_mean;
  if (mode == "lasttoken") return Pooling::last_token;
  throw ConfigError(name_of(file) + ": unknown pooling mode '" + mode +
                    "' (expected cls, max, mean, mean_sqrt_len_tokens, weightedmean or lasttoken)");
}

// The Pooling module's config.json: "pooling_mode" (a name or a list of names, sentence-transformers >= 6), or
// the legacy "pooling_mode_*_tokens" booleans (none set means mean, as sentence-transformers reads them).
void read_pooling(const fs::path& file, SentenceTransformerLayout& layout) {
  const json config = read_settings(file);
  const common::Fields f = fields_of(file);
  std::vector<std::string> modes;
  if (const auto it = config.find("pooling_mode"); it != config.end() && !it->is_null()) {
    if (it->is_string()) {
      modes.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      for (const auto& m : *it) {
        if (!m.is_string()) throw ConfigError(name_of(file) + ": field 'pooling_mode' holds " + common::brief_json(m) + ", expected a name");
        modes.push_back(m.get<std::string>());
      }
    } else {
      throw ConfigError(name_of(file) + ": field 'pooling_mode' must be a name or a list of names, found " + common::brief_json(*it));
    }
  } else {
    for (const auto& m : kModes) {
      if (f.optional_bool(config, m.legacy_key, m.legacy_key, false)) modes.push_back(m.mode);
    }
    if (modes.empty()) modes.push_back("mean");
  }
  if (modes.empty()) throw ConfigError(name_of(file) + ": field 'pooling_mode' is an empty list");
  if (modes.size() > kMaxPoolingModes) {
    throw UnsupportedError(name_of(file) + ": " + std::to_string(modes.size()) + " pooling modes; bertcpp concatenates at most " +
                           std::to_string(kMaxPoolingModes));
  }
  // In the config's order, as sentence-transformers concatenates them (the legacy booleans: cls, max, mean,
  // mean_sqrt_len_tokens, weightedmean, lasttoken).
  layout.pooling_modes.clear();
  for (const std::string& m : modes) layout.pooling_modes.push_back(parse_mode(m, file));
  layout.include_prompt = f.optional_bool(config, "include_prompt", "include_prompt", true);
  layout.embedding_dimension = optional_size(f, config, "embedding_dimension");
  if (!layout.embedding_dimension) layout.embedding_dimension = optional_size(f, config, "word_embedding_dimension");
}

// torch.nn activation classes a Dense module may name, by class name.
struct ActivationName {
  const char* name;
  DenseActivation activation;
};
constexpr ActivationName kActivations[] = {
    {"Identity", DenseActivation::identity}, {"Tanh", DenseActivation::tanh}, {"ReLU", DenseActivation::relu},
    {"GELU", DenseActivation::gelu},         {"Sigmoid", DenseActivation::sigmoid}, {"SiLU", DenseActivation::silu},
};

// A Dense module's config.json. sentence-transformers writes in_features, out_features, bias and the activation's
// class path ("torch.nn.modules.activation.Tanh"; Tanh when absent), and newer releases the input / output key
// and use_residual when they differ from their defaults.
DenseModuleLayout read_dense(const fs::path& module_dir) {
  const fs::path file = module_dir / "config.json";
  const json config = read_settings(file);
  const common::Fields f = fields_of(file);
  DenseModuleLayout dense;
  dense.dir = module_dir;
  const auto size = [&](const char* key) {
    return static_cast<std::size_t>(f.integer(f.require(config, key, key), key, 1, std::int64_t{1} << 20));
  };
  dense.in_features = size("in_features");
  dense.out_features = size("out_features");
  dense.bias = f.optional_bool(config, "bias", "bias", true);
  dense.use_residual = f.optional_bool(config, "use_residual", "use_residual", false);
  const std::string activation = f.optional_string(config, "activation_function", "activation_function",
                                                   "torch.nn.modules.activation.Tanh");
  const std::string_view name = class_name(activation);
  const auto* known = std::find_if(std::begin(kActivations), std::end(kActivations),
                                   [&](const ActivationName& a) { return name == a.name; });
  if (activation.rfind("torch.", 0) != 0 || known == std::end(kActivations)) {
    std::string list;
    for (const auto& a : kActivations) list += (list.empty() ? "" : ", ") + std::string(a.name);
    throw UnsupportedError(name_of(file) + ": activation_function '" + activation +
                           "' is not supported (supported: torch.nn " + list + ")");
  }
  dense.activation = known->activation;
  for (const char* key : {"module_input_name", "module_output_name"}) {
    const std::string value = f.optional_string(config, key, key, "sentence_embedding");
    if (value != "sentence_embedding") {
      throw UnsupportedError(name_of(file) + ": " + key + " '" + value +
                             "' is not supported: bertcpp's Dense modules map the sentence embedding to itself");
    }
  }
  return dense;
}

// config_sentence_transformers.json (next to modules.json): the prompts and the default prompt's name. The other
// fields (versions, similarity function, model type) do not change the embeddings.
void read_prompts(const fs::path& file, SentenceTransformerLayout& layout) {
  if (!common::entry_exists(file)) return;
  const json config = read_settings(file);
  const common::Fields f = fields_of(file);
  if (const json* prompts = f.find(config, "prompts", "prompts")) {
    if (!prompts->is_object())
      throw ConfigError(name_of(file) + ": field 'prompts' must be an object of name: text, found " + common::brief_json(*prompts));
    for (const auto& [name, text] : prompts->items()) {
      if (!text.is_string())
        throw ConfigError(name_of(file) + ": field 'prompts." + name + "' must be a string, found " + common::brief_json(text));
      layout.prompts[name] = text.get<std::string>();
    }
  }
  if (const json* fn = f.find(config, "similarity_fn_name", "similarity_fn_name")) {
    const std::string name = f.string(*fn, "similarity_fn_name");
    if (name == "cosine") layout.similarity = Similarity::cosine;
    else if (name == "dot" || name == "dot_product") layout.similarity = Similarity::dot;
    else if (name == "euclidean") layout.similarity = Similarity::euclidean;
    else if (name == "manhattan") layout.similarity = Similarity::manhattan;
    else
      throw UnsupportedError(name_of(file) + ": similarity_fn_name '" + name +
                             "' is not one bertcpp computes (cosine, dot, euclidean, manhattan)");
  }
  if (const json* name = f.find(config, "default_prompt_name", "default_prompt_name")) {
    layout.default_prompt_name = f.string(*name, "default_prompt_name");
    if (!layout.prompts.contains(*layout.default_prompt_name)) {
      throw ConfigError(name_of(file) + ": default_prompt_name '" + *layout.default_prompt_name +
                        "' is not one of its prompts");
    }
  }
}

void read_sentence_bert_config(const fs::path& file, SentenceTransformerLayout& layout) {
  if (!common::entry_exists(file)) return;
  const json config = read_settings(file);
  const common::Fields f = fields_of(file);
  layout.max_seq_length = optional_size(f, config, "max_seq_length");
  layout.do_lower_case = f.optional_bool(config, "do_lower_case", "do_lower_case", false);
}

}  // namespace

SentenceTransformerLayout read_sentence_transformer_layout(const fs::path& dir) {
  SentenceTransformerLayout layout;
  layout.transformer_dir = dir;
  const fs::path modules_file = dir / "modules.json";
  if (!common::entry_exists(modules_file)) {
    read_sentence_bert_config(dir / "sentence_bert_config.json", layout);
    return layout;
  }
  layout.has_modules_json = true;
  read_prompts(dir / "config_sentence_transformers.json", layout);
  const json modules = common::read_json_file(modules_file, common::kMaxSettingsFileBytes);
  if (!modules.is_array()) throw ConfigError("modules.json: expected a list of modules, found " + std::string(modules.type_name()));

  // The pipeline must be Transformer -> Pooling [-> Dense ...] [-> Normalize], the shape bertcpp runs.
  enum class Stage { start, transformer, pooling, normalize } stage = Stage::start;
  for (std::size_t i = 0; i < modules.size(); ++i) {
    const json& module = modules[i];
    const std::string where = "modules.json: module " + std::to_string(i);
    if (!module.is_object()) throw ConfigError(where + " is not an object");
    const common::Fields f(where, ErrorCode::config);
    const std::string type_name = f.string(f.require(module, "type", "type"), "type");
    const std::string path = f.optional_string(module, "path", "path", "");
    const std::string_view name = class_name(type_name);
    const fs::path module_dir = path.empty() ? dir : dir / path;
    if (name == "Transformer" && stage == Stage::start) {
      layout.transformer_dir = module_dir;
      read_sentence_bert_config(module_dir / "sentence_bert_config.json", layout);
      stage = Stage::transformer;
    } else if (name == "Pooling" && stage == Stage::transformer) {
      read_pooling(module_dir / "config.json", layout);
      stage = Stage::pooling;
    } else if (name == "Dense" && stage == Stage::pooling) {
      layout.dense.push_back(read_dense(module_dir));
    } else if (name == "Normalize" && stage == Stage::pooling) {
      layout.normalize = true;
      stage = Stage::normalize;
    } else if (name == "Transformer" || name == "Pooling" || name == "Dense" || name == "Normalize") {
      throw UnsupportedError(where + ": '" + type_name +
                             "' out of place; bertcpp runs Transformer, Pooling, optionally Dense modules, then "
                             "optionally Normalize");
    } else {
      throw UnsupportedError(where + ": module type '" + type_name +
                             "' is not supported (supported: Transformer, Pooling, Dense, Normalize)");
    }
  }
  if (stage == Stage::start) throw UnsupportedError("modules.json: no Transformer module");
  if (stage == Stage::transformer) {
    throw UnsupportedError("modules.json: no Pooling module after the Transformer (token embeddings only)");
  }
  return layout;
}

}  // namespace bertcpp::heads
