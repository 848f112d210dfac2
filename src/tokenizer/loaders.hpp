// Loader internals shared by load.cpp and the per-family loaders.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "tokenizer/json_fields.hpp"
#include "tokenizer/segment_encoder.hpp"
#include "tokenizer/tokenizer_impl.hpp"

namespace bertcpp::tokenizer {

// The model pipeline of a tokenizer.json from its "normalizer", "pre_tokenizer", "model" and "decoder"
// sections, one function per model.type. Added tokens and the post-processor are read by load.cpp.
std::unique_ptr<const SegmentEncoder> wordpiece_from_json(const Fields& f, const nlohmann::json& root);
std::unique_ptr<const SegmentEncoder> bpe_from_json(const Fields& f, const nlohmann::json& root);

// vocab.json + merges.txt (transformers' RobertaTokenizer).
std::shared_ptr<const Tokenizer::Impl> load_bpe_files(const std::filesystem::path& vocab_json,
                                                      const std::filesystem::path& merges_txt,
                                                      const Tokenizer::BpeOptions& options);
// tokenizer_config.json / special_tokens_map.json in dir, read into options (absent fields keep their values).
void read_bpe_config(const std::filesystem::path& dir, Tokenizer::BpeOptions& options, bool& has_model_max_length);

// RobertaProcessing: <s> A </s> and <s> A </s> </s> B </s>, all type ids 0, ByteLevel offset trimming.
void set_roberta_processing(PostProcessor& pp, const std::pair<std::string, std::int32_t>& cls,
                            const std::pair<std::string, std::int32_t>& sep, bool trim_offsets, bool add_prefix_space);

}  // namespace bertcpp::tokenizer
