// A sentence-transformers model directory: modules.json, the Pooling module's config.json, the Transformer
// module's sentence_bert_config.json, the Dense modules' config.json.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bertcpp/pipelines.hpp"

namespace bertcpp::heads {

// The activation of a Dense module (its config.json "activation_function": a torch.nn class path).
enum class DenseActivation { identity, tanh, relu, gelu, sigmoid, silu };

// A sentence-transformers Dense module: y = activation(W x + b), plus x itself (or R x when the sizes differ) with
// use_residual. W [out, in] is "linear.weight", b "linear.bias", R "residual.weight" in dir/model.safetensors.
struct DenseModuleLayout {
  std::filesystem::path dir;
  std::size_t in_features = 0, out_features = 0;
  bool bias = true;
  DenseActivation activation = DenseActivation::tanh;
  bool use_residual = false;
};

// sentence-transformers concatenates any number of pooling modes (repeats included); six distinct ones exist, and
// a bound keeps a hostile config from multiplying the embedding width.
constexpr std::size_t kMaxPoolingModes = 16;

struct SentenceTransformerLayout {
  // Where the Transformer module lives (config.json, weights, tokenizer): `dir` joined with its modules.json
  // path, which is "" for models saved by sentence-transformers >= 2 and e.g. "0_Transformer" for older ones.
  std::filesystem::path transformer_dir;
  bool has_modules_json = false;
  // The Pooling module's modes in its order (at least one, at most kMaxPoolingModes); several are concatenated.
  std::vector<Pooling> pooling_modes{Pooling::mean};
  // Dense modules after the Pooling one, in order (before Normalize).
  std::vector<DenseModuleLayout> dense;
  bool normalize = false;
  // sentence_bert_config.json "max_seq_length" (sentence-transformers < 6 writes it there; 6 writes the
  // tokenizer's model_max_length instead). Unset: absent or null.
  std::optional<std::size_t> max_seq_length;
  bool do_lower_case = false;
  // The Pooling config's (word_)embedding_dimension, when given.
  std::optional<std::size_t> embedding_dimension;
  // The Pooling config's include_prompt: false leaves a prompt's tokens out of the pooling.
  bool include_prompt = true;
  // config_sentence_transformers.json: "prompts" (name -> text prepended to each input) and
  // "default_prompt_name" (the prompt used when the caller names none).
  std::map<std::string, std::string> prompts;
  std::optional<std::string> default_prompt_name;
  // config_sentence_transformers.json "similarity_fn_name" (cosine when absent or null; "dot_product" is "dot").
  Similarity similarity = Similarity::cosine;
};

// Reads the layout of `dir`. Without modules.json: the directory itself is the Transformer, mean pooling, no
// normalization (what sentence-transformers builds around a plain checkpoint). Throws FormatError for a file
// that is not JSON, ConfigError for a field of the wrong type or an unknown pooling mode (naming the file and
// field), UnsupportedError for a module bertcpp does not run (LayerNorm, WordEmbeddings, ...), a module out of
// the order Transformer, Pooling, Dense..., Normalize, more than kMaxPoolingModes pooling modes, or a Dense module
// with an activation or input / output key bertcpp does not implement.
SentenceTransformerLayout read_sentence_transformer_layout(const std::filesystem::path& dir);

}  // namespace bertcpp::heads
