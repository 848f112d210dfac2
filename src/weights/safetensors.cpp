// safetensors reader: POSIX mmap of the whole file, header validated before any view is handed out.
#include "weights/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "common/checked.hpp"
#include "common/json_io.hpp"

namespace bertcpp::weights {

namespace {

// A header larger than this is not a weights file (the safetensors library uses the same bound).
constexpr std::uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;
constexpr std::uint64_t kLengthPrefixBytes = 8;

struct DTypeName {
  std::string_view name;
  DType dtype;
  std::size_t size;
};

constexpr DTypeName kDTypes[] = {
    {"F32", DType::F32, 4}, {"F16", DType::F16, 2}, {"BF16", DType::BF16, 2}, {"F64", DType::F64, 8},
    {"I64", DType::I64, 8}, {"I32", DType::I32, 4}, {"I16", DType::I16, 2},   {"I8", DType::I8, 1},
    {"U8", DType::U8, 1},   {"BOOL", DType::BOOL, 1},
};

DType parse_dtype(std::string_view name) noexcept {
  for (const auto& d : kDTypes)
    if (d.name == name) return d.dtype;
  return DType::OTHER;
}

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// Builds the messages for one file: "<file>: <what>" and "<file>: tensor '<name>' <what>".
class Reporter {
 public:
  explicit Reporter(const std::filesystem::path& path) : file_(path.filename().string()) {}
  [[noreturn]] void fail(const std::string& what) const { throw FormatError(file_ + ": " + what); }
  [[noreturn]] void fail(const std::string& tensor, const std::string& what) const {
    throw FormatError(file_ + ": tensor '" + tensor + "' " + what);
  }

 private:
  std::string file_;
};

// A JSON value that must be a non-negative integer that fits in int64 (nlohmann stores JSON integers as
// int64 or uint64 depending on their sign and magnitude).
bool as_non_negative(const nlohmann::json& v, std::uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<std::uint64_t>();
  } else if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    if (i < 0) return false;
    out = static_cast<std::uint64_t>(i);
  } else {
    return false;
  }
  return out <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
}

// A JSON value for a message, cut short and printed without recursion: a hostile header must not produce a
// megabyte-long what() nor overflow the stack.
std::string brief_dump(const nlohmann::json& v) { return common::brief_json(v, 64); }

std::uint64_t read_u64_le(const std::byte* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<std::uint64_t>(p[i]);
  return v;
}

// One header entry, before the views are made: its byte range relative to the data block.
struct Entry {
  TensorView view;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

Entry parse_entry(const Reporter& report, const std::string& name, const nlohmann::json& info,
                  std::uint64_t data_size) {
  Entry e;
  e.view.name = name;
  if (!info.is_object()) report.fail(name, "is not a JSON object (found " + std::string(info.type_name()) + ")");

  const auto dtype_it = info.find("dtype");
  if (dtype_it == info.end()) report.fail(name, "has no \"dtype\"");
  if (!dtype_it->is_string())
    report.fail(name, "has a \"dtype\" that is not a string (found " + std::string(dtype_it->type_name()) + ")");
  e.view.dtype_name = dtype_it->get<std::string>();
  e.view.dtype = parse_dtype(e.view.dtype_name);

  const auto shape_it = info.find("shape");
  if (shape_it == info.end()) report.fail(name, "has no \"shape\"");
  if (!shape_it->is_array())
    report.fail(name, "has a \"shape\" that is not an array (found " + std::string(shape_it->type_name()) + ")");
  std::uint64_t numel = 1;
  for (std::size_t i = 0; i < shape_it->size(); ++i) {
    std::uint64_t dim = 0;
    if (!as_non_negative((*shape_it)[i], dim))
      report.fail(name, "has shape entry " + std::to_string(i) + " = " + brief_dump((*shape_it)[i]) +
                            ", expected a non-negative integer");
    const auto product = common::checked_mul(numel, dim);
    if (!product || *product > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      report.fail(name, "has shape " + brief_dump(*shape_it) + " whose element count overflows 64 bits");
    numel = *product;
    e.view.shape.push_back(static_cast<std::int64_t>(dim));
  }

  const auto offsets_it = info.find("data_offsets");
  if (offsets_it == info.end()) report.fail(name, "has no \"data_offsets\"");
  if (!offsets_it->is_array() || offsets_it->size() != 2 || !as_non_negative((*offsets_it)[0], e.begin) ||
      !as_non_negative((*offsets_it)[1], e.end))
    report.fail(name, "has data_offsets " + brief_dump(*offsets_it) + ", expected [begin, end] of non-negative integers");
  if (e.begin > e.end)
    report.fail(name, "has data_offsets [" + std::to_string(e.begin) + "," + std::to_string(e.end) +
                          "] with begin > end");
  if (e.end > data_size)
    report.fail(name, "has data_offsets [" + std::to_string(e.begin) + "," + std::to_string(e.end) +
                          "] past the end of the data block (" + std::to_string(data_size) + " bytes)");

  // Unknown dtypes have no known element size: their byte count cannot be checked, and they cannot be
  // loaded either (Checkpoint::load_f32 rejects them), so the range check above is all they get.
  const std::size_t elem = dtype_size(e.view.dtype);
  if (elem != 0) {
    const auto expected = common::checked_mul(numel, elem);
    if (!expected)
      report.fail(name, "has shape " + shape_string(e.view.shape) + " whose byte size overflows 64 bits");
    if (*expected != e.end - e.begin)
      report.fail(name, "has " + std::to_string(e.end - e.begin) + " bytes, expected " + std::to_string(*expected) +
                            " (" + e.view.dtype_name + " x " + shape_string(e.view.shape) + ")");
  }
  e.view.nbytes = static_cast<std::size_t>(e.end - e.begin);
  return e;
}

}  // namespace

std::size_t dtype_size(DType dtype) noexcept {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d.size;
  return 0;
}

std::string_view to_string(DType dtype) noexcept {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d.name;
  return "OTHER";
}

std::int64_t TensorView::numel() const noexcept {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;  // validated at open: no overflow
  return n;
}

struct SafetensorsFile::Mapping {
  void* addr = nullptr;
  std::size_t size = 0;

