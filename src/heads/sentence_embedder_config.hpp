// A sentence-transformers model directory: modules.json, the Pooling module's config.json, the Transformer
// module's sentence_bert_config.json.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>

#include "bertcpp/pipelines.hpp"

namespace bertcpp::heads {

struct SentenceTransformerLayout {
  // Where the Transformer module lives (config.json, weights, tokenizer): `dir` joined with its modules.json
  // path, which is "" for models saved by sentence-transformers >= 2 and e.g. "0_Transformer" for older ones.
  std::filesystem::path transformer_dir;
  bool has_modules_json = false;
  Pooling pooling = Pooling::mean;
  bool normalize = false;
  // sentence_bert_config.json "max_seq_length" (sentence-transformers < 6 writes it there; 6 writes the
  // tokenizer's model_max_length instead). Unset: absent or null.
  std::optional<std::size_t> max_seq_length;
  bool do_lower_case = false;
  // The Pooling config's (word_)embedding_dimension, when given.
  std::optional<std::size_t> embedding_dimension;
};

// Reads the layout of `dir`. Without modules.json: the directory itself is the Transformer, mean pooling, no
// normalization (what sentence-transformers builds around a plain checkpoint). Throws FormatError for a file
// that is not JSON, ConfigError for a field of the wrong type or an unknown pooling mode (naming the file and
// field), UnsupportedError for a module bertcpp does not run (Dense, LayerNorm, ...), several pooling modes
// at once, or weightedmean / lasttoken pooling.
SentenceTransformerLayout read_sentence_transformer_layout(const std::filesystem::path& dir);

}  // namespace bertcpp::heads
