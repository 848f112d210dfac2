// Loader internals shared by load.cpp and the per-family loaders.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/file_io.hpp"
#include "common/json_fields.hpp"
#include "common/json_io.hpp"
#include "tokenizer/segment_encoder.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "weights/model_spec.hpp"

namespace bertcpp::tokenizer {

// tokenizer.json, vocab.json and the settings files are checked through common::Fields (FormatError naming the
// file and the field path, "tokenizer.json: field 'model.vocab' must be an object, found array").
using common::Fields;

constexpr std::int64_t kMaxTokenId = std::numeric_limits<std::int32_t>::max();

// A special token's name in tokenizer_config.json / special_tokens_map.json: "[CLS]" or {"content": "[CLS]", ...}.
std::string special_token_name(const Fields& f, const nlohmann::json& value, const std::string& path);
// cfg[key] through special_token_name into `out`; absent or null keeps `out`.
void read_token_field(const Fields& f, const nlohmann::json& cfg, const char* key, std::string& out);

// The settings files of a tokenizer directory, each read and parsed once per load (absent: nullopt).
// A file that is not a JSON object is a FormatError naming it.
struct SettingsFiles {
  std::filesystem::path dir;
  std::optional<nlohmann::json> tokenizer_config;    // tokenizer_config.json
  std::optional<nlohmann::json> special_tokens_map;  // special_tokens_map.json

  static SettingsFiles read(const std::filesystem::path& dir);
  std::filesystem::path tokenizer_config_file() const { return dir / "tokenizer_config.json"; }
  // tokenizer_config.json's tokenizer_class when it is a string (e.g. "XLMRobertaTokenizerFast"), else nullopt.
  std::optional<std::string> tokenizer_class() const;
  // The model-type registry entry of config.json's model_type in `dir` (which tokenizer family the type uses),
  // or null: no config.json, no string model_type, or a type bertcpp does not know.
  const weights::ModelSpec* model_spec() const;
  std::filesystem::path special_tokens_map_file() const { return dir / "special_tokens_map.json"; }
};

// The model pipeline of a tokenizer.json from its "normalizer", "pre_tokenizer", "model" and "decoder"
// sections, one function per model.type. Added tokens and the post-processor are read by load.cpp.
std::unique_ptr<const SegmentEncoder> wordpiece_from_json(const Fields& f, const nlohmann::json& root);
std::unique_ptr<const SegmentEncoder> bpe_from_json(const Fields& f, const nlohmann::json& root);

// Whether a vocab.txt directory is transformers' MPNetTokenizer: tokenizer_config.json's tokenizer_class
// MPNetTokenizer[Fast], or no class and a config.json model_type whose registry entry says so. When it is, `options`
// gets MPNetTokenizer's default special tokens (<s>, </s>, [UNK], <pad>, <mask>) before the settings are read.
bool mpnet_vocab_layout(const SettingsFiles& settings, Tokenizer::WordPieceOptions& options);

// tokenizer_config.json / special_tokens_map.json, read into options (fields that are absent keep their values).
void read_tokenizer_config(const SettingsFiles& settings, Tokenizer::WordPieceOptions& options,
                           bool& has_model_max_length);

// vocab.json + merges.txt (transformers' RobertaTokenizer).
std::shared_ptr<const Tokenizer::Impl> load_bpe_files(const std::filesystem::path& vocab_json,
                                                      const std::filesystem::path& merges_txt,
                                                      const Tokenizer::BpeOptions& options);
// tokenizer_config.json / special_tokens_map.json, read into options (absent fields keep their values).
void read_bpe_config(const SettingsFiles& settings, Tokenizer::BpeOptions& options, bool& has_model_max_length);

// Template pieces: a special token, or sequence A (0) / B (1), with their type id.
TemplatePiece special_piece(const std::string& token, std::int32_t type_id);
TemplatePiece sequence_piece(int sequence, std::int32_t type_id);

// BertProcessing: [CLS] A [SEP] and [CLS] A [SEP] B [SEP], type ids 0 then 1.
void set_bert_processing(PostProcessor& pp, const std::pair<std::string, std::int32_t>& cls,
                         const std::pair<std::string, std::int32_t>& sep);

// model_max_length of tokenizer_config.json into `out`: true when set (an integer >= 1); a float (transformers
// writes 1e30 for "no limit") or null keeps `out` and gives false; another type is the wrong-type error.
bool read_model_max_length(const Fields& f, const nlohmann::json& cfg, std::size_t& out);

// RobertaProcessing: <s> A </s> and <s> A </s> </s> B </s>, all type ids 0, ByteLevel offset trimming.
void set_roberta_processing(PostProcessor& pp, const std::pair<std::string, std::int32_t>& cls,
                            const std::pair<std::string, std::int32_t>& sep, bool trim_offsets, bool add_prefix_space);

}  // namespace bertcpp::tokenizer
