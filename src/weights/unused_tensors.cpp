// Which stored encoder tensors a config leaves unused, and the warnings that say so.
#include "weights/unused_tensors.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>

#include "weights/model_spec.hpp"

namespace bertcpp::weights {

namespace {

// Every tensor name (without prefix) the encoder of `layout` reads, whatever the load options.
std::set<std::string, std::less<>> used_names(const CheckpointLayout& l) {
  std::set<std::string, std::less<>> used{l.word_embeddings, l.position_embeddings};
  if (!l.token_type_embeddings.empty()) used.insert(l.token_type_embeddings);
  if (!l.relative_attention_bias.empty()) used.insert(l.relative_attention_bias);
  auto module = [&used](const std::string& scope) {
    if (scope.empty()) return;
    used.insert(scope + ".weight");
    used.insert(scope + ".bias");
  };
  module(l.embedding_norm);
  module(l.embedding_projection);
  module(l.pooler);
  const LayerTensorNames& n = l.layer;
  for (const std::string& scope : l.layer_scopes)
    for (const std::string* name : {&n.query, &n.key, &n.value, &n.attention_output, &n.attention_norm, &n.ffn_in,
                                    &n.ffn_out, &n.output_norm})
      module(scope + *name);
  return used;
}

// TF-converted checkpoints name a LayerNorm's scale and shift gamma / beta (Checkpoint::resolve reads them so).
std::string canonical(std::string_view name) {
  constexpr std::string_view gamma = "LayerNorm.gamma", beta = "LayerNorm.beta";
  if (name.ends_with(gamma)) return std::string(name.substr(0, name.size() - 5)) + "weight";
  if (name.ends_with(beta)) return std::string(name.substr(0, name.size() - 4)) + "bias";
  return std::string(name);
}

// Buffers older transformers versions saved with the weights; transformers skips them without a warning.
bool is_buffer(std::string_view name) {
  return name == "embeddings.position_ids" || name == "embeddings.token_type_ids";
}

// The part of a stored layer's scope before its first index: "encoder.layer." for "encoder.layer.0.",
// "encoder.albert_layer_groups." for "encoder.albert_layer_groups.0.albert_layers.0.".
std::string layer_stack(const std::string& scope) {
  for (std::size_t i = 0; i + 1 < scope.size(); ++i)
    if (scope[i] == '.' && std::isdigit(static_cast<unsigned char>(scope[i + 1]))) return scope.substr(0, i + 1);
  return scope;
}

// The "<stack><index>" a name stored under a layer stack starts with ("encoder.layer.7"), or "" when the name is
// not under `stack` followed by an index and a dot.
std::string stored_layer(std::string_view name, const std::string& stack) {
  if (stack.empty() || !name.starts_with(stack)) return {};
  std::size_t i = stack.size();
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
  if (i == stack.size() || i >= name.size() || name[i] != '.') return {};
  return std::string(name.substr(0, i));
}

std::string quoted_list(const std::vector<std::string>& names) {
  constexpr std::size_t kMaxListed = 64;
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < kMaxListed; ++i) {
    if (i) out += ", ";
    out += "'" + names[i] + "'";
  }
  if (names.size() > kMaxListed) out += ", ... and " + std::to_string(names.size() - kMaxListed) + " more";
  return out;
}

std::string count_of(std::size_t n) { return std::to_string(n) + (n == 1 ? " tensor" : " tensors"); }

}  // namespace

std::vector<std::string> unused_encoder_tensors(const Checkpoint& checkpoint, const CheckpointLayout& layout) {
  const auto used = used_names(layout);
  const std::string& prefix = checkpoint.prefix();
  std::vector<std::string> unused;
  for (const std::string& name : checkpoint.tensor_names()) {
    if (!name.starts_with(prefix)) continue;
    const std::string_view local = std::string_view(name).substr(prefix.size());
    if (is_buffer(local) || used.contains(canonical(local))) continue;
    unused.push_back(name);
  }
  return unused;
}

std::vector<std::string> unused_tensor_warnings(const Checkpoint& checkpoint, const CheckpointLayout& layout,
                                                const ModelConfig& config) {
  const std::vector<std::string> unused = unused_encoder_tensors(checkpoint, layout);
  if (unused.empty()) return {};
  const std::string& prefix = checkpoint.prefix();
  const std::string stack = layout.layer_scopes.empty() ? std::string() : layer_stack(layout.layer_scopes.front());
  // Stored layers the config does not run (their tensors would all be unused) versus anything else.
  std::vector<std::string> extra_layer_tensors, unknown;
  std::set<std::string> extra_layers;
  for (const std::string& name : unused) {
    const std::string layer = stored_layer(std::string_view(name).substr(prefix.size()), stack);
    const bool known_layer = !layer.empty() && std::any_of(layout.layer_scopes.begin(), layout.layer_scopes.end(),
                                                           [&](const std::string& s) { return s.starts_with(layer + "."); });
    if (!layer.empty() && !known_layer) {
      extra_layer_tensors.push_back(name);
      extra_layers.insert(layer);
    } else {
      unknown.push_back(name);
    }
  }
  const std::string file = checkpoint.file_of(unused.front());
  std::vector<std::string> warnings;
  if (!extra_layer_tensors.empty()) {
    // ALBERT stores layer groups, not layers.
    const bool albert = model_spec(config.model_type).sharing == LayerSharing::albert_groups;
    const std::size_t k = extra_layers.size();
    warnings.push_back(file + ": " + std::to_string(k) + " stored " + (albert ? "layer group" : "layer") +
                       (k == 1 ? "" : "s") + " beyond config.json " +
                       (albert ? "num_hidden_groups " + std::to_string(config.num_hidden_groups)
                               : "num_hidden_layers " + std::to_string(config.num_hidden_layers)) +
                       " not used (" + count_of(extra_layer_tensors.size()) + "): " + quoted_list(extra_layer_tensors));
  }
  if (!unknown.empty()) {
    warnings.push_back(file + ": " + count_of(unknown.size()) +
                       (prefix.empty() ? std::string() : " under '" + prefix + "'") + " not used by a " +
                       config.model_type + " encoder: " + quoted_list(unknown));
  }
  return warnings;
}

}  // namespace bertcpp::weights
