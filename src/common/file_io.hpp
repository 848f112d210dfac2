// Reading files that come from a model directory: regular files only, a size cap per kind of file, errors that
// name the file. A FIFO, a device (/dev/zero), a directory or a symlink loop is an IoError at once, never a hang
// or an unbounded read. The caps are stated in docs/reliability.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace bertcpp::common {

inline constexpr std::uint64_t kMiB = 1024 * 1024;
// config.json, tokenizer_config.json, special_tokens_map.json, model.safetensors.index.json, modules.json,
// sentence_bert_config.json, 1_Pooling/config.json: small settings files (a config with a huge id2label is a few MB).
inline constexpr std::uint64_t kMaxSettingsFileBytes = 64 * kMiB;
// tokenizer.json, vocab.txt, vocab.json, merges.txt, spiece.model / sentencepiece.bpe.model: the largest
// multilingual tokenizers are ~20 MB.
inline constexpr std::uint64_t kMaxTokenizerFileBytes = 512 * kMiB;

// Whether `path` names a directory entry of any type (a dangling or looping symlink included: reading it then
// gives an error naming it, rather than the file silently counting as absent). IoError naming the path when
// that cannot be decided; when a directory on the way cannot be searched, the IoError names that directory
// ("<dir>: cannot access: Permission denied").
bool entry_exists(const std::filesystem::path& path);

// IoError unless `dir` is a directory that can be searched: "<dir>: no such directory", "<dir>: not a directory",
// "<dir>: cannot access: <reason>" (a symlink loop, a permission denied on the way).
void require_directory(const std::filesystem::path& dir);

// The whole content of the regular file `path`, at most `max_bytes` of it.
// IoError "<path>: cannot open: <reason>" (missing, permission, symlink loop), "<path>: is a directory, expected
// a file", "<path>: is a FIFO / device / socket, expected a regular file", "<path>: read error: <reason>";
// FormatError "<path>: is N bytes, more than the M accepted for this kind of file".
std::string read_regular_file(const std::filesystem::path& path, std::uint64_t max_bytes);

// "64 MiB", "100000000 bytes": a size for messages.
std::string size_text(std::uint64_t bytes);

}  // namespace bertcpp::common
