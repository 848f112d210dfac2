// safetensors reader: mmap the file, parse and validate the JSON header, hand out views of the tensors.
//
// File layout (https://github.com/huggingface/safetensors): u64 little-endian header length N, then N bytes of
// JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {...}},
// then the data block; offsets are relative to the start of the data block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bertcpp::weights {

enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL, OTHER };

// Bytes per element, 0 for OTHER.
std::size_t dtype_size(DType dtype) noexcept;
// The header spelling ("F32", "BF16", ...), "OTHER" for OTHER.
std::string_view to_string(DType dtype) noexcept;

struct TensorView {
  std::string name;
  DType dtype = DType::OTHER;
  std::string dtype_name;              // as written in the header, e.g. "F16"
  std::vector<std::int64_t> shape;
  const std::byte* data = nullptr;     // into the mapping; valid while the owning file is alive
  std::size_t nbytes = 0;
  std::int64_t numel() const noexcept;
};

// A read-only memory mapping of one safetensors file. Movable, not copyable.
class SafetensorsFile {
 public:
  // Maps and validates: header length sane (>= 2, <= 100 MB, within the file), header a JSON object,
  // every entry with a string dtype, a shape of non-negative ints, data_offsets [begin, end] with
  // begin <= end <= data size, end - begin == numel * dtype size (checked arithmetic), tensors not
  // overlapping. Throws IoError (cannot open/map) or FormatError naming the file and tensor.
  static SafetensorsFile open(const std::filesystem::path& path);

  const std::filesystem::path& path() const noexcept;
  // nullptr when absent.
  const TensorView* find(std::string_view name) const noexcept;
  const std::map<std::string, TensorView, std::less<>>& tensors() const noexcept;

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

 private:
  struct Mapping;
  SafetensorsFile() = default;
  std::filesystem::path path_;
  std::unique_ptr<Mapping> mapping_;
  std::map<std::string, TensorView, std::less<>> tensors_;
};

}  // namespace bertcpp::weights
