// Helpers shared by the libFuzzer targets of tests/fuzz (see tests/fuzz/README.md).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "bertcpp/error.hpp"

namespace bertcpp::fuzz {

// An in-memory regular file (memfd) holding `bytes`, opened by path as the loaders do: /proc/self/fd/N.
class MemFile {
 public:
  explicit MemFile(std::string_view bytes) : fd_(::memfd_create("fuzz", MFD_CLOEXEC)) {
    if (fd_ < 0) std::abort();
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n <= 0) std::abort();
      done += static_cast<std::size_t>(n);
    }
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  std::filesystem::path path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

// Splits the input at the separator line "\n--8<--\n" into at most `parts` pieces (missing ones are empty):
// targets that read several files take them from one input.
inline std::vector<std::string_view> split_parts(std::string_view input, std::size_t parts) {
  constexpr std::string_view sep = "\n--8<--\n";
  std::vector<std::string_view> out;
  while (out.size() + 1 < parts) {
    const auto at = input.find(sep);
    if (at == std::string_view::npos) break;
    out.push_back(input.substr(0, at));
    input.remove_prefix(at + sep.size());
  }
  out.push_back(input);
  out.resize(parts);
  return out;
}

// A check that must hold for every input: a failure is a bug, reported as a crash.
inline void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace bertcpp::fuzz
