// Checkpoint directory: config.json + model.safetensors or the shards of model.safetensors.index.json.
#include "weights/checkpoint.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include <algorithm>
#include <bit>
#include <optional>
#include <system_error>
#include <utility>

#include "bertcpp/error.hpp"
#include "common/file_io.hpp"
#include "common/json_io.hpp"

namespace bertcpp::weights {
namespace {

// Lean loading: once a tensor has been converted, its file pages are not needed again, so they are dropped
// from the process (MADV_DONTNEED on a private read-only file mapping: a later read faults them back in from
// the file, so loading a tensor twice - a tied decoder - still works). Only whole pages inside the tensor are
// released; the pages it shares with its neighbours stay. Peak RSS then stays near the converted weights
// instead of file + converted copy.
void release_mapped_pages(const void* data, std::size_t bytes) {
  static const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (begin + page - 1) / page * page, last = (begin + bytes) / page * page;
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace


namespace {

constexpr std::string_view kConfigName = "config.json";
constexpr std::string_view kSingleName = "model.safetensors";
constexpr std::string_view kIndexName = "model.safetensors.index.json";

// TF-converted checkpoints store LayerNorm scale/shift as gamma/beta.
std::optional<std::string> legacy_name(std::string_view name) {
  constexpr std::string_view weight = "LayerNorm.weight", bias = "LayerNorm.bias";
  if (name.ends_with(weight)) return std::string(name.substr(0, name.size() - 6)) + "gamma";
  if (name.ends_with(bias)) return std::string(name.substr(0, name.size() - 4)) + "beta";
  return std::nullopt;
}

std::string shape_string(std::span<const std::int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// A shard named by the index must be a plain file name inside the checkpoint directory.
bool is_plain_relative(const std::string& name) {
  if (name.empty()) return false;
  const std::filesystem::path p(name);
  if (p.is_absolute()) return false;
  return std::none_of(p.begin(), p.end(), [](const std::filesystem::path& part) { return part == ".."; });
}

}  // namespace

Checkpoint Checkpoint::open(const std::filesystem::path& dir) {
  common::require_directory(dir);
  // Present but not a regular file (a directory, a FIFO, a symlink loop): read_json names what it is.
  if (!common::entry_exists(dir / kConfigName)) throw IoError(dir.string() + ": no config.json");

  Checkpoint ck;
  ck.dir_ = dir;
  ck.config_ = common::read_json_file(dir / kConfigName, common::kMaxSettingsFileBytes);

  // transformers prefers the single file when both are present.
  if (common::entry_exists(dir / kSingleName)) {
    ck.weights_name_ = kSingleName;
    ck.files_.push_back(SafetensorsFile::open(dir / kSingleName));
    for (const auto& [name, view] : ck.files_[0].tensors()) ck.owner_.emplace(name, 0);
    return ck;
  }
  if (!common::entry_exists(dir / kIndexName))
    throw IoError(dir.string() + ": no model.safetensors or model.safetensors.index.json");

  ck.weights_name_ = kIndexName;
  const std::string index_file(kIndexName);
  const nlohmann::json index = common::read_json_object(dir / kIndexName, common::kMaxSettingsFileBytes);
  const auto map_it = index.find("weight_map");
  if (map_it == index.end()) throw FormatError(index_file + ": no \"weight_map\"");
  if (!map_it->is_object())
    throw FormatError(index_file + ": \"weight_map\" is not an object (found " + map_it->type_name() + ")");
  if (map_it->empty()) throw FormatError(index_file + ": \"weight_map\" lists no tensors");

  // Shard name -> index into files_, opened once each, in name order.
  std::map<std::string, std::size_t> shard_index;
  for (const auto& [tensor, shard] : map_it->items()) {
    if (!shard.is_string())
      throw FormatError(index_file + ": tensor '" + tensor + "' maps to " + shard.type_name() +
                        ", expected a shard file name");
    const std::string shard_name = shard.get<std::string>();
    if (!is_plain_relative(shard_name))
      throw FormatError(index_file + ": tensor '" + tensor + "' maps to shard '" + shard_name +
                        "', expected a file name inside " + dir.string());
    if (shard_index.count(shard_name)) continue;
    if (!common::entry_exists(dir / shard_name))
      throw FormatError(index_file + ": shard '" + shard_name + "' (holding tensor '" + tensor +
                        "') does not exist in " + dir.string());
    shard_index.emplace(shard_name, ck.files_.size());
    ck.files_.push_back(SafetensorsFile::open(dir / shard_name));
  }
  for (const auto& [tensor, shard] : map_it->items()) {
    const std::string shard_name = shard.get<std::string>();
    const std::size_t i = shard_index.at(shard_name);
    if (!ck.files_[i].find(tensor))
      throw FormatError(index_file + ": tensor '" + tensor + "' is mapped to shard '" + shard_name +
                        "', which does not contain it");
    ck.owner_.emplace(tensor, i);
  }
  // Like transformers, tensors a shard holds but the index does not list are still loaded.
  for (std::size_t i = 0; i < ck.files_.size(); ++i)
    for (const auto& [name, view] : ck.files_[i].tensors()) ck.owner_.emplace(name, i);
  return ck;
}

const std::filesystem::path& Checkpoint::dir() const noexcept { return dir_; }
const nlohmann::json& Checkpoint::config() const noexcept { return config_; }
const std::string& Checkpoint::prefix() const noexcept { return prefix_; }

const TensorView* Checkpoint::find(std::string_view name) const noexcept {
  const auto it = owner_.find(name);
  return it == owner_.end() ? nullptr : files_[it->second].find(name);
}

std::string Checkpoint::file_of(std::string_view name) const {
  auto it = owner_.find(name);
  if (it == owner_.end()) {
    if (const TensorView* t = resolve(name)) it = owner_.find(t->name);
  }
  if (it == owner_.end()) return weights_name_;
  return files_[it->second].path().filename().string();
}

std::string Checkpoint::select_prefix(std::span<const std::string_view> prefixes, std::string_view probe) {
  std::string tried;
  for (const auto p : prefixes) {
    const std::string name = std::string(p) + std::string(probe);
    const auto legacy = legacy_name(name);
    if (find(name) || (legacy && find(*legacy))) {
      prefix_ = std::string(p);
      return prefix_;
    }
    if (!tried.empty()) tried += ", ";
    tried += "'" + name + "'";
  }
  throw FormatError(weights_name_ + ": no tensor '" + std::string(probe) + "' under any known prefix (tried " +
                    tried + ")");
}

const TensorView* Checkpoint::resolve(std::string_view name) const noexcept {
  try {
    const std::string prefixed = prefix_ + std::string(name);
    if (const TensorView* t = find(prefixed)) return t;
    if (const auto legacy = legacy_name(prefixed))
      if (const TensorView* t = find(*legacy)) return t;
    if (!prefix_.empty()) {
      if (const TensorView* t = find(name)) return t;
      if (const auto legacy = legacy_name(name))
        if (const TensorView* t = find(*legacy)) return t;
    }
  } catch (const std::bad_alloc&) {
  }
  return nullptr;
}

std::vector<float> Checkpoint::load_f32(std::string_view name, std::span<const std::int64_t> shape) const {
  const TensorView* t = resolve(name);
  if (!t) throw FormatError(weights_name_ + ": missing tensor '" + prefix_ + std::string(name) + "'");
  const std::string file = file_of(t->name);
  if (!std::equal(t->shape.begin(), t->shape.end(), shape.begin(), shape.end()))
    throw FormatError(file + ": tensor '" + t->name + "' has shape " + shape_string(t->shape) + ", expected " +
                      shape_string(shape));
  if (t->dtype != DType::F32 && t->dtype != DType::F16 && t->dtype != DType::BF16)
    throw UnsupportedError(file + ": tensor '" + t->name + "' has dtype " + t->dtype_name +
                           "; supported: F32, F16, BF16");
  std::vector<float> out(static_cast<std::size_t>(t->numel()));
  convert_to_f32(t->dtype, t->data, out.size(), out.data());
  release_mapped_pages(t->data, t->nbytes);
  return out;
}

Checkpoint::Checkpoint(Checkpoint&&) noexcept = default;
Checkpoint& Checkpoint::operator=(Checkpoint&&) noexcept = default;
Checkpoint::~Checkpoint() = default;

}  // namespace bertcpp::weights
