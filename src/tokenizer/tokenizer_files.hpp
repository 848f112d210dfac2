// Which tokenizer files of a model directory Tokenizer::load reads: one list, also used by BertModel::load to
// decide whether a directory has a tokenizer.
#pragma once

#include <filesystem>

namespace bertcpp::tokenizer {

// True when `dir` holds a file Tokenizer::load reads: spiece.model, sentencepiece.bpe.model, tokenizer.json,
// vocab.txt, or vocab.json with merges.txt.
bool has_tokenizer_files(const std::filesystem::path& dir);

}  // namespace bertcpp::tokenizer