  Mapping(void* a, std::size_t s) : addr(a), size(s) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (addr) ::munmap(addr, size);
  }
  const std::byte* bytes() const { return static_cast<const std::byte*>(addr); }
};

namespace {

// Closes a file descriptor on scope exit; the mapping stays valid after close.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

std::string errno_text() { return std::strerror(errno); }

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  const std::string file = path.filename().string();
  const Reporter report(path);

  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer (it has no effect on a regular file).
  FdGuard fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (fd.fd < 0) throw IoError(path.string() + ": cannot open: " + errno_text());
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) throw IoError(path.string() + ": cannot stat: " + errno_text());
  if (S_ISDIR(st.st_mode)) throw IoError(path.string() + ": not a regular file (a directory)");
  if (!S_ISREG(st.st_mode)) throw IoError(path.string() + ": not a regular file");

  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  if (file_size < kLengthPrefixBytes)
    report.fail("file has " + std::to_string(file_size) + " bytes, expected at least 8 (header length)");

  void* addr = ::mmap(nullptr, static_cast<std::size_t>(file_size), PROT_READ, MAP_PRIVATE, fd.fd, 0);
  if (addr == MAP_FAILED) throw IoError(path.string() + ": cannot mmap: " + errno_text());

  SafetensorsFile result;
  result.path_ = path;
  result.mapping_ = std::make_unique<Mapping>(addr, static_cast<std::size_t>(file_size));
  const std::byte* base = result.mapping_->bytes();

  const std::uint64_t header_len = read_u64_le(base);
  if (header_len < 2 || header_len > kMaxHeaderBytes)
    report.fail("header length " + std::to_string(header_len) + " is outside [2, " +
                std::to_string(kMaxHeaderBytes) + "]");
  if (header_len > file_size - kLengthPrefixBytes)
    report.fail("header length " + std::to_string(header_len) + " exceeds the " +
                std::to_string(file_size - kLengthPrefixBytes) + " bytes after the length prefix");
  const std::uint64_t data_start = kLengthPrefixBytes + header_len;
  const std::uint64_t data_size = file_size - data_start;

  const char* header_begin = reinterpret_cast<const char*>(base + kLengthPrefixBytes);
  std::string reason;
  std::optional<nlohmann::json> parsed =
      common::try_parse_json(std::string_view(header_begin, static_cast<std::size_t>(header_len)), reason);
  if (!parsed) report.fail("header is not valid JSON: " + reason);
  const nlohmann::json header = std::move(*parsed);
  if (!header.is_object())
    report.fail("header is not a JSON object (found " + std::string(header.type_name()) + ")");

  std::vector<Entry> entries;
  entries.reserve(header.size());
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    entries.push_back(parse_entry(report, name, info, data_size));
  }

  // Overlap check: sort by range, each tensor must start at or after the end of the one before.
  // Empty tensors occupy no bytes and cannot overlap anything.
  std::vector<const Entry*> by_offset;
  for (const auto& e : entries)
    if (e.end > e.begin) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Entry* a, const Entry* b) { return a->begin < b->begin || (a->begin == b->begin && a->end < b->end); });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const Entry& prev = *by_offset[i - 1];
    const Entry& cur = *by_offset[i];
    if (cur.begin < prev.end)
      report.fail(cur.view.name, "has data_offsets [" + std::to_string(cur.begin) + "," + std::to_string(cur.end) +
                                     "] overlapping tensor '" + prev.view.name + "' at [" +
                                     std::to_string(prev.begin) + "," + std::to_string(prev.end) + "]");
  }

  for (auto& e : entries) {
    e.view.data = base + data_start + e.begin;
    std::string key = e.view.name;
    result.tensors_.emplace(std::move(key), std::move(e.view));
  }
  return result;
}

const std::filesystem::path& SafetensorsFile::path() const noexcept { return path_; }

const TensorView* SafetensorsFile::find(std::string_view name) const noexcept {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const std::map<std::string, TensorView, std::less<>>& SafetensorsFile::tensors() const noexcept { return tensors_; }

SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

}  // namespace bertcpp::weights
