// A Hugging Face checkpoint directory: config.json plus model.safetensors, or the shards listed in
// model.safetensors.index.json ({"weight_map": {"tensor name": "shard file name"}}).
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "weights/safetensors.hpp"

namespace bertcpp::weights {

class Checkpoint {
 public:
  // Opens dir/config.json (parsed with nlohmann-json) and the safetensors file(s).
  // Throws IoError when dir does not exist or is not a directory, when config.json is missing
  // ("<dir>: no config.json"), or when neither model.safetensors nor model.safetensors.index.json exists;
  // FormatError for invalid JSON (naming the file) or a malformed safetensors file / index
  // (a shard listed in the index that does not exist, a tensor the index puts in a shard that lacks it).
  static Checkpoint open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const noexcept;
  const nlohmann::json& config() const noexcept;

  // The tensor stored under exactly this name, or nullptr. When several shards are open, the one the
  // index names.
  const TensorView* find(std::string_view name) const noexcept;

  // Every stored tensor name, sorted (all shards).
  std::vector<std::string> tensor_names() const;

  // The file (name relative to dir, e.g. "model.safetensors") that holds the tensor, for messages.
  std::string file_of(std::string_view name) const;

  // Chooses the first prefix p (e.g. "bert.", "") for which p + probe exists; later lookups by
  // resolve()/load_f32() try that prefix. Returns the chosen prefix; throws FormatError naming
  // the probe and the files when none matches.
  std::string select_prefix(std::span<const std::string_view> prefixes, std::string_view probe);
  std::string select_prefix(std::initializer_list<std::string_view> prefixes, std::string_view probe) {
    return select_prefix(std::span<const std::string_view>(prefixes.begin(), prefixes.size()), probe);
  }
  const std::string& prefix() const noexcept;

  // The stored tensor for a canonical (un-prefixed) name: prefix + name, then the legacy TF spelling
  // (a trailing "LayerNorm.weight" -> "LayerNorm.gamma", "LayerNorm.bias" -> "LayerNorm.beta"), then the
  // name without prefix. nullptr when absent.
  const TensorView* resolve(std::string_view name) const noexcept;

  // resolve(name), checks that its shape equals `shape`, converts F32 / F16 / BF16 to fp32.
  // Throws FormatError "model.safetensors: missing tensor 'bert.encoder.layer.0...'",
  // "model.safetensors: tensor 'x' has shape [64,48], expected [48,48]", and UnsupportedError
  // "model.safetensors: tensor 'x' has dtype I8; supported: F32, F16, BF16".
  std::vector<float> load_f32(std::string_view name, std::span<const std::int64_t> shape) const;
  std::vector<float> load_f32(std::string_view name, std::initializer_list<std::int64_t> shape) const {
    return load_f32(name, std::span<const std::int64_t>(shape.begin(), shape.size()));
  }

  Checkpoint(Checkpoint&&) noexcept;
  Checkpoint& operator=(Checkpoint&&) noexcept;
  ~Checkpoint();

 private:
  Checkpoint() = default;
  std::filesystem::path dir_;
  nlohmann::json config_;
  std::vector<SafetensorsFile> files_;
  // Tensor name -> index into files_: the shard the index names, else the first shard holding it.
  std::map<std::string, std::size_t, std::less<>> owner_;
  // "model.safetensors" or "model.safetensors.index.json": what messages about absent tensors name.
  std::string weights_name_;
  std::string prefix_;
};

// Converts `count` values of dtype F32 / F16 / BF16 at `src` (little-endian, possibly unaligned) to fp32.
void convert_to_f32(DType dtype, const std::byte* src, std::size_t count, float* dst);

}  // namespace bertcpp::weights
